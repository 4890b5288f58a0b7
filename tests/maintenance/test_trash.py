"""The trash (library level): move, restore, purge, and what an interrupted move leaves."""

from __future__ import annotations

import pytest

from nirs4all_workspace.errors import InputError, IntegrityError
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.maintenance import trash
from nirs4all_workspace.maintenance.retention import plan_deletion
from nirs4all_workspace.maintenance.unlisted import restore_unlisted, unlisted_pipelines
from nirs4all_workspace.maintenance.verify import verify
from nirs4all_workspace.workspace.trash import read_record, tree_digest
from tests.snapshots import snapshot


def _folders(ws):
    return [f.folder for f in ws.manifests.list_folders("fake")]


def _state(ws):
    return snapshot(ws.layout.dataset_dir("fake"), skip=("run.log",))


def _delete_session(ws, session):
    plan = plan_deletion(ws, "fake", session=session)
    return trash.move_to_trash(ws, "fake", plan.pipelines, f"session {session}")


def test_a_deleted_session_is_out_of_rankings_and_comes_back_identical(filled):
    before = _state(filled)
    best_row = filled.predictions.best("fake")
    report = _delete_session(filled, "a")  # holds the best, 0005
    assert report.best_before.startswith("0005") and report.best_after.startswith("0015")
    assert [int(f[:4]) for f in _folders(filled)] == list(range(11, 21))
    record = read_record(filled.layout.trash_record("fake", report.entry))
    assert [p.number for p in record.pipelines] == list(range(1, 11)) and record.best_folder == best_row[
        "pipeline_folder"
    ]
    for p in record.pipelines:  # each folder as it was, its digest recorded before it moved
        assert tree_digest(filled.layout.trashed_pipeline("fake", report.entry, p.folder).dir) == p.sha256
    flagged = filled.predictions.frame(dataset="fake").filter(trashed=True)
    assert set(flagged["pipeline_number"]) == set(range(1, 11))
    assert filled.predictions.best("fake")["pipeline_folder"].startswith("0015")
    assert unlisted_pipelines(filled, "fake") == [] and restore_unlisted(filled, "fake") == 0
    assert verify(filled).ok

    restored = trash.restore(filled, trash.plan_restore(filled, "fake", session="a"))
    assert len(restored.restored) == 10 and restored.best_after.startswith("0005")
    assert _state(filled) == before  # best.json and best_*.csv included
    assert filled.predictions.best("fake")["prediction_id"] == best_row["prediction_id"]
    assert not filled.predictions.frame(dataset="fake")["trashed"].any()
    assert verify(filled).ok


def test_numbers_in_the_trash_are_never_reused(filled, fake_engine, fake_dataset):
    _delete_session(filled, "b")
    filled.layout.high_water_file("fake").unlink()  # only the trash remembers 11-20
    again = run_experiment(filled, fake_engine, fake_dataset, {"scales": [1.0]}, session="c", plots="none")
    assert again.summary.first_number == 21


def test_restore_of_nothing_says_what_is_in_the_trash(filled):
    with pytest.raises(InputError, match="its trash is empty"):
        trash.plan_restore(filled, "fake")
    _delete_session(filled, "b")
    with pytest.raises(InputError, match="sessions in the trash: b"):
        trash.plan_restore(filled, "fake", session="a")
    with pytest.raises(InputError, match="nothing of it is in the trash"):
        trash.plan_restore(filled, "fake", ref="3")
    assert [p.number for p in trash.plan_restore(filled, "fake", ref="13").pipelines] == [13]


def test_a_folder_changed_in_the_trash_is_not_restored(filled):
    report = trash.move_to_trash(filled, "fake", [trash.select_pipeline(filled, "fake", "12")], "pipeline")
    [folder] = report.moved
    metrics = filled.layout.trashed_pipeline("fake", report.entry, folder).metrics_json
    metrics.write_text(metrics.read_text() + " ")
    with pytest.raises(IntegrityError, match="changed while in the trash"):
        trash.restore(filled, trash.plan_restore(filled, "fake", ref="12"))
    assert folder not in _folders(filled)


def _interrupted(monkeypatch, after: int):
    """Make folder renames fail after ``after`` of them: a process killed mid-move."""
    from pathlib import Path

    calls = {"n": 0}
    real = Path.rename

    def rename(self, target):
        calls["n"] += 1
        if calls["n"] > after:
            raise KeyboardInterrupt
        return real(self, target)

    monkeypatch.setattr(Path, "rename", rename)


def test_an_interrupted_deletion_is_reported_and_finished_by_repair(filled, monkeypatch):
    plan = plan_deletion(filled, "fake", session="a")
    _interrupted(monkeypatch, after=3)
    with pytest.raises(KeyboardInterrupt):
        trash.move_to_trash(filled, "fake", plan.pipelines, "session a")
    monkeypatch.undo()
    assert len(_folders(filled)) == 17  # three moved, seven not yet
    report = verify(filled)
    [problem] = [p for p in report.problems if p.check == "trash-entry"]
    assert "deletion interrupted" in problem.message and problem.repairable
    repaired = verify(filled, repair=True)
    assert repaired.ok, repaired.remaining
    assert [int(f[:4]) for f in _folders(filled)] == list(range(11, 21))
    assert filled.best.current("fake").folder.startswith("0015")


def test_an_interrupted_restore_is_finished_by_running_it_again(filled, monkeypatch):
    before = _state(filled)
    _delete_session(filled, "a")
    plan = trash.plan_restore(filled, "fake", session="a")
    _interrupted(monkeypatch, after=4)
    with pytest.raises(KeyboardInterrupt):
        trash.restore(filled, plan)
    monkeypatch.undo()
    assert len(_folders(filled)) == 14
    problems = verify(filled).problems
    assert any(p.check == "trash-entry" and "restore interrupted" in p.message for p in problems)
    trash.restore(filled, trash.plan_restore(filled, "fake", session="a"))  # idempotent: finishes it
    assert _state(filled) == before
    assert verify(filled).ok


def test_two_deletions_of_the_same_pipelines_never_record_one_folder_twice(filled):
    stale = plan_deletion(filled, "fake", session="b").pipelines  # planned by two processes
    _delete_session(filled, "b")
    with pytest.raises(InputError, match="another process deleted it meanwhile"):
        trash.move_to_trash(filled, "fake", stale, "session b")
    assert len(trash.trash_entries(filled, "fake")) == 1
    assert verify(filled).ok


def test_reports_leave_deleted_pipelines_out_and_never_score_the_flag(filled):
    from nirs4all_workspace.reports.pipelines import catalog_rows

    _delete_session(filled, "a")  # holds the best, 0005
    rows = catalog_rows(filled.predictions, "fake")
    assert sorted(r.number for r in rows) == list(range(11, 21))
    assert all("trashed" not in scores for r in rows for scores in r.scores.values())
