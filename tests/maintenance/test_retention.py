from datetime import timedelta

import pytest

from nirs4all_workspace.errors import DeletionRefused, InvalidNameError, PipelineNotFound
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.maintenance import retention
from nirs4all_workspace.maintenance.archive_pipeline import archive_pipeline
from nirs4all_workspace.maintenance.retention import delete_pipelines, plan_deletion
from nirs4all_workspace.maintenance.verify import verify


def _folders(workspace):
    return [f.folder for f in workspace.manifests.list_folders("fake")]


def test_the_only_copy_of_the_best_is_not_deleted(filled):
    before = _folders(filled)
    plan = plan_deletion(filled, "fake", session="a")
    assert plan.deletes_best and "nirs4all catalog archive fake/0005" in plan.refusal
    with pytest.raises(DeletionRefused, match="has no archived copy"):
        delete_pipelines(filled, plan)
    assert _folders(filled) == before


def test_after_archiving_the_best_the_deletion_keeps_everything_consistent(filled, fake_engine, fake_dataset):
    rows = filled.predictions.count()
    archived = archive_pipeline(filled, "fake/5")
    plan = plan_deletion(filled, "fake", session="a")
    assert plan.refusal is None and len(plan.pipelines) == 10
    report = delete_pipelines(filled, plan)
    assert [int(f[:4]) for f in _folders(filled)] == list(range(11, 21))
    assert report.best_before.startswith("0005") and report.best_after.startswith("0015")
    assert [p.name for p in filled.layout.best_csv_files("fake")] == [f"best_{report.best_after}.csv"]
    assert filled.predictions.count() == rows  # the catalog survives deletion of runs
    deleted = filled.predictions.frame().filter(pipeline_id=archived.pipeline_id)
    assert deleted["archived"].all() and deleted["pipeline_folder"][0].startswith("0005")
    assert not list(filled.layout.dataset_dir("fake").glob("_trash_*"))
    again = run_experiment(filled, fake_engine, fake_dataset, {"scales": [1.0]}, session="c", plots="none")
    assert again.summary.first_number == 21  # numbers are never reused
    assert verify(filled).ok


def test_force_deletes_the_best_without_a_copy(filled):
    report = delete_pipelines(filled, plan_deletion(filled, "fake"), force=True, binaries_min_age_s=0)
    assert len(report.deleted) == 20 and report.best_after is None
    assert filled.layout.best_csv_files("fake") == []
    assert not any(filled.layout.binaries_dir("fake").iterdir())
    assert filled.manifests.high_water("fake") == 20
    assert verify(filled).ok


def test_selection_by_session_and_age_and_never_incomplete(filled):
    handle = filled.manifests.allocate("fake", "ab" * 32, "running", "b", "fake")  # no pipeline.json yet
    plan = plan_deletion(filled, "fake", session="b")
    assert [p.number for p in plan.pipelines] == list(range(11, 21))
    assert plan.skipped_incomplete == [handle.folder]
    assert plan_deletion(filled, "fake", older_than=timedelta(days=1)).pipelines == []
    assert len(plan_deletion(filled, "fake", older_than=timedelta(0)).pipelines) == 20
    delete_pipelines(filled, plan)
    assert handle.paths.dir.is_dir()


def test_a_crash_after_the_rename_leaves_only_trash(filled, monkeypatch):
    monkeypatch.setattr(retention.shutil, "rmtree", lambda *a, **k: None)  # "killed" before removing
    folders = _folders(filled)
    retention.remove_pipeline_folders(filled, "fake", folders[:2])
    monkeypatch.undo()
    assert _folders(filled) == folders[2:]  # never a half-deleted folder that looks like a pipeline
    assert len(list(filled.layout.dataset_dir("fake").glob("_trash_*"))) == 2
    report = verify(filled, repair=True)
    assert {p.check for p in report.problems} == {"trash-folder"} and report.ok
    assert not list(filled.layout.dataset_dir("fake").glob("_trash_*"))


@pytest.mark.parametrize(("dataset", "error"), [("nope", PipelineNotFound), ("../x", InvalidNameError)])
def test_bad_datasets_are_refused(filled, dataset, error):
    with pytest.raises(error):
        plan_deletion(filled, dataset)
