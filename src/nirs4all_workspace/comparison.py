"""Pipelines side by side: ``nirs4all compare DATASET/A DATASET/B ...``.

:func:`compare_pipelines` reads 2 to 10 pipelines (of one dataset or several,
each through :func:`~nirs4all_workspace.inspection.describe_pipeline`) and
returns a :class:`Comparison`: the params that differ (equal ones folded into
``same``), and per partition and metric the scores side by side with the best
marked, the direction of each metric asked of the engine's declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .facade import Workspace
from .inspection import PipelineView, describe_pipeline

MIN_PIPELINES = 2
MAX_PIPELINES = 10
_MISSING = object()


@dataclass
class ScoreRow:
    """One metric of one partition across the compared pipelines."""

    partition: str
    metric: str
    values: list[float | None]
    direction: str | None  # None: no installed engine declares it, nothing is marked
    best: list[int]  # indexes of the pipelines with the best value (ties all marked)

    def to_dict(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "metric": self.metric,
            "values": self.values,
            "direction": self.direction,
            "best": self.best,
        }


@dataclass
class Comparison:
    """What ``compare`` shows; :meth:`to_dict` is its ``--json``."""

    pipelines: list[PipelineView]
    differing: dict[str, list[Any]]  # param -> its value in each pipeline (None where absent)
    same: dict[str, Any]
    scores: list[ScoreRow]

    @property
    def references(self) -> list[str]:
        return [p.reference for p in self.pipelines]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipelines": [
                {
                    "reference": p.reference,
                    "dataset": p.dataset,
                    "folder": p.folder,
                    "number": p.number,
                    "session": p.session,
                    "engine": p.engine,
                    "status": p.status,
                    "model": p.model,
                    "preprocessing": p.preprocessing,
                    "is_best": p.is_best,
                }
                for p in self.pipelines
            ],
            "params_differing": self.differing,
            "params_same": self.same,
            "scores": [row.to_dict() for row in self.scores],
        }


def compare_pipelines(workspace: Workspace, references: list[str]) -> Comparison:
    """Compare the pipelines named ``DATASET/PIPELINE`` (2 to 10, each once).

    Raises InputError for too few or too many pipelines, or one named twice, and
    PipelineNotFound for an unknown one.
    """
    if not MIN_PIPELINES <= len(references) <= MAX_PIPELINES:
        raise InputError(
            f"compare takes {MIN_PIPELINES} to {MAX_PIPELINES} pipelines (DATASET/PIPELINE), "
            f"not {len(references)}"
        )
    views = [describe_pipeline(workspace, reference) for reference in references]
    seen: dict[str, str] = {}
    for reference, view in zip(references, views, strict=True):
        if view.reference in seen:
            raise InputError(
                f"{reference!r} and {seen[view.reference]!r} are the same pipeline ({view.reference})"
            )
        seen[view.reference] = reference
    differing, same = split_params([v.params for v in views])
    return Comparison(views, differing, same, score_rows(views))


def split_params(params: list[dict[str, Any]]) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """(params whose values differ -> the value of each, params equal in all -> the value)."""
    differing: dict[str, list[Any]] = {}
    same: dict[str, Any] = {}
    for key in sorted({k for p in params for k in p}):
        values = [p.get(key, _MISSING) for p in params]
        if all(v is not _MISSING and v == values[0] for v in values):
            same[key] = values[0]
        else:
            differing[key] = [None if v is _MISSING else v for v in values]
    return differing, same


def score_rows(views: list[PipelineView]) -> list[ScoreRow]:
    """Per partition (train, val, test, then others) and metric, the scores with the best marked."""
    from .catalog.engine_metrics import direction_of

    engines = sorted({v.engine for v in views if v.engine})
    partitions = [p for p in ("train", "val", "test") if any(p in v.scores for v in views)]
    partitions += sorted({p for v in views for p in v.scores} - set(partitions))
    rows = []
    for partition in partitions:
        metrics = sorted({m for v in views for m in v.scores.get(partition, {})})
        for metric in metrics:
            values = [_number(v.scores.get(partition, {}).get(metric)) for v in views]
            try:
                direction: str | None = direction_of(metric, engines)
            except InputError:
                direction = None
            rows.append(ScoreRow(partition, metric, values, direction, _best(values, direction)))
    return rows


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _best(values: list[float | None], direction: str | None) -> list[int]:
    present = [v for v in values if v is not None]
    if direction is None or len(present) < 2:
        return []
    target = min(present) if direction == "min" else max(present)
    return [i for i, v in enumerate(values) if v == target]
