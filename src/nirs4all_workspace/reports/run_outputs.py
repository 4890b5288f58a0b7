"""What a run draws and writes once all its pipelines have finished.

Plots are never drawn during the grid. At the end of ``nirs4all run`` the
dataset's session report is rewritten with its figures as inline SVG (no
matplotlib: milliseconds). The PNG files of ``outputs/`` are drawn only when
asked: ``--plots best`` (the session's best pipeline) or ``--plots all`` (every
completed one) at the end of the run, or later by ``nirs4all report``
(:func:`write_session_plots`, the pipelines that have none yet). ``--plots none``
draws nothing, not even the report's figures. The time this takes is measured
and returned, so the CLI can show what it added.

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
from .pipeline_plots import (
    PipelinePlotInput,
    catalog_plot_input,
    load_model,
    pipeline_figures,
    write_pipeline_plots,
)
from .pipelines import PipelineRow, arrays_from_data_rows, best_by, best_row, catalog_rows, latest_session

PLOT_CHOICES = ("report", "best", "all", "none")
DEFAULT_PLOTS = "report"  # the report's figures (SVG) only: the PNGs are drawn when asked


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
    """``plots`` if it is one of report, best, all, none; InputError otherwise."""
    if plots not in PLOT_CHOICES:
        raise InputError(f"--plots must be one of {', '.join(PLOT_CHOICES)}, not {plots!r}")
    return plots


def pipelines_to_plot(
    saved: list[SavedPipeline], plots: str, metric: str, partition: str, direction: str
) -> list[SavedPipeline]:
    """The session's best pipeline (ties: the earlier one), every completed one, or none
    (``report`` and ``none`` draw no PNG)."""
    if plots not in ("best", "all"):
        return []
    # The figures are those of predictions (true vs. predicted): other tasks (e.g. the
    # trading strategies) have no y to draw.
    completed = [s for s in saved if s.status == "completed" and s.record.get("task") in PLOTTED_TASKS]
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
    from .declared import engine_sections, figure_png

    completed = [s for s in report.saved if s.status == "completed"]
    declaration = find_declaration(completed[0].record.get("engine")) if completed else None
    if plots not in ("best", "all") or declaration is None or "session" not in declaration.figures:
        return []
    if plots != "all":
        best = best_by(completed, lambda s: s.score(report.metric, report.partition), report.direction)
        completed = [best] if best is not None else []
    written: list[Path] = []
    for saved in completed:
        task = saved.record.get("task")
        rows = [SimpleNamespace(engine=declaration.name, dataset=report.dataset, task=task)]
        for section in engine_sections(workspace, rows, saved.handle.folder) or []:
            pngs = {name: figure_png(figure) for name, figure in section.figures.items()}
            written += write_pipeline_plots(workspace, report.dataset, saved.handle.folder, pngs)
    return written


def write_run_outputs(
    workspace: Workspace, report: Any, dataset: Any, plots: str = DEFAULT_PLOTS
) -> RunOutputs:
    """Draw the chosen pipelines' PNGs, then rewrite the session report (see the module docstring).

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


def write_session_plots(
    workspace: Workspace, dataset: str, session: str | None = None, plots: str = "best"
) -> list[Path]:
    """Draw the PNGs of a session's pipelines that have none yet (``nirs4all report``); the paths.

    ``best``: the session's best pipeline; ``all``: every completed one; ``report`` or
    ``none``: nothing. Drawn from the catalog (with the engine's figures when it declares
    some); a pipeline whose folder is gone, or whose ``outputs/`` holds PNGs already, is
    left as it is. Raises PipelineNotFound for an unknown dataset or session.
    """
    from .declared import declaration_of
    from .session import criterion_for, session_entry

    check_plots(plots)
    if plots not in ("best", "all"):
        return []
    rows = catalog_rows(workspace.predictions, dataset)
    session = session or latest_session(workspace.predictions, dataset)
    completed = [r for r in rows if r.session == session and r.status == "completed"]
    if not completed:
        return []
    if plots == "best":  # by the criterion the session chose its best by, as its report says
        c = criterion_for(session_entry(workspace.layout.run_config_json(dataset), session), completed)
        best = best_row(completed, c.metric, c.partition, c.direction)
        completed = [best] if best is not None else []
    declaration = declaration_of(completed)
    written: list[Path] = []
    for row in completed:
        paths = workspace.layout.pipeline(dataset, row.folder)
        if not paths.dir.is_dir() or any(paths.outputs_dir.glob("*.png")):
            continue
        written += write_pipeline_plots(
            workspace, dataset, row.folder, _row_pngs(workspace, row, declaration)
        )
    return written


def _row_pngs(workspace: Workspace, row: PipelineRow, declaration: Any) -> dict[str, bytes]:
    from .declared import engine_sections, figure_png

    if declaration is not None and "session" in declaration.figures:
        sections = engine_sections(workspace, [row], row.folder) or []
        return {n: figure_png(f) for section in sections for n, f in section.figures.items()}
    if row.task not in PLOTTED_TASKS:
        return {}
    return pipeline_figures(catalog_plot_input(workspace, row))


def report_step(end: Any) -> None:
    """Post-run step: the session report, and the PNGs asked for (``report.outputs``)."""
    plots = end.options.get("plots", DEFAULT_PLOTS)
    end.report.outputs = write_run_outputs(end.workspace, end.report, end.dataset, plots)


report_step.check = lambda options: check_plots(options.get("plots", DEFAULT_PLOTS))  # type: ignore[attr-defined]
