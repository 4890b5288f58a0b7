"""The session report and the plots drawn at the end of a run."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from nirs4all_workspace.errors import InputError, PipelineNotFound
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.reports import run_outputs, svg
from nirs4all_workspace.reports.session import write_session_report
from tests.reports.conftest import SESSIONS, assert_self_contained, parse

GRID = {"scales": [0.5, 1.0, 2.0], "offsets": [0.0, 0.5], "fail_on": [2.0]}


def outputs_of(workspace, dataset="fake"):
    return {
        p.parent.parent.name: sorted(f.name for f in p.parent.iterdir())
        for p in workspace.layout.dataset_dir(dataset).glob("*/outputs/*.png")
    }


def test_a_run_writes_the_report_with_inline_svg_figures_and_no_png(workspace, fake_engine, fake_dataset):
    report = run_experiment(workspace, fake_engine, fake_dataset, GRID, session="a")
    outputs = report.outputs
    assert outputs.error is None and outputs.seconds > 0
    assert outputs_of(workspace) == {} and outputs.plots == []  # the PNGs are drawn when asked
    page = workspace.layout.session_report("fake")
    assert outputs.report == page and page.is_file()
    tables = parse(page).rows
    assert tables["pipelines"] == 6 and tables["failures"] == 2 and tables["sessions"] == 1
    text = page.read_text(encoding="utf-8")
    assert "scale 2.0 is not allowed" in text  # the failure's error
    assert "heat map" in text  # scale x offset is a two-parameter grid
    assert "data:image/png" not in text
    assert text.count("<svg ") == 2 + 2 + 1  # best plots, one per parameter, heat map
    assert text.count("<figure>") == 2 + 2 + 1
    assert_self_contained(page)


def test_plots_best_also_draws_the_best_pipelines_pngs(workspace, fake_engine, fake_dataset):
    report = run_experiment(workspace, fake_engine, fake_dataset, GRID, session="a", plots="best")
    assert outputs_of(workspace) == {report.best.folder: ["pred_vs_true.png", "residuals.png"]}
    assert [p.name for p in report.outputs.plots] == ["pred_vs_true.png", "residuals.png"]
    text = report.outputs.report.read_text(encoding="utf-8")
    assert text.count("<svg ") == 5 and "data:image/png" not in text  # the page is the same


def test_plots_all_draws_every_completed_pipeline_and_none_draws_nothing(tmp_path, fake_engine, fake_dataset):
    from nirs4all_workspace.facade import Workspace

    every = Workspace.open(tmp_path / "all")
    run_experiment(every, fake_engine, fake_dataset, GRID, plots="all")
    assert len(outputs_of(every)) == 4
    nothing = Workspace.open(tmp_path / "none")
    report = run_experiment(nothing, fake_engine, fake_dataset, GRID, plots="none")
    assert outputs_of(nothing) == {} and report.outputs.plots == []
    text = report.outputs.report.read_text(encoding="utf-8")
    assert "data:image" not in text and "<svg" not in text and "--plots none" in text
    with pytest.raises(InputError, match="--plots must be one of report, best, all, none"):
        run_experiment(nothing, fake_engine, fake_dataset, GRID, plots="some")


def test_a_failing_plot_does_not_fail_the_run(workspace, fake_engine, fake_dataset, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(run_outputs, "pipeline_figures", broken)
    report = run_experiment(workspace, fake_engine, fake_dataset, GRID, session="a", plots="best")
    assert report.summary.completed == 4
    assert report.outputs.error == "RuntimeError: no fonts"
    assert "plots or report of session a failed: RuntimeError: no fonts" in (
        workspace.layout.run_log("fake").read_text()
    )
    monkeypatch.undo()
    monkeypatch.setattr(svg, "residuals", broken)  # the report's own figures, drawn at every run
    report = run_experiment(workspace, fake_engine, fake_dataset, GRID, session="b")
    assert report.summary.completed == 4 and report.outputs.error == "RuntimeError: no fonts"


def test_a_default_run_never_imports_matplotlib(tmp_path):
    """The whole run, report included, in a fresh process (the demo engine, a small grid)."""
    code = f"""
import sys
from pathlib import Path
from nirs4all_workspace.engines.registry import get_engine
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.facade import Workspace
from tests.reports.conftest import DATA, pls_grid

engine = get_engine("sklearn")
ws = Workspace.open(Path({str(tmp_path / "ws")!r}))
report = run_experiment(ws, engine, engine.load_dataset(DATA / "tiny_nirs"), pls_grid([None, "snv"], [2, 4]))
assert report.outputs.error is None, report.outputs.error
text = report.outputs.report.read_text(encoding="utf-8")
assert text.count("<svg ") == 3 + 2 + 1, text.count("<svg ")  # pvt, residuals, coefficients; grid; heat map
assert "matplotlib" not in sys.modules, "the end of a run imported matplotlib"
"""
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]


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
    assert text.count("<svg ") >= 2  # best plots drawn again from the catalog's arrays


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
    # confusion matrix, coefficients; preprocessing and C; their heat map
    assert coffee.count("<svg ") == 2 + 2 + 1 and "data:image/png" not in coffee
    best = reports_workspace.best.current("coffee").folder
    outputs = layout.pipeline("coffee", best).outputs_dir
    assert not outputs.exists()  # the PNGs are drawn when asked: nirs4all report, --plots best


def test_the_pngs_are_drawn_lazily_once_for_the_session_asked(workspace, fake_engine, fake_dataset):
    first = run_experiment(workspace, fake_engine, fake_dataset, GRID, session="a")
    run_experiment(workspace, fake_engine, fake_dataset, {"scales": [1.0, 3.0]}, session="b")
    assert outputs_of(workspace) == {}
    written = run_outputs.write_session_plots(workspace, "fake", "a")
    assert outputs_of(workspace) == {first.best.folder: ["pred_vs_true.png", "residuals.png"]}
    assert [p.name for p in written] == ["pred_vs_true.png", "residuals.png"]
    for path in written:
        assert path.read_bytes().startswith(b"\x89PNG")
    assert run_outputs.write_session_plots(workspace, "fake", "a") == []  # drawn already: kept
    assert len(run_outputs.write_session_plots(workspace, "fake", "a", "all")) == 2 * 3  # the 3 others
    assert run_outputs.write_session_plots(workspace, "fake", "b", "none") == []
