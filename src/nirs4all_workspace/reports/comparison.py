"""The comparison page of ``nirs4all compare ... --html FILE``: one self-contained file.

The params that differ, the scores side by side (the best of each row in bold),
and, per partition, predicted-vs-true and residual plots of every pipeline
overlaid (read from each folder's ``predictions.csv``; classification has no
such plots).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..comparison import Comparison
from ..formatting import format_value
from ..workspace.atomic import atomic_write_text
from ..workspace.predictions_csv import parse_predictions_csv
from . import html, plots

# one colour per pipeline (up to 10), readable on white
PALETTE = (
    "#007a7a", "#d9822b", "#6f42c1", "#2da44e", "#cf222e",
    "#0969da", "#8c959f", "#bf8700", "#e85aad", "#1b1f24",
)  # fmt: skip


def comparison_page(comparison: Comparison) -> str:
    """The whole HTML document of a comparison."""
    views = comparison.pipelines
    names = [f"{i + 1}: {v.reference}" for i, v in enumerate(views)]
    headers = ["pipeline", "session", "model", "preprocessing", "status", "best of dataset"]
    identity = html.table(
        [html.Column("#", numeric=True), *(html.Column(h) for h in headers)],
        [
            (i + 1, v.reference, v.session, v.model, v.preprocessing, v.status, "yes" if v.is_best else "")
            for i, v in enumerate(views)
        ],
        table_id="pipelines",
    )
    columns = [html.Column("param"), *(html.Column(n) for n in names)]
    differing = html.table(
        columns, [(k, *vs) for k, vs in comparison.differing.items()], table_id="params", sortable=False
    )
    sections = [
        html.section("pipelines", identity),
        html.section(
            f"params that differ ({len(comparison.differing)}; {len(comparison.same)} equal, not shown)",
            differing if comparison.differing else html.paragraph("every param is equal"),
        ),
        html.section("scores (best of each row in bold)", _scores_table(comparison, names)),
    ]
    figures = _figures(views)
    if figures:
        sections.append(html.section("predictions overlaid", html.figures(figures)))
    return html.page(
        "comparison",
        " vs ".join(v.reference for v in views),
        sections,
        footer="written by nirs4all compare",
    )


def _scores_table(comparison: Comparison, names: list[str]) -> html.Markup:
    columns = [html.Column("partition"), html.Column("metric"), html.Column("better")]
    columns += [html.Column(n, numeric=True) for n in names]
    rows = []
    for row in comparison.scores:
        cells: list[Any] = [
            row.partition,
            row.metric,
            {"min": "lower", "max": "higher"}.get(row.direction or "", ""),
        ]
        for i, value in enumerate(row.values):
            text = html.escape(format_value(value))
            cells.append(html.Markup(f'<strong class="best">{text}</strong>') if i in row.best else value)
        rows.append(cells)
    plain = [html.Column(c.name) for c in columns]  # bold cells are markup: no numeric sorting
    return html.table(plain, rows, table_id="scores", sortable=False)


def _figures(views: list[Any]) -> list[html.Markup]:
    arrays = [_arrays(Path(v.path)) for v in views]
    images = []
    for partition in ("val", "test"):
        series = [
            plots.Series(partition, *found[partition], name=f"{i + 1}: {views[i].folder}", colour=PALETTE[i])
            for i, found in enumerate(arrays)
            if partition in found
        ]
        if not series:
            continue
        label = plots.PARTITION_LABELS.get(partition, partition)
        images.append(
            html.image(
                plots.predicted_vs_true(series, f"{label}: predicted vs true", []),
                f"{partition} predicted vs true",
            )
        )
        images.append(html.image(plots.residuals(series, f"{label}: residuals"), f"{partition} residuals"))
    return images


def _arrays(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(y_true, y_pred) of each whole partition of a pipeline; empty for labels or no file."""
    try:
        groups = parse_predictions_csv((folder / "predictions.csv").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        return {}
    found = {p: (list(g["y_true"]), list(g["y_pred"])) for (p, fold), g in groups.items() if fold is None}
    for (partition, fold), group in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
        if fold is not None and not any(p == partition and f is None for p, f in groups):
            # out-of-fold predictions are written per fold: together they are the partition
            truth, predicted = found.setdefault(partition, ([], []))
            truth.extend(group["y_true"])
            predicted.extend(group["y_pred"])
    return {
        partition: (np.asarray(truth, dtype=float), np.asarray(predicted, dtype=float))
        for partition, (truth, predicted) in found.items()
        if truth
    }


def write_comparison_page(comparison: Comparison, target: Path) -> Path:
    """Write the page to ``target`` (atomically); returns its path."""
    target = Path(target)
    if target.is_dir():
        from ..errors import InputError

        raise InputError(f"{target} is a folder; give a file name for the page, e.g. compare.html")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, comparison_page(comparison))
    return target
