"""What a run draws and writes once all its pipelines have finished.

Plots are never drawn during the grid: at the end of ``nirs4all run`` the best
pipeline of the session (or every completed one with ``--plots all``) gets its
``outputs/*.png``, then the dataset's session report is rewritten. The time
this takes is measured and returned, so the CLI can show what it added.

A failure here never fails the run (its results are already stored): it is
returned as a message and written to ``run.log``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..errors import InputError
from ..facade import Workspace
from ..workspace.saver import SavedPipeline
from .pipeline_plots import PipelinePlotInput, load_model, pipeline_figures, write_pipeline_plots
from .pipelines import arrays_from_data_rows, best_by

PLOT_CHOICES = ("best", "all", "none")


@dataclass
class RunOutputs:
    """The files written at the end of a run and the seconds they took."""

    plots: list[Path] = field(default_factory=list)
    report: Path | None = None
    plots_s: float = 0.0
    report_s: float = 0.0
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.plots_s + self.report_s


PLOTTED_TASKS = ("regression", "classification")


def check_plots(plots: str) -> str:
    """``plots`` if it is one of best, all, none; InputError otherwise."""
    if plots not in PLOT_CHOICES:
        raise InputError(f"--plots must be one of {', '.join(PLOT_CHOICES)}, not {plots!r}")
    return plots


def pipelines_to_plot(
    saved: list[SavedPipeline], plots: str, metric: str, partition: str, direction: str
) -> list[SavedPipeline]:
    """The session's best pipeline (ties: the earlier one), every completed one, or none."""
    if plots == "none":
        return []
    # The figures are those of predictions (true vs. predicted): other tasks (e.g. the
    # trading strategies) have no y to draw.
    completed = [
        s for s in saved if s.status == "completed" and s.record.get("task") in PLOTTED_TASKS
    ]
    if plots == "all":
        return completed
    best = best_by(completed, lambda s: s.score(metric, partition), direction)
    return [best] if best is not None else []


def plot_input(workspace: Workspace, saved: SavedPipeline, feature_names: Any = None) -> PipelinePlotInput:
    """Plot data of a pipeline saved in this process (its catalog rows are still in memory)."""
    record = saved.record
    partitions = {
        row["partition"]: row["prediction_id"] for row in saved.meta_rows if row.get("fold") is None
    }
    partitions.pop(None, None)
    classes = record.get("classes")
    return PipelinePlotInput(
        folder=saved.handle.folder,
        task=record.get("task") or "regression",
        classes=classes,
        arrays=arrays_from_data_rows(saved.data_rows, partitions, classes),
        scores={p: dict(v) for p, v in saved.metrics.items() if isinstance(v, dict)},
        model=load_model(workspace, record["dataset"], record),
        feature_names=feature_names,
    )


def _engine_plots(workspace: Workspace, report: Any, plots: str) -> list[Path]:
    """The figures the engine declares for its session report (``figures["session"]``), written
    into the outputs/ of the best pipeline (of every completed one with ``--plots all``)."""
    from ..engines.registry import find_declaration
    from .declared import engine_sections

    completed = [s for s in report.saved if s.status == "completed"]
    declaration = find_declaration(completed[0].record.get("engine")) if completed else None
    if plots == "none" or declaration is None or "session" not in declaration.figures:
        return []
    if plots != "all":
        best = best_by(completed, lambda s: s.score(report.metric, report.partition), report.direction)
        completed = [best] if best is not None else []
    written: list[Path] = []
    for saved in completed:
        task = saved.record.get("task")
        rows = [SimpleNamespace(engine=declaration.name, dataset=report.dataset, task=task)]
        for section in engine_sections(workspace, rows, saved.handle.folder) or []:
            written += write_pipeline_plots(workspace, report.dataset, saved.handle.folder, section.figures)
    return written


def write_run_outputs(workspace: Workspace, report: Any, dataset: Any, plots: str = "best") -> RunOutputs:
    """Draw the chosen pipelines' plots, then rewrite the session report (see the module docstring).

    ``report`` is the run's ExperimentReport, ``dataset`` the engine's dataset
    (its ``feature_names``, when it has them, label the coefficient plots).
    """
    outputs = RunOutputs()
    start = time.perf_counter()
    try:
        chosen = pipelines_to_plot(report.saved, plots, report.metric, report.partition, report.direction)
        names = getattr(dataset, "feature_names", None)
        for saved in chosen:
            figures = pipeline_figures(plot_input(workspace, saved, names))
            outputs.plots += write_pipeline_plots(workspace, report.dataset, saved.handle.folder, figures)
        outputs.plots += _engine_plots(workspace, report, plots)
        outputs.plots_s = time.perf_counter() - start
        if report.saved:
            from .session import write_session_report

            outputs.report = write_session_report(
                workspace, report.dataset, report.session, images=plots != "none"
            )
        outputs.report_s = time.perf_counter() - start - outputs.plots_s
    except Exception as exc:  # the results are stored: a failed plot must not fail the run
        outputs.error = f"{type(exc).__name__}: {exc}"
        workspace.sessions.log(
            report.dataset, f"plots or report of session {report.session} failed: {outputs.error}"
        )
    return outputs


def report_step(end: Any) -> None:
    """Post-run step: the chosen plots and the session report (``report.outputs``)."""
    plots = end.options.get("plots", "best")
    end.report.outputs = write_run_outputs(end.workspace, end.report, end.dataset, plots)


report_step.check = lambda options: check_plots(options.get("plots", "best"))  # type: ignore[attr-defined]
