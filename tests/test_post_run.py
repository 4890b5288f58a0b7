"""Post-run steps: registered as entry points, run in name order, after the pipelines are stored."""

from __future__ import annotations

import pytest

from nirs4all_workspace.errors import InputError
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.post_run import RunEnd, check_post_run_options, post_run_steps
from tests.conftest import LIFECYCLE_GRID


def test_the_registered_steps_are_summary_report_and_exports_in_that_order():
    names = [f"{step.__module__}:{step.__name__}" for step in post_run_steps()]
    assert names == [
        "nirs4all_workspace.stored_results:summary_step",
        "nirs4all_workspace.reports.run_outputs:report_step",
        "nirs4all_workspace.library.exports:exports_step",
    ]


def test_a_step_of_ones_own_runs_after_the_pipelines_are_stored(workspace, fake_engine, fake_dataset):
    seen: list[RunEnd] = []

    def count_stored(end: RunEnd) -> None:
        seen.append(end)
        assert len(end.workspace.manifests.list_folders(end.report.dataset)) == len(end.report.saved)

    report = run_experiment(
        workspace, fake_engine, fake_dataset, LIFECYCLE_GRID, plots="none", post_run=(count_stored,)
    )
    assert len(seen) == 1 and seen[0].report is report and seen[0].options == {"plots": "none"}
    # only the given steps ran: no session report, no export
    assert not (workspace.root / "exports" / "session_reports").exists()


def test_a_steps_options_are_checked_before_anything_runs(workspace, fake_engine, fake_dataset):
    with pytest.raises(InputError, match="--plots"):
        check_post_run_options({"plots": "some"})
    with pytest.raises(InputError, match="--plots"):
        run_experiment(workspace, fake_engine, fake_dataset, LIFECYCLE_GRID, plots="some")
    assert not (workspace.root / "runs").exists()
