"""A run killed between two catalog batches: the next run restores the missing rows first."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.cli import main
from nirs4all_workspace.engines import registry
from nirs4all_workspace.maintenance.unlisted import unlisted_pipelines

REPO = Path(__file__).resolve().parents[2]
KS = sorted(random.Random(20261130).sample(range(1, 25), 3))


def _killed_run(root: Path, k: int) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "tests.catalog.kill_worker", str(root), str(k)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    ) as worker:
        try:
            assert worker.stdout.readline().strip() == f"saved {k}"
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)


def _query(root: Path, sql: str, capsys) -> list[dict]:
    assert main(["catalog", "query", sql, "--json", "--workspace", str(root)]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("k", KS)
def test_the_next_run_restores_the_rows_of_a_killed_run_first(tmp_path, monkeypatch, capsys, k):
    monkeypatch.setitem(registry._BUILTIN, "fake", "tests.fakes:FakeEngine")
    root = tmp_path / "ws"
    _killed_run(root, k)
    ws = Workspace.open(root)
    assert len(unlisted_pipelines(ws, "fake")) == k  # the batch died with the process

    assert main(["catalog", "best", "fake", "--workspace", str(root)]) in (0, 2)
    assert f"{k} finished pipelines of 'fake' are not in the catalog yet" in capsys.readouterr().err

    grid = tmp_path / "grid.yaml"
    grid.write_text("scales: [1.0, 2.0]\n")
    status = main(
        [
            "run",
            "--engine",
            "fake",
            "--pipeline",
            str(grid),
            "--session",
            "next",
            "--plots",
            "none",
            "--workspace",
            str(root),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert f"restored the catalog rows of {k} pipelines" in out
    assert out.index("restored the catalog rows") < out.index("top ")
    assert unlisted_pipelines(ws, "fake") == []

    expected = 0
    for folder in ws.manifests.list_folders("fake"):
        record = ws.manifests.read_pipeline("fake", folder.folder)
        if record["status"] == "completed":
            metrics = json.loads(ws.layout.pipeline("fake", folder.folder).metrics_json.read_text())
            expected += len([p for p in ("train", "val", "test") if p in metrics])
    rows = _query(root, "SELECT count(*) FROM predictions WHERE status = 'completed'", capsys)
    assert rows[0]["count"] == expected
    ids = _query(root, "SELECT count(*) AS n, count(DISTINCT prediction_id) AS u FROM predictions", capsys)
    assert ids[0]["n"] == ids[0]["u"]


def test_a_library_save_restores_the_rows_first(tmp_path, capsys):
    root = tmp_path / "ws"
    _killed_run(root, 4)
    status = main(["library", "save", "fake/1", "--name", "first", "--workspace", str(root)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "restored the catalog rows of 4 pipelines" in captured.err
    assert unlisted_pipelines(Workspace.open(root), "fake") == []


def test_a_catalog_that_lists_every_number_up_to_the_mark_spares_the_folder_listing(filled, monkeypatch):
    """100,000 folders: when the catalog holds every number the dataset ever allocated, no
    folder can be unlisted, so the check does not list ``runs/<dataset>/``."""
    from nirs4all_workspace.maintenance import unlisted

    def no_listing(*_args):
        raise AssertionError("the dataset folder was listed")

    monkeypatch.setattr(unlisted, "_folder_names", no_listing)
    assert unlisted_pipelines(filled, "fake") == []


def test_a_gap_in_the_numbers_falls_back_to_the_listing_and_finds_the_unlisted(filled, monkeypatch):
    import shutil

    from nirs4all_workspace.engines.base import PipelineResult, PipelineSpec
    from nirs4all_workspace.maintenance import unlisted

    # Number 21 allocated and never used (a gap), then 22 saved without its catalog rows.
    gap = filled.manifests.allocate("fake", "f" * 64, "gap", "c", "fake")
    shutil.rmtree(gap.paths.dir)
    spec = PipelineSpec(config={"x": 1}, name="lost", params={}, model="m", preprocessing=None, index=0)
    result = PipelineResult(status="failed", task="regression", metrics={}, predictions=[], error="boom")
    saved = filled.saver.save("fake", spec, result, session="c", engine="fake")
    listed = []
    real = unlisted._folder_names
    monkeypatch.setattr(unlisted, "_folder_names", lambda root: listed.append(root) or real(root))
    assert unlisted_pipelines(filled, "fake") == [saved.handle.folder]
    assert listed
