"""The pipelines a report shows, read from the catalog.

Reports read the catalog rather than the run folders: it answers in
milliseconds and still holds the pipelines whose folders were deleted or
archived. One :class:`PipelineRow` gathers the whole-partition rows of one
pipeline (per-fold rows are left out).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import polars as pl

from ..catalog.predictions import Predictions
from ..catalog.schema import metric_columns
from ..errors import PipelineNotFound

T = TypeVar("T")


@dataclass
class PipelineRow:
    """One pipeline of the catalog with its scores per partition."""

    pipeline_id: str
    dataset: str
    session: str
    number: int
    folder: str
    model: str
    preprocessing: str
    params: dict[str, Any]
    status: str
    task: str
    duration_s: float | None
    created_at: datetime | None
    path: str | None
    classes: list[Any] | None = None
    n_features: int | None = None
    n_samples: dict[str, int] = field(default_factory=dict)
    prediction_ids: dict[str, str] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    data_digest: str | None = None  # the data version it ran on (None: before data versions)
    engine: str = ""

    def score(self, metric: str, partition: str = "val") -> float | None:
        """The finite ``metric`` on ``partition``, or None."""
        value = self.scores.get(partition, {}).get(metric)
        return value if value is not None and math.isfinite(value) else None


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def rows_from_frame(frame: pl.DataFrame) -> list[PipelineRow]:
    """Group catalog meta rows (whole partitions) by pipeline, ordered by dataset and number."""
    metrics = metric_columns(frame.columns)
    rows: dict[str, PipelineRow] = {}
    for record in frame.iter_rows(named=True):
        row = rows.get(record["pipeline_id"])
        if row is None:
            row = PipelineRow(
                pipeline_id=record["pipeline_id"],
                dataset=record["dataset"],
                session=record["session"],
                number=int(record["pipeline_number"]),
                folder=record["pipeline_folder"],
                model=record.get("model") or "",
                preprocessing=record.get("preprocessing") or "",
                params=json.loads(record["params"]) if record.get("params") else {},
                status=record["status"],
                task=record.get("task") or "",
                duration_s=record.get("duration_s"),
                created_at=record.get("created_at"),
                path=record.get("path"),
                classes=json.loads(record["classes"]) if record.get("classes") else None,
                n_features=record.get("n_features"),
                data_digest=record.get("data_digest"),
                engine=record.get("engine") or "",
            )
            rows[row.pipeline_id] = row
        partition = record.get("partition")
        if partition:
            row.prediction_ids[partition] = record["prediction_id"]
            if record.get("n_samples") is not None:
                row.n_samples[partition] = int(record["n_samples"])
            row.scores[partition] = {m: v for m in metrics if (v := _finite(record.get(m))) is not None}
    return sorted(rows.values(), key=lambda r: (r.dataset, r.number))


def catalog_rows(
    predictions: Predictions, dataset: str | None = None, session: str | None = None
) -> list[PipelineRow]:
    """Every pipeline of the catalog (of one dataset, of one session), deleted ones (trash) left out."""
    frame = predictions.scan().filter(pl.col("fold").is_null() & ~pl.col("trashed"))
    if dataset is not None:
        frame = frame.filter(pl.col("dataset") == dataset)
    if session is not None:
        frame = frame.filter(pl.col("session") == session)
    return rows_from_frame(predictions.collect(frame))


def latest_session(predictions: Predictions, dataset: str) -> str:
    """The session of ``dataset`` whose first pipeline is the newest; PipelineNotFound if none."""
    frame = predictions.collect(
        predictions.scan()
        .filter(pl.col("dataset") == dataset)
        .group_by("session")
        .agg(pl.col("created_at").min())
        .sort("created_at", descending=True, nulls_last=True)
        .head(1)
    )
    if not frame.height:
        known = predictions.collect(predictions.scan().select(pl.col("dataset").unique().sort()))
        names = ", ".join(known["dataset"].to_list()) or "none"
        raise PipelineNotFound(f"the catalog has no pipeline of dataset {dataset!r}; datasets: {names}")
    return str(frame["session"][0])


def best_by(items: Iterable[T], score: Callable[[T], float | None], direction: str) -> T | None:
    """The item with the best score (``min`` or ``max``); ties keep the first one met."""
    best: T | None = None
    best_score: float | None = None
    for item in items:
        value = score(item)
        if value is None:
            continue
        if best_score is None or (value < best_score if direction == "min" else value > best_score):
            best, best_score = item, value
    return best


def newest_version(rows: Sequence[PipelineRow]) -> list[PipelineRow]:
    """The rows of the newest data version (that of the newest row with a digest); all without digests."""
    dated = [r for r in rows if r.data_digest is not None]
    if not dated:
        return list(rows)
    newest = max(dated, key=lambda r: (r.created_at is not None, r.created_at or 0, r.number)).data_digest
    return [r for r in rows if r.data_digest == newest]


def best_row(rows: Iterable[PipelineRow], metric: str, partition: str, direction: str) -> PipelineRow | None:
    """The completed row with the best score; ties keep the lowest number (rows come by number)."""
    completed = (r for r in rows if r.status == "completed")
    return best_by(completed, lambda r: r.score(metric, partition), direction)


def metrics_present(rows: Sequence[PipelineRow], partition: str) -> list[str]:
    """Metrics that at least one row scores on ``partition``."""
    return sorted({m for row in rows for m in row.scores.get(partition, {})})


@dataclass
class PartitionArrays:
    """True and predicted values of one partition (labels decoded for classification)."""

    partition: str
    y_true: np.ndarray
    y_pred: np.ndarray


def arrays_from_data_rows(
    data_rows: Iterable[dict[str, Any]], partitions: dict[str, str], classes: list[Any] | None
) -> dict[str, PartitionArrays]:
    """Arrays of catalog data rows, for the given ``{partition: prediction_id}``."""
    by_id = {row["prediction_id"]: row for row in data_rows}
    found = {}
    for partition, prediction_id in partitions.items():
        row = by_id.get(prediction_id)
        if row is None or len(row["y_true"]) == 0:  # lists (catalog) or arrays (a run's rows)
            continue
        y_true = np.asarray(row["y_true"], dtype=np.float64)
        y_pred = np.asarray(row["y_pred"], dtype=np.float64)
        if classes is not None:
            y_true, y_pred = _labels(y_true, classes), _labels(y_pred, classes)
        found[partition] = PartitionArrays(partition, y_true, y_pred)
    return found


def _labels(codes: np.ndarray, classes: list[Any]) -> np.ndarray:
    """Class labels from their index in ``classes`` (the catalog's encoding; -1 is unknown)."""
    names = [str(c) for c in classes]
    return np.array([names[int(c)] if 0 <= c < len(names) else "?" for c in codes], dtype=object)


def pipeline_arrays(predictions: Predictions, row: PipelineRow) -> dict[str, PartitionArrays]:
    """The prediction arrays of one pipeline, read from the catalog's data file."""
    frame = predictions.arrays(row.prediction_ids.values())
    return arrays_from_data_rows(frame.iter_rows(named=True), row.prediction_ids, row.classes)
