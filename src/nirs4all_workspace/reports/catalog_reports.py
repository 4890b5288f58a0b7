"""Reports over the whole catalog, written by ``nirs4all catalog report``.

* ``catalog/reports/global_performance.html``: the best pipeline of every
  dataset (across its sessions), a comparable score per dataset (validation
  R² or accuracy), the best per model and the best of every session;
* ``catalog/reports/dataset_history/<dataset>.html``: per dataset, the best
  score of each session over time and the best so far.

Both end with the catalog explorer (:mod:`.explorer`): the pipelines in one
table to filter, sort, tick and compare in the page.

They read the catalog only, so they outlive deleted and archived runs; links
to run folders appear only while the folders exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..facade import Workspace
from ..version import __version__
from ..workspace.atomic import atomic_write_text
from . import explorer, html
from .declared import comparable_of, default_criterion_of
from .pipelines import PipelineRow, best_row, catalog_rows, newest_version
from .session import Criterion


def default_criterion(rows: Sequence[PipelineRow]) -> Criterion:
    """The criterion ``nirs4all catalog best`` uses: the default metric the rows' engine declares."""
    metric, direction = default_criterion_of(rows)
    return Criterion(metric, "val", direction)


@dataclass
class SessionSummary:
    """One session of one dataset, as the catalog knows it."""

    dataset: str
    session: str
    started: datetime | None
    rows: list[PipelineRow]
    best: PipelineRow | None


@dataclass
class DatasetSummary:
    """One dataset: its task, criterion, sessions (oldest first) and best pipeline."""

    name: str
    task: str
    criterion: Criterion
    rows: list[PipelineRow]
    sessions: list[SessionSummary]
    best: PipelineRow | None

    @property
    def comparable(self) -> str:
        """A score without units, to compare datasets (their criterion, e.g. RMSE, has units)."""
        return comparable_of(self.rows) or self.criterion.metric


def summarize(rows: Sequence[PipelineRow]) -> list[DatasetSummary]:
    """Group catalog rows by dataset and session, each with its best pipeline."""
    by_dataset: dict[str, list[PipelineRow]] = {}
    for row in rows:
        by_dataset.setdefault(row.dataset, []).append(row)
    summaries = []
    for name, dataset_rows in sorted(by_dataset.items()):
        task = next((r.task for r in dataset_rows if r.task), "")
        c = default_criterion(dataset_rows)
        by_session: dict[str, list[PipelineRow]] = {}
        for row in dataset_rows:
            by_session.setdefault(row.session, []).append(row)
        sessions = [
            SessionSummary(
                name,
                session,
                min((r.created_at for r in session_rows if r.created_at), default=None),
                session_rows,
                best_row(session_rows, c.metric, c.partition, c.direction),
            )
            for session, session_rows in by_session.items()
        ]
        sessions.sort(key=lambda s: (s.started or datetime(1970, 1, 1, tzinfo=UTC), s.session))
        best = best_row(newest_version(dataset_rows), c.metric, c.partition, c.direction)
        summaries.append(DatasetSummary(name, task, c, dataset_rows, sessions, best))
    return summaries


class CatalogPages:
    """Builds the global performance page and the dataset history pages."""

    def __init__(self, workspace: Workspace, images: bool = True) -> None:
        self.workspace = workspace
        self.layout = workspace.layout
        self.images = images
        self.datasets = summarize(catalog_rows(workspace.predictions))
        self.stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def folder_link(self, row: PipelineRow | None, page: Path) -> html.Link | str:
        if row is None:
            return ""
        folder = self.layout.pipeline(row.dataset, row.folder).dir
        if not folder.is_dir():
            return row.folder
        return html.Link(html.relative_href(folder, page, folder=True), row.folder, str(folder))

    def folder_href(self, row: PipelineRow, page: Path) -> str | None:
        """The relative link from ``page`` to the row's folder, None once it is gone."""
        folder = self.layout.pipeline(row.dataset, row.folder).dir
        return html.relative_href(folder, page, folder=True) if folder.is_dir() else None

    def explorer(self, datasets: Sequence[DatasetSummary], page: Path, per_dataset: int) -> html.Markup:
        """The explorer over the best ``per_dataset`` pipelines of each dataset, with a note on the rest."""
        return explorer.catalog_explorer(
            datasets, per_dataset, lambda row: self.folder_href(row, page), self.criteria_text()
        )

    def _footer(self) -> str:
        return (
            f"Written by nirs4all-workspace {__version__} on {self.stamp} from the catalog. "
            "Refresh with: nirs4all catalog report"
        )

    # -- global performance ------------------------------------------------
    def global_html(self) -> str:
        page = self.layout.global_performance_report
        rows = [r for d in self.datasets for r in d.rows]
        sessions = [s for d in self.datasets for s in d.sessions]
        failed = sum(r.status != "completed" for r in rows)
        dates = [r.created_at for r in rows if r.created_at]
        pairs: list[tuple[str, Any]] = [
            ("datasets", len(self.datasets)),
            ("sessions", len(sessions)),
            ("pipelines", f"{len(rows)}: {len(rows) - failed} completed, {failed} failed"),
            ("first run", min(dates, default=None)),
            ("last run", max(dates, default=None)),
            ("criterion", self.criteria_text()),
        ]
        sections = [html.section("Summary", html.key_values(pairs), section_id="summary")]
        if self.images and self.datasets:
            sections.append(html.section("Best per dataset", self.global_figures(), section_id="charts"))
        sections.append(self.datasets_section(page))
        sections.append(self.sessions_section(page))
        sections.append(self.explorer(self.datasets, page, explorer.GLOBAL_ROWS_PER_DATASET))
        return html.page(
            "Global performance",
            f"The best pipeline of each of {len(self.datasets)} datasets, across every session",
            sections,
            nav=[
                html.Link("#summary", "summary"),
                html.Link("#datasets", "datasets"),
                html.Link("#sessions", "sessions"),
                html.Link("#explorer", "explorer"),
            ],
            footer=self._footer(),
        )

    def criteria_text(self) -> str:
        """How each task's datasets are ranked: the default metric their engine declares."""
        labels = {d.task: d.criterion.label for d in self.datasets}
        text = ", ".join(f"{label} for {task or 'other tasks'}" for task, label in sorted(labels.items()))
        return f"{text or 'none yet'} (as 'nirs4all catalog best')"

    def global_figures(self) -> html.Markup:
        from . import plots

        images = []
        for task in sorted({d.task for d in self.datasets}):
            group = [d for d in self.datasets if d.task == task]
            metric = group[0].comparable
            values = [d.best.score(metric, "val") if d.best else None for d in group]
            label = f"val {metric}"
            title = f"{label} of each dataset's best pipeline (by {group[0].criterion.label})"
            png = plots.bars(
                [d.name for d in group], [np.nan if v is None else v for v in values], label, title
            )
            images.append(html.image(png, title))
            grid = self.model_grid(group, metric)
            if grid is not None:
                models, values_grid = grid
                png = plots.heat_map(
                    ("dataset", [d.name for d in group]),
                    ("model", models),
                    values_grid,
                    label,
                    "max",
                    f"best {label} per dataset and model",
                )
                images.append(html.image(png, f"best {label} per dataset and model"))
        return html.figures(images)

    @staticmethod
    def model_grid(group: list[DatasetSummary], metric: str) -> tuple[list[str], np.ndarray] | None:
        """Best ``metric`` per dataset x model, when there are at least two of either."""
        models = sorted({r.model for d in group for r in d.rows if r.status == "completed"})
        if len(models) < 2 and len(group) < 2:
            return None
        values = np.full((len(group), len(models)), np.nan)
        for i, dataset in enumerate(group):
            for j, model in enumerate(models):
                best = best_row([r for r in dataset.rows if r.model == model], metric, "val", "max")
                if best is not None:
                    values[i, j] = best.score(metric, "val")
        return models, values

    def datasets_section(self, page: Path) -> html.Markup:
        columns = [
            html.Column("dataset", title="opens the dataset's history"),
            html.Column("task"),
            html.Column("criterion"),
            html.Column("best score", numeric=True),
            html.Column("val r2 / accuracy", numeric=True),
            html.Column("test score", numeric=True, title="the criterion's metric on the test partition"),
            html.Column("model"),
            html.Column("preprocessing"),
            html.Column("best pipeline"),
            html.Column("session"),
            html.Column("sessions", numeric=True),
            html.Column("pipelines", numeric=True),
            html.Column("failed", numeric=True),
            html.Column("last run"),
        ]
        body = []
        for d in self.datasets:
            c, best = d.criterion, d.best
            history = self.layout.dataset_history_report(d.name)
            body.append(
                [
                    html.Link(html.relative_href(history, page), d.name),
                    d.task,
                    c.label,
                    best.score(c.metric, c.partition) if best else None,
                    best.score(d.comparable, "val") if best else None,
                    best.score(c.metric, "test") if best else None,
                    best.model if best else "",
                    best.preprocessing if best else "",
                    self.folder_link(best, page),
                    best.session if best else "",
                    len(d.sessions),
                    len(d.rows),
                    sum(r.status != "completed" for r in d.rows),
                    max((r.created_at for r in d.rows if r.created_at), default=None),
                ]
            )
        note = html.paragraph("One row per dataset: its best pipeline over every session.", "note")
        table = html.table(columns, body, table_id="datasets")
        return html.section(f"Datasets ({len(self.datasets)})", note, table, section_id="datasets")

    def sessions_section(self, page: Path) -> html.Markup:
        columns = [
            html.Column("dataset"),
            html.Column("session"),
            html.Column("started"),
            html.Column("pipelines", numeric=True),
            html.Column("failed", numeric=True),
            html.Column("criterion"),
            html.Column("best score", numeric=True),
            html.Column("model"),
            html.Column("preprocessing"),
            html.Column("best pipeline"),
        ]
        body = []
        for d in self.datasets:
            history = html.Link(html.relative_href(self.layout.dataset_history_report(d.name), page), d.name)
            for s in d.sessions:
                c, best = d.criterion, s.best
                body.append(
                    [
                        history,
                        s.session,
                        s.started,
                        len(s.rows),
                        sum(r.status != "completed" for r in s.rows),
                        c.label,
                        best.score(c.metric, c.partition) if best else None,
                        best.model if best else "",
                        best.preprocessing if best else "",
                        self.folder_link(best, page),
                    ]
                )
        table = html.table(columns, body, table_id="sessions")
        return html.section(f"Sessions ({len(body)})", table, section_id="sessions")

    # -- dataset history ---------------------------------------------------
    def history_html(self, dataset: DatasetSummary) -> str:
        page = self.layout.dataset_history_report(dataset.name)
        c = dataset.criterion
        best = dataset.best
        sessions = dataset.sessions
        pairs: list[tuple[str, Any]] = [
            ("dataset", dataset.name),
            ("task", dataset.task),
            ("criterion", c.description),
            ("sessions", len(sessions)),
            ("pipelines", len(dataset.rows)),
            ("first session", sessions[0].started if sessions else None),
            ("last session", sessions[-1].started if sessions else None),
            ("best pipeline", self.folder_link(best, page) if best else "none completed"),
        ]
        if best is not None:
            pairs += [(f"best {c.label}", best.score(c.metric, c.partition)), ("from session", best.session)]
        sections = [html.section("Summary", html.key_values(pairs), section_id="summary")]
        if self.images and sessions:
            from . import plots

            scores = [
                [
                    v
                    for r in s.rows
                    if r.status == "completed" and (v := r.score(c.metric, c.partition)) is not None
                ]
                for s in sessions
            ]
            png = plots.history(
                [s.session for s in sessions], scores, c.label, c.direction, f"{dataset.name}: {c.label}"
            )
            sections.append(
                html.section(
                    "Best score over time",
                    html.paragraph(
                        "Grey: every pipeline of a session (the worst tenth may lie off the chart); "
                        "the line: each session's best; dashed: the best so far.",
                        "note",
                    ),
                    html.figures([html.image(png, f"{c.label} per session of {dataset.name}")]),
                    section_id="history",
                )
            )
        sections.append(self.history_table(dataset, page))
        sections.append(self.explorer([dataset], page, explorer.HISTORY_ROWS))
        nav = [
            html.Link(html.relative_href(self.layout.global_performance_report, page), "global performance"),
            html.Link("#explorer", "explorer"),
        ]
        session_report = self.layout.session_report(dataset.name)
        if session_report.exists():
            nav.append(html.Link(html.relative_href(session_report, page), "latest session report"))
        return html.page(
            f"{dataset.name}: history",
            f"The best {c.label} of each of {len(sessions)} sessions",
            sections,
            nav=nav,
            footer=self._footer(),
        )

    def history_table(self, dataset: DatasetSummary, page: Path) -> html.Markup:
        c = dataset.criterion
        columns = [
            html.Column("session"),
            html.Column("started"),
            html.Column("pipelines", numeric=True),
            html.Column("completed", numeric=True),
            html.Column("failed", numeric=True),
            html.Column(f"best {c.label}", numeric=True),
            html.Column("best so far", numeric=True),
            html.Column(f"test {c.metric}", numeric=True),
            html.Column("model"),
            html.Column("preprocessing"),
            html.Column("best pipeline"),
        ]
        body, classes = [], []
        so_far: float | None = None
        for s in dataset.sessions:
            best = s.best
            score = best.score(c.metric, c.partition) if best else None
            improved = score is not None and (
                so_far is None or (score < so_far if c.direction == "min" else score > so_far)
            )
            so_far = score if improved else so_far
            completed = sum(r.status == "completed" for r in s.rows)
            body.append(
                [
                    s.session,
                    s.started,
                    len(s.rows),
                    completed,
                    len(s.rows) - completed,
                    score,
                    so_far,
                    best.score(c.metric, "test") if best else None,
                    best.model if best else "",
                    best.preprocessing if best else "",
                    self.folder_link(best, page),
                ]
            )
            classes.append(
                "best" if best and dataset.best and best.pipeline_id == dataset.best.pipeline_id else ""
            )
        note = html.paragraph(
            "One row per session, oldest first; the session holding the best is highlighted."
        )
        table = html.table(columns, body, table_id="sessions", row_classes=classes)
        return html.section(f"Sessions ({len(body)})", note, table, section_id="sessions")


def write_catalog_reports(workspace: Workspace, *, images: bool = True) -> list[Path]:
    """Write the global performance page and one history page per dataset; returns their paths."""
    pages = CatalogPages(workspace, images)
    written = [workspace.layout.global_performance_report]
    atomic_write_text(written[0], pages.global_html())
    for dataset in pages.datasets:
        path = workspace.layout.dataset_history_report(dataset.name)
        atomic_write_text(path, pages.history_html(dataset))
        written.append(path)
    return written
