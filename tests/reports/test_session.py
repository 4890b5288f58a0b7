"""The session report and the plots drawn at the end of a run."""

from __future__ import annotations

import shutil

import pytest

from nirs4all_workspace.errors import InputError, PipelineNotFound
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.reports import run_outputs
from nirs4all_workspace.reports.session import write_session_report
from tests.reports.conftest import SESSIONS, assert_self_contained, parse

GRID = {"scales": [0.5, 1.0, 2.0], "offsets": [0.0, 0.5], "fail_on": [2.0]}


def outputs_of(workspace, dataset="fake"):
    return {
        p.parent.parent.name: sorted(f.name for f in p.parent.iterdir())
        for p in workspace.layout.dataset_dir(dataset).glob("*/outputs/*.png")
    }


def test_a_run_draws_the_best_pipelines_plots_and_writes_the_report(workspace, fake_engine, fake_dataset):
    report = run_experiment(workspace, fake_engine, fake_dataset, GRID, session="a")
    outputs = report.outputs
    assert outputs.error is None and outputs.seconds > 0
    assert outputs_of(workspace) == {report.best.folder: ["pred_vs_true.png", "residuals.png"]}
    page = workspace.layout.session_report("fake")
    assert outputs.report == page and page.is_file()
    tables = parse(page).rows
    assert tables["pipelines"] == 6 and tables["failures"] == 2 and tables["sessions"] == 1
    text = page.read_text(encoding="utf-8")
    assert "scale 2.0 is not allowed" in text  # the failure's error
    assert "heat map" in text  # scale x offset is a two-parameter grid
    assert text.count("data:image/png;base64,") == 2 + 2 + 1  # best plots, one per parameter, heat map
    assert_self_contained(page)


def test_plots_all_draws_every_completed_pipeline_and_none_draws_nothing(tmp_path, fake_engine, fake_dataset):
    from nirs4all_workspace.facade import Workspace

    every = Workspace.open(tmp_path / "all")
    run_experiment(every, fake_engine, fake_dataset, GRID, plots="all")
    assert len(outputs_of(every)) == 4
    nothing = Workspace.open(tmp_path / "none")
    report = run_experiment(nothing, fake_engine, fake_dataset, GRID, plots="none")
    assert outputs_of(nothing) == {} and report.outputs.plots == []
    text = report.outputs.report.read_text(encoding="utf-8")
    assert "data:image" not in text and "--plots none" in text
    with pytest.raises(InputError, match="--plots"):
        run_experiment(nothing, fake_engine, fake_dataset, GRID, plots="some")


def test_a_failing_plot_does_not_fail_the_run(workspace, fake_engine, fake_dataset, monkeypatch):
    def broken(data):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(run_outputs, "pipeline_figures", broken)
    report = run_experiment(workspace, fake_engine, fake_dataset, GRID, session="a")
    assert report.summary.completed == 4
    assert report.outputs.error == "RuntimeError: no fonts"
    assert "plots or report of session a failed: RuntimeError: no fonts" in (
        workspace.layout.run_log("fake").read_text()
    )


def test_the_report_covers_the_latest_session_or_the_one_asked_for(workspace, fake_engine, fake_dataset):
    run_experiment(workspace, fake_engine, fake_dataset, GRID, session="first")
    run_experiment(workspace, fake_engine, fake_dataset, {"scales": [1.0, 3.0]}, session="second")
    page = workspace.layout.session_report("fake")
    assert parse(page).rows["pipelines"] == 2 and parse(page).rows["sessions"] == 2
    write_session_report(workspace, "fake", "first")
    assert parse(page).rows["pipelines"] == 6
    text = page.read_text(encoding="utf-8")
    assert "session first" in text
    with pytest.raises(PipelineNotFound, match="no session 'third'"):
        write_session_report(workspace, "fake", "third")
    with pytest.raises(PipelineNotFound, match="no pipeline of dataset 'other'"):
        write_session_report(workspace, "other")


def test_the_report_outlives_deleted_run_folders(workspace, fake_engine, fake_dataset):
    report = run_experiment(workspace, fake_engine, fake_dataset, GRID, session="a")
    shutil.rmtree(workspace.layout.dataset_dir("fake"))
    page = write_session_report(workspace, "fake", images=True)
    text = page.read_text(encoding="utf-8")
    assert parse(page).rows["pipelines"] == 6
    assert report.best.folder in text and "../../runs/" not in text  # no link to a folder that is gone
    assert text.count("data:image/png") >= 2  # best plots drawn again from the catalog's arrays


def test_real_session_reports(reports_workspace):
    layout = reports_workspace.layout
    tiny = parse(layout.session_report("tiny_nirs"))  # rewritten for session s1 in the fixture
    assert (
        tiny.rows["pipelines"] == 8 and tiny.rows["failures"] == 2 and tiny.rows["sessions"] == len(SESSIONS)
    )
    text = layout.session_report("tiny_nirs").read_text(encoding="utf-8")
    assert "upper bound" in text  # PLS refused 60 components: the error is shown
    for name in ("predicted vs. true", "residuals", "model coefficients", "heat map"):
        assert name in text
    coffee = layout.session_report("coffee").read_text(encoding="utf-8")
    assert "confusion matrix" in coffee and parse(layout.session_report("coffee")).rows["pipelines"] == 4
    best = reports_workspace.best.current("coffee").folder
    outputs = layout.pipeline("coffee", best).outputs_dir
    assert sorted(p.name for p in outputs.iterdir()) == ["coefficients.png", "confusion_matrix.png"]
