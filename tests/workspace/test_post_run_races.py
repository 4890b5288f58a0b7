"""Runs that end while other processes archive, delete or collect garbage in the same dataset."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from nirs4all_workspace.errors import InputError
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.workspace import Workspace
from nirs4all_workspace.workspace.archive import archive_runs, plan_runs_archive
from nirs4all_workspace.workspace.retention import delete_pipelines, plan_deletion
from nirs4all_workspace.workspace.verify import verify
from tests.fakes import FakeDataset, FakeEngine

SESSIONS = 60


def _remover(root: str, stop, counts) -> None:
    """Archive or delete whatever is finished, the best included, until told to stop."""
    ws = Workspace(root)
    turn = 0
    counts.put(0)  # ready
    while not stop.is_set():
        turn += 1
        try:
            if turn % 2:
                delete_pipelines(ws, plan_deletion(ws, "fake"), force=True, binaries_min_age_s=0)
            else:
                archive_runs(ws, plan_runs_archive(ws, "fake"), binaries_min_age_s=0)
            counts.put(1)
        except InputError:  # nothing finished to archive right now
            time.sleep(0.001)


@pytest.mark.slow
def test_runs_end_cleanly_while_another_process_archives_and_deletes_their_pipelines(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace.open(root)
    context = multiprocessing.get_context("spawn")
    stop, counts = context.Event(), context.Queue()
    remover = context.Process(target=_remover, args=(str(root), stop, counts))
    remover.start()
    assert counts.get(timeout=60) == 0  # the remover is running before the first run starts
    failures = []
    try:
        for i in range(SESSIONS):
            try:
                run_experiment(
                    ws, FakeEngine(), FakeDataset(), {"scales": [1.0, 1.5]}, session=f"s{i}", plots="none"
                )
            except Exception as exc:  # noqa: BLE001 - the test counts every failure
                failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        stop.set()
        remover.join(timeout=30)
    removals = 0
    while not counts.empty():
        removals += counts.get()
    assert removals >= 10, removals  # the remover really raced the runs
    assert failures == []
    problems = [p for p in verify(ws).problems if p.check != "incomplete-pipeline"]
    assert problems == []
