"""The session report: ``exports/session_reports/<dataset>.html``.

One page per dataset about one session (by default its latest): the summary,
the best pipeline's plots, the score against each grid parameter, heat maps of
two-parameter grids, a sortable table of every pipeline of the session with a
relative link to its folder, the failures with their error, and the earlier
sessions. It is refreshed at the end of each ``nirs4all run`` and by
``nirs4all report DATASET``. Its figures are inline SVG drawn from the catalog
(:mod:`.svg`, no matplotlib), so writing it takes tens of milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputError, PipelineNotFound, WorkspaceError
from ..facade import Workspace
from ..version import __version__
from ..workspace.atomic import atomic_write_text
from ..workspace.dataset_info import session_digests
from ..workspace.layout import validate_name
from . import html
from .declared import (
    default_criterion_of,
    direction_for,
    engine_sections,
    scores_shown,
    section_html,
    words_of,
)
from .grid import grid_axes, heat_maps, parameter_text, varying_parameters
from .pipeline_plots import catalog_plot_input, pipeline_figures
from .pipelines import PipelineRow, best_row, catalog_rows, latest_session

PLOT_TITLES = {
    "pred_vs_true.png": "predicted vs. true",
    "residuals.png": "residuals",
    "confusion_matrix.png": "confusion matrix",
    "coefficients.png": "model coefficients",
}


@dataclass(frozen=True)
class Criterion:
    """How a session chose its best pipeline."""

    metric: str
    partition: str
    direction: str

    @property
    def label(self) -> str:
        return f"{self.partition} {self.metric}"

    @property
    def description(self) -> str:
        return f"{self.label} ({'lower' if self.direction == 'min' else 'higher'} is better)"


def session_entry(path: Path, session: str) -> dict[str, Any]:
    """The entry of ``session`` in ``run_config.json`` or ``run_summary.json`` ({} if absent)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}  # a report shows what the catalog knows even without the run folder's files
    entries = [s for s in document.get("sessions", []) if s.get("session") == session]
    return entries[-1] if entries else {}


def criterion_for(config: dict[str, Any], rows: Sequence[PipelineRow]) -> Criterion:
    """The session's recorded criterion, else the default one the engine declares for its task.

    InputError when it was not recorded and the engine is not installed (unknown, not guessed).
    """
    metric, direction = config.get("metric"), config.get("direction")
    if not metric:
        metric, direction = default_criterion_of(rows)
    direction = direction or direction_for(rows, metric)
    if direction is None:
        raise InputError(f"the direction of metric {metric!r} is unknown: its engine is not installed")
    return Criterion(metric, config.get("partition") or "val", direction)


class SessionPage:
    """Builds the HTML of one session report."""

    def __init__(self, workspace: Workspace, dataset: str, session: str | None, images: bool) -> None:
        self.workspace = workspace
        self.layout = workspace.layout
        self.dataset = validate_name(dataset)
        predictions = workspace.predictions
        self.session = session or latest_session(predictions, dataset)
        self.dataset_rows = catalog_rows(predictions, dataset)  # every session: one read of the catalog
        self.rows = [r for r in self.dataset_rows if r.session == self.session]
        if not self.rows:
            sessions = sorted({r.session for r in self.dataset_rows})
            raise PipelineNotFound(
                f"dataset {dataset!r} has no session {self.session!r} in the catalog; "
                f"sessions: {', '.join(sessions) or 'none'}"
            )
        self.images = images
        self.path = self.layout.session_report(dataset)
        self.config = session_entry(self.layout.run_config_json(dataset), self.session)
        self.summary = session_entry(self.layout.run_summary_json(dataset), self.session)
        self.criterion = criterion_for(self.config, self.rows)
        c = self.criterion
        self.best = best_row(self.rows, c.metric, c.partition, c.direction)
        self.task = next((r.task for r in self.rows if r.task), "regression")
        self.words = words_of(self.rows)

    # -- links -------------------------------------------------------------
    def folder_link(self, row: PipelineRow, target: str | None = None) -> html.Link | str:
        """A relative link to the pipeline's folder (or a file in it); plain text if it is gone."""
        folder = self.layout.pipeline(row.dataset, row.folder).dir
        path = folder / target if target else folder
        if not path.exists():
            return row.folder
        return html.Link(html.relative_href(path, self.path, folder=target is None), row.folder, str(path))

    # -- sections ----------------------------------------------------------
    def html(self) -> str:
        failed = [r for r in self.rows if r.status != "completed"]
        nav = [html.Link("#summary", "summary"), html.Link("#best", "best pipeline")]
        nav += [html.Link("#grid", "grid"), html.Link("#pipelines", "pipelines")]
        nav += [html.Link("#failures", f"failures ({len(failed)})")] if failed else []
        nav += [html.Link("#sessions", "sessions")]
        sections = [self.summary_section(), self.best_section(), self.grid_section(), self.table_section()]
        if failed:
            sections.append(self.failures_section(failed))
        sections.append(self.sessions_section())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return html.page(
            f"{self.dataset}: session {self.session}",
            f"{len(self.rows)} pipelines, best by {self.criterion.description}",
            sections,
            nav=nav,
            footer=f"Written by nirs4all-workspace {__version__} on {stamp}. "
            f"Refresh with: nirs4all report {self.dataset} --session {self.session}",
        )

    def summary_section(self) -> html.Markup:
        completed = sum(r.status == "completed" for r in self.rows)
        c = self.criterion
        # the best pipeline's sizes (a failed row has none)
        sized = next((r for r in [self.best, *self.rows] if r and r.n_samples), self.rows[0])
        pairs: list[tuple[str, Any]] = [
            ("dataset", self.dataset),
            ("session", self.session),
            ("task", self.task),
            ("engine", self.config.get("engine") or ""),
            ("data source", self.config.get("source") or ""),
            ("started", _time(self.summary.get("started_at")) or min(_dates(self.rows), default=None)),
            ("duration (s)", self.summary.get("duration_s")),
            ("pipelines", f"{len(self.rows)}: {completed} completed, {len(self.rows) - completed} failed"),
            ("numbers", f"{self.rows[0].number} to {self.rows[-1].number}"),
            ("criterion", c.description),
        ]
        if self.summary.get("interrupted"):
            pairs.append(("state", "interrupted: the session did not finish"))
        if self.best is not None:
            pairs.append(("best pipeline", self.folder_link(self.best)))
            pairs.append((f"best {c.label}", self.best.score(c.metric, c.partition)))
            test = self.best.score(c.metric, "test")
            if test is not None:
                pairs.append((f"its test {c.metric}", test))
        # The dataset's best among the pipelines of this session's data version only.
        digests = session_digests(self.layout, self.dataset)
        same = [r for r in self.dataset_rows if digests.get(r.session) == digests.get(self.session)]
        overall = best_row(same, c.metric, c.partition, c.direction)
        if overall is not None and self.best is not None and overall.pipeline_id != self.best.pipeline_id:
            score = html.format_value(overall.score(c.metric, c.partition))
            pairs.append(
                ("dataset's best", f"{overall.folder} (session {overall.session}, {c.label} {score})")
            )
        left_out = sum(1 for r in self.dataset_rows if r.status == "completed") - sum(
            1 for r in same if r.status == "completed"
        )
        if left_out:
            pairs.append(("other data versions", f"{left_out} pipelines not ranked with this session's"))
        pairs.append(("data", _shape(sized, self.words)))
        return html.section("Summary", html.key_values(pairs), section_id="summary")

    def best_section(self) -> html.Markup:
        if self.best is None:
            return html.section(
                "Best pipeline",
                html.paragraph("No pipeline of this session completed.", "note"),
                section_id="best",
            )
        best = self.best
        names = varying_parameters(self.rows)
        pairs = [
            ("pipeline", self.folder_link(best)),
            (self.words["model"], best.model),
            (self.words["preprocessing"], best.preprocessing),
            ("grid parameters", parameter_text(best, names) or "none"),
        ]
        parts = [html.key_values(pairs)]
        try:
            sections = engine_sections(self.workspace, self.rows, best.folder)
        except WorkspaceError as exc:  # e.g. the bars it was run on are gone: the rest of the page stands
            sections = []
            parts.append(html.paragraph(f"The engine's figures could not be drawn: {exc}", "note"))
        if sections is not None:  # the engine draws its own results (e.g. equity, trades)
            if not self.images:
                parts.append(html.paragraph("Plots were not drawn (--plots none).", "note"))
            drawn = [section_html(s, self.images) for s in sections]
            return html.Markup(
                html.section(f"Best pipeline: {best.folder}", *parts, section_id="best") + "".join(drawn)
            )
        if self.images:
            figures = self.best_figures(best)
            parts.append(
                html.figures(html.svg_figure(svg, PLOT_TITLES.get(n, n)) for n, svg in figures.items())
            )
        else:
            parts.append(html.paragraph("Plots were not drawn (--plots none).", "note"))
        return html.section(f"Best pipeline: {best.folder}", *parts, section_id="best")

    def best_figures(self, row: PipelineRow) -> dict[str, str]:
        """The pipeline's figures as inline SVG, drawn from the catalog (its folder may be gone)."""
        from . import svg

        return pipeline_figures(catalog_plot_input(self.workspace, row), svg)

    def grid_section(self) -> html.Markup:
        c = self.criterion
        axes = grid_axes(self.rows, c.metric, c.partition)
        if not axes:
            note = html.paragraph("Nothing varied in this session: there is no grid to draw.", "note")
            return html.section("Score by grid parameter", note, section_id="grid")
        names = ", ".join(a.name for a in axes)
        parts = [
            html.paragraph(
                f"{c.label} of every completed pipeline against each grid parameter ({names}); "
                "the line or diamond marks the best score per value."
            )
        ]
        if not self.images:
            parts.append(html.paragraph("Plots were not drawn (--plots none).", "note"))
            return html.section("Score by grid parameter", *parts, section_id="grid")
        from . import svg

        images = [
            html.svg_figure(
                svg.score_by_parameter(
                    a.name,
                    a.values,
                    a.scores,
                    c.label,
                    c.direction,
                    numeric=a.numeric,
                    log=a.log,
                    names=a.folders,
                )
            )
            for a in axes
        ]
        for grid in heat_maps(self.rows, c.metric, c.partition, c.direction):
            drawn = svg.heat_map(
                (grid.row_name, grid.row_labels),
                (grid.column_name, grid.column_labels),
                grid.values,
                c.label,
                c.direction,
                f"best {c.label}: {grid.title}",
            )
            images.append(html.svg_figure(drawn, f"heat map: {grid.title}"))
        parts.append(html.figures(images))
        return html.section("Score by grid parameter", *parts, section_id="grid")

    def score_columns(self) -> list[tuple[str, str]]:
        """(partition, metric) pairs shown in the table: the criterion first."""
        c = self.criterion
        metrics = [c.metric] + [m for m in scores_shown(self.rows) if m != c.metric]
        partitions = [p for p in ("val", "test") if any(p in r.scores for r in self.rows)]
        if c.partition not in partitions:
            partitions.insert(0, c.partition)
        return [(p, m) for p in partitions for m in metrics]

    def table_section(self) -> html.Markup:
        names = varying_parameters(self.rows)
        scores = self.score_columns()
        columns = [
            html.Column("#", numeric=True, title="pipeline number"),
            html.Column("pipeline", title="folder under runs/ (a relative link)"),
            html.Column(self.words["preprocessing"]),
            html.Column(self.words["model"]),
            html.Column("params", title="the grid parameters of this pipeline"),
            *(html.Column(f"{p} {m}", numeric=True) for p, m in scores),
            html.Column("duration (s)", numeric=True),
            html.Column("status"),
        ]
        body, classes = [], []
        for row in self.rows:
            body.append(
                [
                    row.number,
                    self.folder_link(row),
                    row.preprocessing,
                    row.model,
                    parameter_text(row, names),
                    *(row.score(m, p) for p, m in scores),
                    row.duration_s,
                    row.status,
                ]
            )
            best = self.best is not None and row.pipeline_id == self.best.pipeline_id
            classes.append("best" if best else ("failed" if row.status != "completed" else ""))
        note = html.paragraph("Click a column header to sort; the best pipeline is highlighted.", "note")
        table = html.table(columns, body, table_id="pipelines", row_classes=classes)
        return html.section(f"Pipelines ({len(self.rows)})", note, table, section_id="pipelines")

    def failures_section(self, failed: list[PipelineRow]) -> html.Markup:
        errors = {
            e.get("folder"): e.get("error") for e in self.summary.get("errors", []) if isinstance(e, dict)
        }
        columns = [html.Column("#", numeric=True), html.Column("pipeline"), html.Column("error", wrap=True)]
        body = [
            [
                row.number,
                self.folder_link(row, "error.log"),
                errors.get(row.folder) or "see the pipeline's error.log",
            ]
            for row in failed
        ]
        return html.section(
            f"Failures ({len(failed)})",
            html.paragraph(
                "The last line of each error; the link opens the full traceback (error.log).", "note"
            ),
            html.table(columns, body, table_id="failures"),
            section_id="failures",
        )

    def sessions_section(self) -> html.Markup:
        c = self.criterion
        by_session: dict[str, list[PipelineRow]] = {}
        for row in self.dataset_rows:
            by_session.setdefault(row.session, []).append(row)
        columns = [
            html.Column("session"),
            html.Column("started"),
            html.Column("pipelines", numeric=True),
            html.Column("failed", numeric=True),
            html.Column(f"best {c.label}", numeric=True),
            html.Column("best pipeline"),
        ]
        body, classes = [], []
        ordered = sorted(by_session.items(), key=lambda item: min(_dates(item[1]), default=_EPOCH))
        for session, rows in ordered:
            best = best_row(rows, c.metric, c.partition, c.direction)
            body.append(
                [
                    session,
                    min(_dates(rows), default=None),
                    len(rows),
                    sum(r.status != "completed" for r in rows),
                    best.score(c.metric, c.partition) if best else None,
                    self.folder_link(best) if best else "",
                ]
            )
            classes.append("current" if session == self.session else "")
        note = html.paragraph(
            "Every session on this dataset in the catalog; this report's session is highlighted.", "note"
        )
        return html.section(
            "Sessions on this dataset",
            note,
            html.table(columns, body, table_id="sessions", row_classes=classes),
            section_id="sessions",
        )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _dates(rows: Sequence[PipelineRow]) -> list[datetime]:
    return [r.created_at for r in rows if r.created_at is not None]


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _shape(row: PipelineRow, words: dict[str, str] | None = None) -> str:
    """``240 train, 240 val, 60 test samples; 700 features`` (in the engine's words:
    ``695 trades; 5 price columns``)."""
    words = words or {"n_samples": "samples", "n_features": "features"}
    if words["n_samples"] == "samples":
        samples = ", ".join(f"{n} {p}" for p, n in row.n_samples.items())
    else:  # the engine's own unit: its count, without partitions
        samples = str(max(row.n_samples.values())) if row.n_samples else ""
    features = f"{row.n_features} {words['n_features']}" if row.n_features is not None else ""
    return "; ".join(
        part for part in (f"{samples} {words['n_samples']}" if samples else "", features) if part
    )


def session_report_html(
    workspace: Workspace, dataset: str, session: str | None = None, images: bool = True
) -> str:
    """The HTML of the session report of ``dataset`` (its latest session by default)."""
    return SessionPage(workspace, dataset, session, images).html()


def write_session_report(
    workspace: Workspace, dataset: str, session: str | None = None, *, images: bool = True
) -> Path:
    """(Re)write ``exports/session_reports/<dataset>.html``; returns its path.

    Raises PipelineNotFound when the catalog has no pipeline of ``dataset``
    (or of ``session``); ``images=False`` leaves the figures out (``--plots none``).
    """
    page = SessionPage(workspace, dataset, session, images)
    text = page.html()
    atomic_write_text(page.path, text)
    return page.path
