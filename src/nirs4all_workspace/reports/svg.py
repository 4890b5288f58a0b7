"""The figures of the session report as inline SVG, drawn in Python from the data.

No matplotlib: a figure is a few ``<path>``, ``<rect>`` and ``<text>`` elements
computed here (scales, "nice" ticks, legend), so the end of a run draws the
session report's figures in milliseconds and the page stays one self-contained
file. Every text (titles, pipeline folders, parameter values: untrusted) is
escaped. The PNG files of ``outputs/`` are drawn by :mod:`.plots` (matplotlib)
only when asked (``--plots best`` or ``all``, ``nirs4all report``).

Engines describe their own figures as a :class:`Chart` (lines, filled areas,
shaded spans, markers) without drawing anything: :func:`chart` draws it here,
and :func:`.plots.chart_png` draws the same chart as a PNG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape as _html_escape
from typing import Any

import numpy as np

from .plots import ACCENT, MUTED, PARTITION_LABELS, Series, short_label

INK = "#1f2328"
AXIS = "#57606a"
GRID = "#eaeef2"
RED = "#cf222e"
PALETTE = (ACCENT, "#d9822b", "#8250df", "#1a7f37", "#cf222e", "#57606a")
CHAR_W = 6.2  # average width of a character at 11 px (labels are measured, not rendered)
MAX_POINTS = 1200  # longer lines are reduced to the min and max of each pixel column


def esc(text: Any) -> str:
    return _html_escape(str(text), quote=True)


def fmt(value: float) -> str:
    """A coordinate with one decimal (what a screen can show), without ``-0.0``."""
    text = f"{value:.1f}"
    return "0" if text in ("-0.0", "0.0") else text.removesuffix(".0")


def tick_label(value: float) -> str:
    return f"{value:.6g}"


# -- scales and ticks -----------------------------------------------------------
def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round values (1, 2, 2.5, 5 x 10^k steps) within [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if (high - low) / (m * magnitude) <= count + 1)
    first = math.ceil(low / step - 1e-9)
    values = [(first + i) * step for i in range(count + 2)]
    return [0.0 if abs(v) < step * 1e-9 else v for v in values if v <= high + step * 1e-9]


def log_ticks(low: float, high: float) -> list[float]:
    """Powers of ten within [low, high] (at least the two ends when none falls inside)."""
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    found = [10.0**k for k in range(first, last + 1)]
    return found if len(found) >= 2 else [low, high]


def padded(values: np.ndarray, fraction: float = 0.05) -> tuple[float, float]:
    """The finite range of ``values`` with a margin (a flat range gets a unit one)."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    pad = (high - low) * fraction or abs(high) * fraction or 1.0
    return low - pad, high + pad


@dataclass
class Scale:
    """Data values to pixels along one axis (``log``: base 10; pixels may run backwards)."""

    low: float
    high: float
    start: float
    stop: float
    log: bool = False

    def __call__(self, values: Any) -> np.ndarray:
        array = np.asarray(values, dtype=np.float64)
        low, high = self.low, self.high
        if self.log:
            array, low, high = np.log10(np.maximum(array, 1e-300)), math.log10(low), math.log10(high)
        span = (high - low) or 1.0
        return self.start + (array - low) / span * (self.stop - self.start)


# -- a figure with one plotting area ------------------------------------------
@dataclass
class Plot:
    """One SVG figure: a plotting area with two axes, built element by element."""

    width: int
    height: int
    title: str
    left: int = 58
    right: int = 16
    top: int = 44  # the title, then the legend in one row above the plotting area
    bottom: int = 42
    parts: list[str] = field(default_factory=list)
    legend_items: list[tuple[str, str, str]] = field(default_factory=list)  # label, colour, kind
    x: Scale | None = None
    y: Scale | None = None

    @property
    def area(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the plotting area in pixels."""
        return self.left, self.top, self.width - self.right, self.height - self.bottom

    def scales(self, x: tuple[float, float], y: tuple[float, float], xlog: bool = False, ylog: bool = False):
        x0, y0, x1, y1 = self.area
        self.x = Scale(x[0], x[1], x0, x1, xlog)
        self.y = Scale(y[0], y[1], y1, y0, ylog)  # pixels grow downwards
        return self

    # axes, grid and labels
    def axes(
        self,
        xlabel: str,
        ylabel: str,
        *,
        xticks: Sequence[tuple[float, str]] | None = None,
        yticks: Sequence[tuple[float, str]] | None = None,
        rotate_x: bool = False,
    ) -> None:
        assert self.x is not None and self.y is not None
        x0, y0, x1, y1 = self.area
        xs = xticks if xticks is not None else self._ticks(self.x)
        ys = yticks if yticks is not None else self._ticks(self.y)
        grid, labels = [], []
        for value, text in xs:
            px = float(self.x([value])[0])
            if x0 - 0.5 <= px <= x1 + 0.5:
                grid.append(f"M{fmt(px)} {fmt(y0)}V{fmt(y1)}")
                if rotate_x:
                    labels.append(
                        f'<text x="{fmt(px)}" y="{fmt(y1 + 10)}" text-anchor="end" '
                        f'transform="rotate(-40 {fmt(px)} {fmt(y1 + 10)})">{esc(text)}</text>'
                    )
                else:
                    labels.append(
                        f'<text x="{fmt(px)}" y="{fmt(y1 + 14)}" text-anchor="middle">{esc(text)}</text>'
                    )
        for value, text in ys:
            py = float(self.y([value])[0])
            if y0 - 0.5 <= py <= y1 + 0.5:
                grid.append(f"M{fmt(x0)} {fmt(py)}H{fmt(x1)}")
                labels.append(
                    f'<text x="{fmt(x0 - 5)}" y="{fmt(py + 3.5)}" text-anchor="end">{esc(text)}</text>'
                )
        self.parts.insert(0, f'<path d="{"".join(grid)}" stroke="{GRID}" fill="none"/>')
        self.parts.append(
            f'<path d="M{fmt(x0)} {fmt(y0)}V{fmt(y1)}H{fmt(x1)}" stroke="{AXIS}" fill="none"/>'
            f'<g fill="{AXIS}" font-size="10">{"".join(labels)}</g>'
        )
        below = y1 + (self.bottom - 6 if rotate_x else 32)
        self.parts.append(
            f'<text x="{fmt((x0 + x1) / 2)}" y="{fmt(below)}" text-anchor="middle">{esc(xlabel)}</text>'
            f'<text transform="translate(13 {fmt((y0 + y1) / 2)}) rotate(-90)" '
            f'text-anchor="middle">{esc(ylabel)}</text>'
        )

    @staticmethod
    def _ticks(scale: Scale) -> list[tuple[float, str]]:
        values = log_ticks(scale.low, scale.high) if scale.log else nice_ticks(scale.low, scale.high)
        return [(v, tick_label(v)) for v in values]

    # marks
    def points(
        self,
        x: Any,
        y: Any,
        colour: str,
        label: str | None = None,
        *,
        radius: float = 2.6,
        marker: str = "o",
        opacity: float = 0.7,
        titles: Sequence[str] | None = None,
    ) -> None:
        """Markers at (x, y); with ``titles``, one element per point that shows its title on hover."""
        assert self.x is not None and self.y is not None
        px, py = self.x(x), self.y(y)
        keep = np.isfinite(px) & np.isfinite(py)
        if titles is not None:
            shown = [
                f'<path d="{_marker(marker, a, b, radius)}"><title>{esc(t)}</title></path>'
                for a, b, t, k in zip(px, py, titles, keep, strict=True)
                if k
            ]
            if shown:
                self.parts.append(f'<g fill="{colour}" fill-opacity="{opacity}">{"".join(shown)}</g>')
        else:
            path = "".join(_marker(marker, a, b, radius) for a, b in zip(px[keep], py[keep], strict=True))
            if path:
                self.parts.append(f'<path d="{path}" fill="{colour}" fill-opacity="{opacity}"/>')
        if label:
            self.legend_items.append((label, colour, marker))

    def line(
        self,
        x: Any,
        y: Any,
        colour: str,
        label: str | None = None,
        *,
        width: float = 1.4,
        dash: str | None = None,
        step: bool = False,
    ) -> None:
        assert self.x is not None and self.y is not None
        px, py = _reduce(self.x(x), self.y(y))
        path = _polyline(px, py, step)
        if path:
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            self.parts.append(
                f'<path d="{path}" stroke="{colour}" stroke-width="{width}" fill="none"'
                f' stroke-linejoin="round"{dashes}/>'
            )
        if label:
            self.legend_items.append((label, colour, "dash" if dash else "line"))

    def hline(
        self, value: float, colour: str = AXIS, dash: str | None = None, label: str | None = None
    ) -> None:
        assert self.x is not None
        self.line([self.x.low, self.x.high], [value, value], colour, label, width=1.0, dash=dash)

    def fill(
        self, x: Any, y: Any, base: float, colour: str, label: str | None = None, opacity: float = 0.35
    ) -> None:
        """The area between ``y`` and the level ``base``."""
        assert self.x is not None and self.y is not None
        px, py = _reduce(self.x(x), self.y(y))
        if not len(px):
            return
        level = fmt(float(self.y([base])[0]))
        path = f"M{fmt(px[0])} {level}" + "".join(f"L{fmt(a)} {fmt(b)}" for a, b in zip(px, py, strict=True))
        self.parts.append(
            f'<path d="{path}L{fmt(px[-1])} {level}Z" fill="{colour}" fill-opacity="{opacity}"/>'
        )
        if label:
            self.legend_items.append((label, colour, "box"))

    def spans(self, spans: Sequence[tuple[float, float]], colour: str, label: str | None = None) -> None:
        """Shaded vertical bands over the whole height, from x start to x stop."""
        assert self.x is not None
        _, y0, _, y1 = self.area
        rects = []
        for start, stop in spans:
            a, b = (float(v) for v in self.x([start, stop]))
            rects.append(f"M{fmt(a)} {fmt(y0)}H{fmt(b)}V{fmt(y1)}H{fmt(a)}Z")
        if rects:
            self.parts.insert(0, f'<path d="{"".join(rects)}" fill="{colour}"/>')
        if label:
            self.legend_items.append((label, colour, "box"))

    def note(self, lines: Sequence[str]) -> None:
        """A boxed block of monospace lines at the top left of the plotting area."""
        if not lines:
            return
        x0, y0, _, _ = self.area
        width = max(len(line) for line in lines) * 6.6 + 10
        text = "".join(
            f'<tspan x="{fmt(x0 + 9)}" dy="{13 if i else 0}">{esc(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        self.parts.append(
            f'<rect x="{fmt(x0 + 4)}" y="{fmt(y0 + 4)}" width="{fmt(width)}" height="{13 * len(lines) + 6}" '
            f'rx="3" fill="#fff" stroke="#d0d7de"/>'
            f'<text x="{fmt(x0 + 9)}" y="{fmt(y0 + 16)}" font-family="ui-monospace, monospace" '
            f'font-size="10.5" xml:space="preserve" style="white-space:pre">{text}</text>'
        )

    # the whole figure
    def legend(self) -> str:
        """The legend in one row above the plotting area, ending at its right edge."""
        if not self.legend_items:
            return ""
        _, y0, x1, _ = self.area
        widths = [len(label) * CHAR_W + 34 for label, _, _ in self.legend_items]
        left = max(4.0, x1 - sum(widths))
        cy, rows = y0 - 10, []
        for (label, colour, kind), width in zip(self.legend_items, widths, strict=True):
            rows.append(_legend_key(kind, colour, left + 10, cy))
            rows.append(f'<text x="{fmt(left + 22)}" y="{fmt(cy + 3.5)}">{esc(label)}</text>')
            left += width
        return f'<g font-size="10.5">{"".join(rows)}</g>'

    def svg(self) -> str:
        title = esc(self.title)
        return (
            f'<svg viewBox="0 0 {self.width} {self.height}" '
            f'width="{self.width}" height="{self.height}" role="img" aria-label="{title}" '
            f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif" font-size="11" '
            f'fill="{INK}" style="display:block;max-width:100%;height:auto;background:#fff">'
            f"<title>{title}</title>"
            f'<text x="{fmt(self.width / 2)}" y="18" text-anchor="middle" font-size="12.5">{title}</text>'
            f"{''.join(self.parts)}{self.legend()}</svg>"
        )


def _marker(kind: str, x: float, y: float, r: float) -> str:
    if kind == "^":
        return f"M{fmt(x)} {fmt(y - r * 1.3)}l{fmt(r * 1.2)} {fmt(r * 2.1)}h{fmt(-r * 2.4)}Z"
    if kind == "v":
        return f"M{fmt(x)} {fmt(y + r * 1.3)}l{fmt(r * 1.2)} {fmt(-r * 2.1)}h{fmt(-r * 2.4)}Z"
    if kind == "D":
        d, m = fmt(r * 1.4), fmt(-r * 1.4)
        return f"M{fmt(x)} {fmt(y - r * 1.4)}l{d} {d}l{m} {d}l{m} {m}Z"
    d = fmt(2 * r)
    return f"M{fmt(x - r)} {fmt(y)}a{fmt(r)} {fmt(r)} 0 1 0 {d} 0a{fmt(r)} {fmt(r)} 0 1 0 -{d} 0"


def _legend_key(kind: str, colour: str, x: float, y: float) -> str:
    if kind in ("line", "dash"):
        dash = ' stroke-dasharray="4 3"' if kind == "dash" else ""
        return f'<path d="M{fmt(x - 8)} {fmt(y)}h16" stroke="{colour}" stroke-width="1.6"{dash}/>'
    if kind == "box":
        return f'<rect x="{fmt(x - 6)}" y="{fmt(y - 5)}" width="12" height="10" fill="{colour}"/>'
    return f'<path d="{_marker(kind, x, y, 3.2)}" fill="{colour}"/>'


def _polyline(px: np.ndarray, py: np.ndarray, step: bool = False) -> str:
    """Path data through the finite points; a gap (NaN) starts a new piece."""
    parts, pen = [], False
    previous = None
    for a, b in zip(px, py, strict=True):
        if not (math.isfinite(a) and math.isfinite(b)):
            pen = False
            continue
        if not pen:
            parts.append(f"M{fmt(a)} {fmt(b)}")
        elif step and previous is not None:
            parts.append(f"H{fmt(a)}V{fmt(b)}")
        else:
            parts.append(f"L{fmt(a)} {fmt(b)}")
        pen, previous = True, b
    return "".join(parts)


def _reduce(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A long line cut down to the first, lowest, highest and last point of each pixel column.

    The picture is the same (a screen cannot show more), the page stays small.
    """
    if len(px) <= MAX_POINTS or not np.all(np.diff(px) >= 0):
        return px, py
    columns = np.floor(px).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, np.diff(columns) > 0])
    stops = np.r_[starts[1:], len(px)]
    keep: list[int] = []
    for a, b in zip(starts, stops, strict=True):
        chunk = py[a:b]
        if not np.isfinite(chunk).any():
            keep.extend((a, b - 1))
            continue
        low, high = a + int(np.nanargmin(chunk)), a + int(np.nanargmax(chunk))
        keep.extend(sorted({a, low, high, b - 1}))
    index = np.asarray(keep)
    return px[index], py[index]


# -- colour ramps (darker is better) -------------------------------------------
YLGNBU = ("#ffffd9", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84")
BUGN = ("#f7fcfd", "#ccece6", "#99d8c9", "#66c2a4", "#41ae76", "#238b45", "#005824")


def ramp(colours: Sequence[str], t: float) -> str:
    """The colour at ``t`` in [0, 1] along ``colours`` (linear in RGB)."""
    t = min(max(t, 0.0), 1.0) * (len(colours) - 1)
    i = min(int(t), len(colours) - 2)
    a, b = (tuple(int(c[k : k + 2], 16) for k in (1, 3, 5)) for c in (colours[i], colours[i + 1]))
    f = t - i
    return "#" + "".join(f"{round(p + (q - p) * f):02x}" for p, q in zip(a, b, strict=True))


def _cells(
    plot_parts: list[str],
    values: np.ndarray,
    origin: tuple[float, float],
    cell: tuple[float, float],
    colour_of: Any,
    text_of: Any,
    dark_of: Any,
    title_of: Any = None,
) -> None:
    """One rectangle per matrix cell, annotated (``title_of(row, column, value)``: its hover text)."""
    x0, y0 = origin
    w, h = cell
    font = max(7.0, min(10.5, w / 4.2, h / 1.8))
    for (row, column), value in np.ndenumerate(values):
        x, y = x0 + column * w, y0 + row * h
        if not math.isfinite(value):
            plot_parts.append(
                f'<rect x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}" fill="#f6f8fa"/>'
            )
            continue
        title = f"<title>{esc(title_of(row, column, value))}</title>" if title_of else ""
        plot_parts.append(
            f'<rect x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}" '
            f'fill="{colour_of(value)}">{title}</rect>'
        )
        text = text_of(value)
        if text:
            colour = "#fff" if dark_of(value) else INK
            plot_parts.append(
                f'<text x="{fmt(x + w / 2)}" y="{fmt(y + h / 2 + font / 3)}" text-anchor="middle" '
                f'font-size="{fmt(font)}" fill="{colour}" pointer-events="none">{esc(text)}</text>'
            )


# -- the figures of one pipeline -----------------------------------------------
def predicted_vs_true(series: Sequence[Series], title: str, scores: Sequence[str]) -> str:
    """Scatter of predicted against true values per partition, the 1:1 line and the scores."""
    values = np.concatenate([np.concatenate([s.y_true, s.y_pred]) for s in series]).astype(np.float64)
    low, high = padded(values, 0.04)
    side = 380  # a square plotting area: the 1:1 line at 45 degrees
    plot = Plot(58 + 16 + side, 44 + 42 + side, short_label(title, 60)).scales((low, high), (low, high))
    plot.line([low, high], [low, high], AXIS, "1:1", width=1.0, dash="5 4")
    for s in series:
        plot.points(s.y_true, s.y_pred, s.color, s.label)
    plot.axes("true", "predicted")
    plot.note(list(scores))
    return plot.svg()


def residuals(series: Sequence[Series], title: str) -> str:
    """Residuals (predicted - true) against the predicted value, with +/- 2 SD of validation."""
    preds = np.concatenate([s.y_pred for s in series]).astype(np.float64)
    res = np.concatenate([s.y_pred - s.y_true for s in series]).astype(np.float64)
    reference = next((s for s in series if s.partition == "val"), series[0])
    spread = float(np.nanstd(reference.y_pred - reference.y_true))
    ylow, yhigh = padded(np.r_[res, 2.2 * spread, -2.2 * spread, 0.0])
    plot = Plot(520, 380, short_label(title, 60)).scales(padded(preds), (ylow, yhigh))
    plot.hline(0.0)
    plot.hline(2 * spread, MUTED, "2 3", "+/- 2 SD (val)")
    plot.hline(-2 * spread, MUTED, "2 3")
    for s in series:
        plot.points(s.y_pred, s.y_pred - s.y_true, s.color, s.label)
    plot.axes("predicted", "residual (predicted - true)")
    return plot.svg()


def confusion_matrices(matrices: Sequence[tuple[str, np.ndarray]], classes: Sequence[Any], title: str) -> str:
    """One annotated confusion matrix (rows: true, columns: predicted) per partition."""
    labels = [short_label(c, 14) for c in classes]
    n = max(len(classes), 1)
    cell = max(22.0, min(48.0, 300.0 / n))
    side = cell * n
    margin_left = max(len(label) for label in labels or [""]) * CHAR_W + 34
    margin_bottom = max(len(label) for label in labels or [""]) * CHAR_W * 0.7 + 40
    panel = margin_left + side + 20
    width, height = int(panel * len(matrices) + 10), int(side + 60 + margin_bottom)
    plot = Plot(width, height, short_label(title, 60))
    for index, (partition, matrix) in enumerate(matrices):
        x0, y0 = index * panel + margin_left, 52.0
        peak = max(int(matrix.max()) if matrix.size else 0, 1)
        _cells(
            plot.parts,
            matrix.astype(np.float64),
            (x0, y0),
            (cell, cell),
            lambda v, p=peak: ramp(BUGN, v / p),
            lambda v: str(int(v)),
            lambda v, p=peak: v > p * 0.6,
        )
        accuracy = float(np.trace(matrix)) / max(int(matrix.sum()), 1)
        name = PARTITION_LABELS.get(partition, partition)
        plot.parts.append(
            f'<text x="{fmt(x0 + side / 2)}" y="{fmt(y0 - 8)}" text-anchor="middle">'
            f"{esc(f'{name}: accuracy {accuracy:.3f}')}</text>"
        )
        ticks = []
        for i, label in enumerate(labels):
            ty, tx = y0 + (i + 0.5) * cell + 3.5, x0 + (i + 0.5) * cell
            ticks.append(f'<text x="{fmt(x0 - 5)}" y="{fmt(ty)}" text-anchor="end">{esc(label)}</text>')
            ticks.append(
                f'<text x="{fmt(tx)}" y="{fmt(y0 + side + 12)}" text-anchor="end" '
                f'transform="rotate(-40 {fmt(tx)} {fmt(y0 + side + 12)})">{esc(label)}</text>'
            )
        plot.parts.append(f'<g font-size="10" fill="{AXIS}">{"".join(ticks)}</g>')
        plot.parts.append(
            f'<text x="{fmt(x0 + side / 2)}" y="{fmt(height - 8)}" text-anchor="middle">predicted</text>'
            f'<text transform="translate({fmt(x0 - margin_left + 12)} {fmt(y0 + side / 2)}) rotate(-90)" '
            f'text-anchor="middle">true</text>'
        )
    return plot.svg()


def coefficients(x: np.ndarray, values: np.ndarray, labels: Sequence[str], xlabel: str, title: str) -> str:
    """Model coefficients over the features (wavelengths), one line per target or class."""
    rows = np.atleast_2d(values)
    x = np.asarray(x, dtype=np.float64)
    plot = Plot(600, 340, short_label(title, 70)).scales(
        (float(x.min()), float(x.max())) if x.size > 1 else (0.0, 1.0), padded(np.r_[rows.ravel(), 0.0])
    )
    plot.hline(0.0)
    for index, row in enumerate(rows):
        label = labels[index] if len(rows) > 1 and index < len(labels) else None
        plot.line(x, row, PALETTE[index % len(PALETTE)], short_label(label, 20) if label else None, width=1.2)
    plot.axes(xlabel, "coefficient")
    return plot.svg()


# -- a grid of pipelines --------------------------------------------------------
def _best(values: np.ndarray, direction: str) -> float:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return math.nan
    return float(finite.min() if direction == "min" else finite.max())


def score_by_parameter(
    name: str,
    values: Sequence[Any],
    scores: Sequence[float],
    metric_label: str,
    direction: str,
    *,
    numeric: bool,
    log: bool = False,
    names: Sequence[str] | None = None,
) -> str:
    """Every pipeline's score against one grid parameter, with the best score per value.

    ``names`` (the pipelines' folders) are shown when the pointer rests on a point.
    """
    scores_array = np.asarray(scores, dtype=np.float64)
    titles = (
        [f"{n}: {metric_label} {s:.4g}" for n, s in zip(names, scores_array, strict=True)] if names else None
    )
    better = "lower" if direction == "min" else "higher"
    title = f"{metric_label} by {short_label(name, 40)} ({better} is better)"
    if numeric:
        x = np.asarray(values, dtype=np.float64)
        levels = np.unique(x[np.isfinite(x)])
        span = (float(levels.min()) / 1.4, float(levels.max()) * 1.4) if log else padded(levels)
        plot = Plot(520, 340, title).scales(span, padded(scores_array), xlog=log)
        plot.points(x, scores_array, MUTED, "pipeline", opacity=0.6, titles=titles)
        best = [_best(scores_array[x == level], direction) for level in levels]
        plot.line(levels, best, ACCENT, "best")
        plot.points(levels, best, ACCENT, radius=3.0, opacity=1.0)
        ticks = [(float(v), f"{v:.4g}") for v in levels] if len(levels) <= 12 else None
        plot.axes(short_label(name, 50), metric_label, xticks=ticks)
        return plot.svg()
    categories = list(dict.fromkeys(str(v) for v in values))
    labels = [short_label(c) for c in categories]
    left = int(min(max(len(label) for label in labels) * CHAR_W + 24, 230))
    height = int(min(max(200, 26 * len(categories) + 90), 640))
    plot = Plot(max(520, left + 330), height, title, left=left).scales(
        padded(scores_array), (len(categories) - 0.5, -0.5)
    )
    position = {c: i for i, c in enumerate(categories)}
    y = np.array([position[str(v)] for v in values], dtype=np.float64)
    plot.points(scores_array, y, MUTED, "pipeline", opacity=0.6, titles=titles)
    best = [_best(scores_array[y == i], direction) for i in range(len(categories))]
    plot.points(best, range(len(categories)), ACCENT, "best", marker="D", radius=3.6, opacity=1.0)
    plot.axes(metric_label, "", yticks=list(enumerate(labels)))
    plot.parts.append(
        f'<text x="{fmt(left)}" y="{fmt(height - 8)}" text-anchor="start" fill="{AXIS}">'
        f"rows: {esc(short_label(name, 50))}</text>"
    )
    return plot.svg()


def heat_map(
    rows: tuple[str, Sequence[str]],
    columns: tuple[str, Sequence[str]],
    values: np.ndarray,
    metric_label: str,
    direction: str,
    title: str,
) -> str:
    """Best score per cell of a two-parameter grid (darker is better); the best cell is outlined."""
    row_name, row_labels = rows
    column_name, column_labels = columns
    row_text = [short_label(r) for r in row_labels]
    column_text = [short_label(c, 20) for c in column_labels]
    rotate = len(column_labels) > 6 or max((len(c) for c in column_text), default=0) > 6
    cell_w = max(34.0, min(64.0, 560.0 / max(len(column_labels), 1)))
    cell_h = max(18.0, min(34.0, 420.0 / max(len(row_labels), 1)))
    left = int(min(max((len(r) for r in row_text), default=1) * CHAR_W + 30, 240))
    bottom = int((max((len(c) for c in column_text), default=1) * CHAR_W * 0.7 if rotate else 14) + 40)
    x0, y0 = float(left), 34.0
    width = int(left + cell_w * len(column_labels) + 90)
    height = int(y0 + cell_h * len(row_labels) + bottom)
    plot = Plot(max(width, 360), height, short_label(title, 70))
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = (high - low) or 1.0

    def goodness(v: float) -> float:  # 1 for the best score, 0 for the worst
        return (v - low) / span if direction == "max" else (high - v) / span

    annotate = values.size <= 400
    _cells(
        plot.parts,
        values,
        (x0, y0),
        (cell_w, cell_h),
        lambda v: ramp(YLGNBU, goodness(v)),
        lambda v: f"{v:.3g}" if annotate else "",
        lambda v: goodness(v) > 0.55,
        lambda i, j, v: (
            f"{row_name}={row_labels[i]}, {column_name}={column_labels[j]}: {metric_label} {v:.4g}"
        ),
    )
    if finite.size:
        score = np.where(np.isfinite(values), values if direction == "max" else -values, -np.inf)
        row, column = np.unravel_index(int(np.argmax(score)), values.shape)
        plot.parts.append(
            f'<rect x="{fmt(x0 + column * cell_w + 1)}" y="{fmt(y0 + row * cell_h + 1)}" '
            f'width="{fmt(cell_w - 2)}" height="{fmt(cell_h - 2)}" fill="none" '
            f'stroke="{RED}" stroke-width="2"/>'
        )
    ticks = []
    bottom_edge = y0 + cell_h * len(row_labels)
    for i, label in enumerate(row_text):
        ticks.append(
            f'<text x="{fmt(x0 - 5)}" y="{fmt(y0 + (i + 0.5) * cell_h + 3.5)}" '
            f'text-anchor="end">{esc(label)}</text>'
        )
    for j, label in enumerate(column_text):
        tx = x0 + (j + 0.5) * cell_w
        if rotate:
            ticks.append(
                f'<text x="{fmt(tx)}" y="{fmt(bottom_edge + 12)}" text-anchor="end" '
                f'transform="rotate(-40 {fmt(tx)} {fmt(bottom_edge + 12)})">{esc(label)}</text>'
            )
        else:
            ticks.append(
                f'<text x="{fmt(tx)}" y="{fmt(bottom_edge + 14)}" text-anchor="middle">{esc(label)}</text>'
            )
    plot.parts.append(f'<g font-size="10" fill="{AXIS}">{"".join(ticks)}</g>')
    right = x0 + cell_w * len(column_labels)
    plot.parts.append(
        f'<text x="{fmt((x0 + right) / 2)}" y="{fmt(height - 8)}" text-anchor="middle">'
        f"{esc(short_label(column_name, 50))}</text>"
        f'<text transform="translate(12 {fmt((y0 + bottom_edge) / 2)}) rotate(-90)" text-anchor="middle">'
        f"{esc(short_label(row_name, 50))}</text>"
    )
    # the colour bar: better at the top
    bar_x, bar_h, steps = right + 16, min(cell_h * len(row_labels), 220.0), 16
    for k in range(steps):
        t = 1 - k / (steps - 1)
        plot.parts.append(
            f'<rect x="{fmt(bar_x)}" y="{fmt(y0 + k * bar_h / steps)}" width="12" '
            f'height="{fmt(bar_h / steps + 0.5)}" fill="{ramp(YLGNBU, t)}"/>'
        )
    best_text, worst_text = (high, low) if direction == "max" else (low, high)
    plot.parts.append(
        f'<g font-size="9.5" fill="{AXIS}">'
        f'<text x="{fmt(bar_x + 16)}" y="{fmt(y0 + 8)}">{best_text:.3g}</text>'
        f'<text x="{fmt(bar_x + 16)}" y="{fmt(y0 + bar_h)}">{worst_text:.3g}</text>'
        f'<text x="{fmt(bar_x + 16)}" y="{fmt(y0 + bar_h / 2 + 3)}">'
        f"{esc(short_label(metric_label, 12))}</text></g>"
    )
    return plot.svg()


# -- what engines describe -------------------------------------------------------
@dataclass(frozen=True)
class Layer:
    """One mark of a :class:`Chart`.

    ``kind``: ``line`` (``dash`` for a dashed one), ``fill`` (the area between ``y`` and 0),
    ``points`` (``marker``: ``o``, ``^``, ``v`` or ``D``), ``spans`` (``x`` holds
    (start, stop) pairs shaded over the whole height; ``y`` unused).
    """

    kind: str
    x: Any
    y: Any = None
    colour: str = ACCENT
    label: str | None = None
    marker: str = "o"
    dash: bool = False
    opacity: float = 0.35


@dataclass(frozen=True)
class Chart:
    """A figure an engine describes and the core draws (SVG here, PNG in :mod:`.plots`)."""

    title: str
    xlabel: str
    ylabel: str
    layers: tuple[Layer, ...]
    width: int = 700
    height: int = 360


def chart(figure: Chart) -> str:
    """An engine's :class:`Chart` as SVG."""
    xs, ys = [], []
    for layer in figure.layers:
        if layer.kind == "spans":
            xs += [v for span in layer.x for v in span]
        else:
            xs.append(np.asarray(layer.x, dtype=np.float64).ravel())
            ys.append(np.asarray(layer.y, dtype=np.float64).ravel())
            if layer.kind == "fill":
                ys.append(np.zeros(1))
    x_all = (
        np.concatenate([np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in xs]) if xs else np.zeros(1)
    )
    y_all = np.concatenate(ys) if ys else np.zeros(1)
    finite_x = x_all[np.isfinite(x_all)]
    x_range = (float(finite_x.min()), float(finite_x.max())) if finite_x.size > 1 else (0.0, 1.0)
    if x_range[0] == x_range[1]:
        x_range = (x_range[0] - 1, x_range[1] + 1)
    plot = Plot(figure.width, figure.height, short_label(figure.title, 90)).scales(x_range, padded(y_all))
    for layer in figure.layers:
        if layer.kind == "line":
            plot.line(layer.x, layer.y, layer.colour, layer.label, dash="5 4" if layer.dash else None)
        elif layer.kind == "fill":
            plot.fill(layer.x, layer.y, 0.0, layer.colour, layer.label, layer.opacity)
        elif layer.kind == "points":
            plot.points(
                layer.x, layer.y, layer.colour, layer.label, marker=layer.marker, radius=3.0, opacity=1.0
            )
        elif layer.kind == "spans":
            plot.spans(layer.x, layer.colour, layer.label)
    plot.axes(figure.xlabel, figure.ylabel)
    return plot.svg()
