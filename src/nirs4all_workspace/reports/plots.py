"""The figures of the reports, drawn with matplotlib into PNG bytes.

matplotlib is imported inside the functions (never when the CLI starts) and
only through its object API with the Agg canvas: no pyplot, no global state,
no display needed. Figures are small (about 600 x 420 pixels at 100 DPI) so a
report stays light and drawing one takes a few tens of milliseconds.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DPI = 100
ACCENT = "#007a7a"  # the CLI's cyan, darkened to read on white
COLORS = {"val": ACCENT, "test": "#d9822b", "train": "#8c959f"}
MUTED = "#8c959f"
PARTITION_LABELS = {"val": "validation (out-of-fold)", "test": "test", "train": "train (refit)"}
MAX_LABEL = 32


@dataclass(frozen=True)
class Series:
    """True and predicted values of one partition."""

    partition: str
    y_true: np.ndarray
    y_pred: np.ndarray
    name: str | None = None  # overlaid pipelines: the legend names the pipeline, not the partition
    colour: str | None = None

    @property
    def label(self) -> str:
        return self.name or PARTITION_LABELS.get(self.partition, self.partition)

    @property
    def color(self) -> str:
        return self.colour or COLORS.get(self.partition, MUTED)


def short_label(text: Any, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters (with an ellipsis) for an axis label."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Plots whose labels are short numbers get fixed margins: the constrained layout
# engine (needed where labels are long text) costs about a third of a drawing.
FIXED_MARGINS = {"left": 0.12, "right": 0.97, "bottom": 0.12, "top": 0.92}


def _figure(width: float, height: float, fixed: bool = False) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout=None if fixed else "constrained")
    if fixed:
        figure.subplots_adjust(**FIXED_MARGINS)
    FigureCanvasAgg(figure)
    return figure


def _style(axes: Any) -> None:
    axes.grid(True, color="#eaeef2", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=8)


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


# -- one pipeline -------------------------------------------------------------
def predicted_vs_true(series: Sequence[Series], title: str, scores: Sequence[str]) -> bytes:
    """Scatter of predicted against true values per partition, the 1:1 line and the scores."""
    figure = _figure(5.6, 4.6, fixed=True)
    axes = figure.add_subplot()
    _style(axes)
    values = np.concatenate([np.concatenate([s.y_true, s.y_pred]) for s in series])
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    pad = (high - low) * 0.04 or 1.0
    low, high = low - pad, high + pad
    axes.plot([low, high], [low, high], color="#57606a", linewidth=1, linestyle="--", label="1:1")
    for s in series:
        axes.scatter(s.y_true, s.y_pred, s=14, alpha=0.7, color=s.color, label=s.label, edgecolors="none")
    axes.set_xlim(low, high)
    axes.set_ylim(low, high)
    axes.set_aspect("equal", adjustable="box")
    axes.set_xlabel("true", fontsize=9)
    axes.set_ylabel("predicted", fontsize=9)
    axes.set_title(short_label(title, 60), fontsize=10)
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    if scores:
        axes.text(
            0.02,
            0.98,
            "\n".join(scores),
            transform=axes.transAxes,
            va="top",
            fontsize=8,
            family="monospace",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#d0d7de"},
        )
    return _png(figure)


def residuals(series: Sequence[Series], title: str) -> bytes:
    """Residuals (predicted - true) against the predicted value, with +/- 2 SD of validation."""
    figure = _figure(5.6, 4.0, fixed=True)
    axes = figure.add_subplot()
    _style(axes)
    axes.axhline(0.0, color="#57606a", linewidth=1)
    for s in series:
        residual = s.y_pred - s.y_true
        axes.scatter(s.y_pred, residual, s=14, alpha=0.7, color=s.color, label=s.label, edgecolors="none")
    reference = next((s for s in series if s.partition == "val"), series[0])
    spread = float(np.nanstd(reference.y_pred - reference.y_true))
    for sign in (-2, 2):
        axes.axhline(sign * spread, color=MUTED, linewidth=0.8, linestyle=":")
    axes.set_xlabel("predicted", fontsize=9)
    axes.set_ylabel("residual (predicted - true)", fontsize=9)
    axes.set_title(short_label(title, 60), fontsize=10)
    axes.legend(loc="best", fontsize=8, frameon=False)
    return _png(figure)


def confusion_matrices(
    matrices: Sequence[tuple[str, np.ndarray]], classes: Sequence[Any], title: str
) -> bytes:
    """One annotated confusion matrix (rows: true, columns: predicted) per partition."""
    count = len(matrices)
    size = min(max(2.6, 0.5 * len(classes) + 1.6), 6.0)
    figure = _figure(size * count + 0.4, size + 0.6)
    labels = [short_label(c, 14) for c in classes]
    for index, (partition, matrix) in enumerate(matrices, 1):
        axes = figure.add_subplot(1, count, index)
        peak = max(int(matrix.max()), 1)
        axes.imshow(matrix, cmap="BuGn", vmin=0, vmax=peak)
        for (row, column), value in np.ndenumerate(matrix):
            color = "white" if value > peak * 0.6 else "#1f2328"
            axes.text(column, row, str(int(value)), ha="center", va="center", fontsize=8, color=color)
        ticks = range(len(classes))
        axes.set_xticks(ticks, labels, rotation=45, ha="right", fontsize=8)
        axes.set_yticks(ticks, labels, fontsize=8)
        axes.set_xlabel("predicted", fontsize=9)
        axes.set_ylabel("true", fontsize=9)
        accuracy = float(np.trace(matrix)) / max(int(matrix.sum()), 1)
        axes.set_title(f"{PARTITION_LABELS.get(partition, partition)}: accuracy {accuracy:.3f}", fontsize=9)
    figure.suptitle(short_label(title, 60), fontsize=10)
    return _png(figure)


def coefficients(x: np.ndarray, values: np.ndarray, labels: Sequence[str], xlabel: str, title: str) -> bytes:
    """Model coefficients over the features (wavelengths), one line per target or class."""
    figure = _figure(6.4, 3.8, fixed=True)
    axes = figure.add_subplot()
    _style(axes)
    axes.axhline(0.0, color="#57606a", linewidth=0.8)
    rows = np.atleast_2d(values)
    palette = [ACCENT, "#d9822b", "#8250df", "#1a7f37", "#cf222e", "#57606a"]
    for index, row in enumerate(rows):
        label = labels[index] if index < len(labels) else None
        axes.plot(x, row, linewidth=1.1, color=palette[index % len(palette)], label=label)
    if len(rows) > 1:
        axes.legend(fontsize=8, frameon=False, ncols=min(len(rows), 4))
    axes.set_xlabel(xlabel, fontsize=9)
    axes.set_ylabel("coefficient", fontsize=9)
    axes.set_title(short_label(title, 70), fontsize=10)
    return _png(figure)


# -- a grid of pipelines ------------------------------------------------------
def _better_first(values: np.ndarray, direction: str) -> np.ndarray:
    return values if direction == "max" else -values


def score_by_parameter(
    name: str,
    values: Sequence[Any],
    scores: Sequence[float],
    metric_label: str,
    direction: str,
    *,
    numeric: bool,
    log: bool = False,
) -> bytes:
    """Every pipeline's score against one grid parameter, with the best score per value."""
    scores_array = np.asarray(scores, dtype=np.float64)
    categories = [] if numeric else list(dict.fromkeys(str(v) for v in values))
    height = 3.8 if numeric else min(max(2.4, 0.42 * len(categories) + 1.4), 8.0)
    figure = _figure(5.6, height, fixed=numeric)
    axes = figure.add_subplot()
    _style(axes)
    if numeric:
        x = np.asarray(values, dtype=np.float64)
        axes.scatter(x, scores_array, s=16, color=MUTED, alpha=0.6, edgecolors="none", label="pipeline")
        levels = np.unique(x)
        best = [_best(scores_array[x == level], direction) for level in levels]
        axes.plot(levels, best, color=ACCENT, marker="o", markersize=4, linewidth=1.5, label="best")
        if log:
            axes.set_xscale("log")
        if len(levels) <= 12:  # the grid's own values as ticks (no 2.5 components)
            axes.set_xticks(levels, [f"{v:.4g}" for v in levels])
            axes.minorticks_off()
        axes.set_xlabel(name, fontsize=9)
        axes.set_ylabel(metric_label, fontsize=9)
    else:
        position = {c: i for i, c in enumerate(categories)}
        y = np.array([position[str(v)] for v in values], dtype=np.float64)
        axes.scatter(scores_array, y, s=16, color=MUTED, alpha=0.6, edgecolors="none", label="pipeline")
        best = [_best(scores_array[y == i], direction) for i in range(len(categories))]
        axes.scatter(best, range(len(categories)), s=40, color=ACCENT, marker="D", label="best")
        axes.set_yticks(range(len(categories)), [short_label(c) for c in categories], fontsize=8)
        axes.invert_yaxis()
        axes.set_xlabel(metric_label, fontsize=9)
        axes.set_ylabel(name, fontsize=9)
    better = "lower" if direction == "min" else "higher"
    axes.set_title(f"{metric_label} by {short_label(name, 40)} ({better} is better)", fontsize=10)
    axes.legend(fontsize=8, frameon=False, loc="best")
    return _png(figure)


def _best(values: np.ndarray, direction: str) -> float:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return math.nan
    return float(finite.min() if direction == "min" else finite.max())


def heat_map(
    rows: tuple[str, Sequence[str]],
    columns: tuple[str, Sequence[str]],
    values: np.ndarray,
    metric_label: str,
    direction: str,
    title: str,
) -> bytes:
    """Best score per cell of a two-parameter grid; the best cell is outlined."""
    row_name, row_labels = rows
    column_name, column_labels = columns
    height = min(max(2.8, 0.38 * len(row_labels) + 1.6), 9.0)
    width = min(max(4.6, 0.55 * len(column_labels) + 3.4), 11.0)
    figure = _figure(width, height)
    axes = figure.add_subplot()
    # A darker cell is a better score, whatever the metric's direction.
    cmap = "YlGnBu" if direction == "max" else "YlGnBu_r"
    image = axes.imshow(np.ma.masked_invalid(values), cmap=cmap, aspect="auto")
    figure.colorbar(image, ax=axes, shrink=0.85).set_label(metric_label, fontsize=8)
    if values.size <= 400:
        finite = values[np.isfinite(values)]
        middle = float(np.median(finite)) if finite.size else 0.0
        for (row, column), value in np.ndenumerate(values):
            if math.isfinite(value):
                dark = value > middle if direction == "max" else value < middle
                axes.text(
                    column,
                    row,
                    f"{value:.3g}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "#1f2328",
                )
    if np.isfinite(values).any():
        score = np.where(np.isfinite(values), _better_first(values, direction), -np.inf)
        row, column = np.unravel_index(int(np.argmax(score)), values.shape)
        axes.add_patch(_outline(column, row))
    axes.set_xticks(range(len(column_labels)), [short_label(c, 20) for c in column_labels], fontsize=8)
    axes.set_yticks(range(len(row_labels)), [short_label(r) for r in row_labels], fontsize=8)
    if len(column_labels) > 6:
        axes.tick_params(axis="x", labelrotation=45)
    axes.set_xlabel(short_label(column_name, 50), fontsize=9)
    axes.set_ylabel(short_label(row_name, 50), fontsize=9)
    axes.set_title(short_label(title, 70), fontsize=10)
    return _png(figure)


def _outline(column: int, row: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="#cf222e", linewidth=2)


# -- across sessions and datasets ---------------------------------------------
def history(
    sessions: Sequence[str],
    scores: Sequence[Sequence[float]],
    metric_label: str,
    direction: str,
    title: str,
) -> bytes:
    """Every pipeline's score per session, the session's best and the best so far."""
    figure = _figure(max(5.6, min(0.5 * len(sessions) + 3.5, 12.0)), 4.0)
    axes = figure.add_subplot()
    _style(axes)
    best_per_session = []
    for index, values in enumerate(scores):
        array = np.asarray(values, dtype=np.float64)
        jitter = np.random.default_rng(index).uniform(-0.15, 0.15, len(array))  # same picture every time
        axes.scatter(
            index + jitter,
            array,
            s=10,
            color=MUTED,
            alpha=0.45,
            edgecolors="none",
            label="pipeline" if index == 0 else None,
        )
        best_per_session.append(_best(array, direction))
    positions = np.arange(len(sessions))
    best = np.asarray(best_per_session, dtype=np.float64)
    so_far = np.fmin.accumulate(best) if direction == "min" else np.fmax.accumulate(best)
    axes.plot(positions, best, color=ACCENT, marker="o", linewidth=1.2, label="best of the session")
    # The best so far holds until the next session improves it (drawn to the right edge).
    axes.step(
        np.append(positions, len(sessions) - 0.5),
        np.append(so_far, so_far[-1:]),
        where="post",
        color="#d9822b",
        linewidth=1.5,
        linestyle="--",
        label="best so far",
    )
    _focus_on_the_best(axes, scores, best, direction)
    axes.set_xticks(positions, [short_label(s, 20) for s in sessions], fontsize=8)
    if len(sessions) > 4:
        axes.tick_params(axis="x", labelrotation=45)
    axes.set_xlim(-0.5, len(sessions) - 0.5)
    axes.set_xlabel("session", fontsize=9)
    axes.set_ylabel(metric_label, fontsize=9)
    better = "lower" if direction == "min" else "higher"
    axes.set_title(f"{short_label(title, 50)} ({better} is better)", fontsize=10)
    axes.legend(fontsize=8, frameon=False, loc="best")
    return _png(figure)


def _focus_on_the_best(
    axes: Any, scores: Sequence[Sequence[float]], best: np.ndarray, direction: str
) -> None:
    """Cut the worst tenth of the pipelines off the chart: the picture is about the best."""
    values = np.asarray([v for session in scores for v in session], dtype=np.float64)
    values = values[np.isfinite(values)]
    finite_best = best[np.isfinite(best)]
    if values.size < 10 or not finite_best.size:
        return
    low, high = float(values.min()), float(values.max())
    if direction == "min":
        high = max(float(np.quantile(values, 0.9)), float(finite_best.max()))
    else:
        low = min(float(np.quantile(values, 0.1)), float(finite_best.min()))
    pad = (high - low) * 0.05 or abs(high) * 0.05 or 1.0
    axes.set_ylim(low - pad, high + pad)


def bars(labels: Sequence[str], values: Sequence[float], metric_label: str, title: str) -> bytes:
    """One horizontal bar per label (e.g. the best score of each dataset)."""
    figure = _figure(6.0, min(max(2.4, 0.35 * len(labels) + 1.4), 10.0))
    axes = figure.add_subplot()
    _style(axes)
    positions = np.arange(len(labels))
    array = np.asarray(values, dtype=np.float64)
    axes.barh(positions, np.nan_to_num(array), color=ACCENT, height=0.6)
    for position, value in zip(positions, array, strict=True):
        if math.isfinite(value):
            axes.text(value, position, f" {value:.3g}", va="center", fontsize=8)
    axes.set_yticks(positions, [short_label(label) for label in labels], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(metric_label, fontsize=9)
    axes.set_title(short_label(title, 70), fontsize=10)
    return _png(figure)


# -- what engines describe ------------------------------------------------------
def chart_png(chart: Any) -> bytes:
    """An engine's :class:`.svg.Chart` drawn as a PNG (the same marks as its SVG)."""
    figure = _figure(chart.width / DPI, chart.height / DPI)
    axes = figure.add_subplot()
    _style(axes)
    markers = {"o": "o", "^": "^", "v": "v", "D": "D"}
    for layer in chart.layers:
        if layer.kind == "line":
            axes.plot(
                layer.x,
                layer.y,
                color=layer.colour,
                linewidth=1.2,
                label=layer.label,
                linestyle="--" if layer.dash else "-",
            )
        elif layer.kind == "fill":
            axes.fill_between(
                layer.x, layer.y, 0.0, color=layer.colour, alpha=layer.opacity, linewidth=0, label=layer.label
            )
        elif layer.kind == "points":
            axes.scatter(
                layer.x,
                layer.y,
                marker=markers.get(layer.marker, "o"),
                s=18,
                color=layer.colour,
                label=layer.label,
                zorder=3,
            )
        elif layer.kind == "spans":
            for index, (start, stop) in enumerate(layer.x):
                axes.axvspan(
                    start, stop, color=layer.colour, linewidth=0, label=layer.label if index == 0 else None
                )
    axes.set_xlabel(chart.xlabel, fontsize=9)
    axes.set_ylabel(chart.ylabel, fontsize=9)
    axes.set_title(short_label(chart.title, 90), fontsize=10)
    if any(layer.label for layer in chart.layers):
        axes.legend(loc="best", fontsize=7, frameon=False, ncol=3)
    return _png(figure)
