"""Runs that end while other processes archive, delete or collect garbage in the same dataset."""

from __future__ import annotations

import multiprocessing
import time
import traceback

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.errors import InputError
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.maintenance.archive_runs import archive_runs, plan_runs_archive
from nirs4all_workspace.maintenance.retention import delete_pipelines, plan_deletion
from nirs4all_workspace.maintenance.verify import verify
from tests.fakes import FakeDataset, FakeEngine

SESSIONS = 60


def _remover(root: str, ready, stop, counts) -> None:
    """Archive or delete whatever is finished, the best included, until told to stop."""
    ws = Workspace(root)
    turn = 0
    ready.set()
    while not stop.is_set():
        turn += 1
        try:
            if turn % 2:
                delete_pipelines(ws, plan_deletion(ws, "fake"), force=True, binaries_min_age_s=0)
            else:
                archive_runs(ws, plan_runs_archive(ws, "fake"), binaries_min_age_s=0)
            with counts.get_lock():
                counts.value += 1
        except InputError:  # nothing finished to archive right now
            time.sleep(0.001)


@pytest.mark.slow
def test_runs_end_cleanly_while_another_process_archives_and_deletes_their_pipelines(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace.open(root)
    context = multiprocessing.get_context("spawn")
    ready, stop, counts = context.Event(), context.Event(), context.Value("i", 0)
    remover = context.Process(target=_remover, args=(str(root), ready, stop, counts))
    remover.start()
    assert ready.wait(timeout=60)  # the remover is running before the first run starts
    failures = []
    try:
        for i in range(SESSIONS):
            try:
                run_experiment(
                    ws, FakeEngine(), FakeDataset(), {"scales": [1.0, 1.5]}, session=f"s{i}", plots="none"
                )
            except Exception as exc:  # the test counts every failure
                failures.append(f"{type(exc).__name__}: {exc} {traceback.format_exc()[-1500:]}")
    finally:
        stop.set()
        remover.join(timeout=30)
    assert remover.exitcode == 0
    removals = counts.value
    assert removals >= 10, removals  # the remover really raced the runs
    assert failures == []
    problems = [p for p in verify(ws).problems if p.check != "incomplete-pipeline"]
    assert problems == []


def _collector(root: str, ready, stop, counts) -> None:
    """``workspace gc --min-age 0`` in a loop, until told to stop."""
    from nirs4all_workspace.maintenance.gc import collect_garbage

    ws = Workspace(root)
    ready.set()
    while not stop.is_set():
        collect_garbage(ws, min_age_s=0)
        with counts.get_lock():
            counts.value += 1


@pytest.mark.slow
def test_gc_at_age_zero_during_runs_never_removes_a_binary_a_pipeline_refers_to(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace.open(root)
    context = multiprocessing.get_context("spawn")
    ready, stop, counts = context.Event(), context.Event(), context.Value("i", 0)
    collector = context.Process(target=_collector, args=(str(root), ready, stop, counts))
    collector.start()
    assert ready.wait(timeout=60)
    try:
        for i in range(SESSIONS // 2):
            # New scales each session (new binaries) and one shared (a reused binary).
            scales = [1.0, 1.0 + (i + 1) / 100, 2.0 + (i + 1) / 100]
            run_experiment(ws, FakeEngine(), FakeDataset(), {"scales": scales}, session=f"s{i}", plots="none")
            if i % 5 == 4:  # leave unreferenced binaries behind for gc to find
                delete_pipelines(ws, plan_deletion(ws, "fake", session=f"s{i - 1}"), force=True)
    finally:
        stop.set()
        collector.join(timeout=30)
    assert collector.exitcode == 0
    passes = counts.value
    assert passes >= 10, passes  # gc really ran during the runs
    missing = [
        (folder.folder, ref["file"])
        for folder in ws.manifests.list_folders("fake")
        for ref in ws.manifests.read_pipeline("fake", folder.folder)["artifacts"]
        if not ws.layout.binary_path("fake", ref["file"]).is_file()
    ]
    assert missing == []
    folders = [f.folder for f in ws.manifests.list_folders("fake")]
    assert verify(ws).problems == [], (folders, ws.best.current("fake"))
