"""What varied in a grid search: its parameters and its two-parameter sub-grids.

A *grid parameter* is a key of the pipelines' ``params`` (``model.n_components``,
``preprocessing``...) that takes at least two values among the pipelines that
have it; constant settings (the splitter's seed) are left out. The model and the
preprocessing count as parameters too when the engine does not list them.
A *heat map* is drawn for each model whose pipelines vary exactly two
parameters (e.g. preprocessing x n_components for PLS).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .pipelines import PipelineRow

LOG_SPAN = 100.0  # a positive numeric parameter spanning this ratio is drawn on a log axis
_FIELDS = ("model", "preprocessing")


@dataclass(frozen=True)
class GridAxis:
    """One grid parameter: its value and score for each scored pipeline that has it (and the
    pipeline's folder, which the figure shows on hover)."""

    name: str
    values: list[Any]
    scores: list[float]
    numeric: bool
    log: bool
    folders: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HeatMapGrid:
    """Best score per (row value, column value) for the pipelines of one model."""

    title: str
    row_name: str
    row_labels: list[str]
    column_name: str
    column_labels: list[str]
    values: np.ndarray


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parameters_of(row: PipelineRow) -> dict[str, Any]:
    """The row's params, plus ``model`` and ``preprocessing`` unless the engine lists them."""
    params = dict(row.params)
    for name in _FIELDS:
        if name not in params and getattr(row, name):
            params[name] = getattr(row, name)
    return params


def varying_parameters(rows: Sequence[PipelineRow]) -> list[str]:
    """Names of the parameters with at least two distinct values: model, preprocessing, then by name."""
    seen: dict[str, set[str]] = {}
    for row in rows:
        for name, value in parameters_of(row).items():
            seen.setdefault(name, set()).add(_key(value))
    varying = [name for name, values in seen.items() if len(values) >= 2]
    return sorted(varying, key=lambda n: (n not in _FIELDS, _FIELDS.index(n) if n in _FIELDS else 0, n))


def scored(rows: Sequence[PipelineRow], metric: str, partition: str) -> list[tuple[PipelineRow, float]]:
    """The completed rows with a finite score, and that score."""
    found = []
    for row in rows:
        score = row.score(metric, partition)
        if row.status == "completed" and score is not None:
            found.append((row, score))
    return found


def grid_axes(rows: Sequence[PipelineRow], metric: str, partition: str) -> list[GridAxis]:
    """One axis per grid parameter, over the scored pipelines."""
    pairs = scored(rows, metric, partition)
    axes = []
    for name in varying_parameters([row for row, _ in pairs]):
        values, scores, folders = [], [], []
        for row, score in pairs:
            params = parameters_of(row)
            if name in params:
                values.append(params[name])
                scores.append(score)
                folders.append(row.folder)
        if len({_key(v) for v in values}) < 2:
            continue
        numeric = all(_is_number(v) for v in values)
        log = numeric and min(values) > 0 and max(values) / min(values) >= LOG_SPAN
        shown = values if numeric else [display(v) for v in values]
        axes.append(GridAxis(name, shown, scores, numeric, log, folders))
    return axes


def display(value: Any) -> str:
    """A parameter value as a short label."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str | int | bool):
        return str(value)
    return _key(value)


def heat_maps(rows: Sequence[PipelineRow], metric: str, partition: str, direction: str) -> list[HeatMapGrid]:
    """A grid per model whose scored pipelines vary exactly two parameters (every one has both)."""
    pairs = scored(rows, metric, partition)
    by_model: dict[str, list[tuple[PipelineRow, float]]] = {}
    for row, score in pairs:
        by_model.setdefault(row.model, []).append((row, score))
    grids = []
    for model, group in by_model.items():
        params = [parameters_of(row) for row, _ in group]
        common = set.intersection(*(set(p) for p in params)) - {"model"}
        varying = [n for n in varying_parameters([row for row, _ in group]) if n in common]
        if len(varying) != 2:
            continue
        grids.append(_grid(model, varying, params, [score for _, score in group], direction))
    return grids


def _levels(values: list[Any]) -> list[Any]:
    """Distinct values: numbers sorted, anything else in the order met (the grid's order)."""
    unique = list({_key(v): v for v in values}.values())
    return sorted(unique) if all(_is_number(v) for v in unique) else unique


def _grid(
    model: str, names: list[str], params: list[dict[str, Any]], scores: list[float], direction: str
) -> HeatMapGrid:
    first, second = ([n, _levels([p[n] for p in params])] for n in names)
    # Numbers across (sorted left to right), the longer labels down the side.
    if all(_is_number(v) for v in first[1]) and not all(_is_number(v) for v in second[1]):
        first, second = second, first
    row_name, row_levels = first
    column_name, column_levels = second
    row_index = {_key(v): i for i, v in enumerate(row_levels)}
    column_index = {_key(v): i for i, v in enumerate(column_levels)}
    values = np.full((len(row_levels), len(column_levels)), np.nan)
    for p, score in zip(params, scores, strict=True):
        i, j = row_index[_key(p[row_name])], column_index[_key(p[column_name])]
        current = values[i, j]
        if math.isnan(current) or (score < current if direction == "min" else score > current):
            values[i, j] = score
    return HeatMapGrid(
        title=model or "all pipelines",
        row_name=row_name,
        row_labels=[display(v) for v in row_levels],
        column_name=column_name,
        column_labels=[display(v) for v in column_levels],
        values=values,
    )


def parameter_text(row: PipelineRow, names: Sequence[str]) -> str:
    """``n_components=6, alpha=0.1``: the row's grid parameters (model and preprocessing have columns)."""
    params = parameters_of(row)
    parts = []
    for name in names:
        if name in _FIELDS or name not in params:
            continue
        label = name.split(".", 1)[1] if name.startswith("model.") else name
        parts.append(f"{label}={display(params[name])}")
    return ", ".join(parts)
