"""Catalog rows of one pipeline, built from what its folder holds.

The same function serves the saver (from results in memory) and the rebuild
(from ``pipeline.json`` and ``predictions.csv`` on disk), so both give the same
rows. A prediction id is ``<pipeline_id>-<partition>[-f<fold>]``: unique, stable
across rebuilds, and sorting by creation time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from ..workspace.results import PredictionBlock

if TYPE_CHECKING:
    from ..workspace.saver import SavedPipeline


def prediction_id(pipeline_id: str, partition: str | None, fold: int | None) -> str:
    parts = [pipeline_id, partition or "none"]
    if fold is not None:
        parts.append(f"f{fold}")
    return "-".join(parts)


def _encode(values: np.ndarray, classes: list[Any] | None) -> np.ndarray:
    """Arrays are stored as floats; class labels as their index in ``classes``."""
    if classes is None:
        return np.asarray(values, dtype=np.float64)
    index = {label: i for i, label in enumerate(classes)}
    return np.array([index.get(v, -1) for v in np.asarray(values, dtype=object).tolist()], dtype=np.float64)


def _clean(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fill_catalog_rows(saved: SavedPipeline) -> SavedPipeline:
    """Set ``saved.meta_rows`` and ``saved.data_rows`` from what the writer stored; returns ``saved``."""
    if not saved.meta_rows:
        classes = saved.record.get("classes")
        saved.meta_rows, saved.data_rows = catalog_rows(saved.record, saved.blocks, classes)
    return saved


def catalog_rows(
    record: dict[str, Any], blocks: Sequence[PredictionBlock], classes: list[Any] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Meta rows and data rows for a pipeline described by its ``pipeline.json`` record.

    A failed pipeline (no blocks) gets one meta row with status ``failed`` and an
    empty data row, so that every finished pipeline appears in the catalog.
    """
    base = {
        "pipeline_id": record["id"],
        "dataset": record["dataset"],
        "session": record["session"],
        "engine": record["engine"],
        "pipeline_number": record["number"],
        "pipeline_folder": record["folder"],
        "pipeline_hash": record["hash"],
        "pipeline_name": record.get("name"),
        "model": record.get("model"),
        "preprocessing": record.get("preprocessing"),
        "params": json.dumps(record.get("params", {}), sort_keys=True, default=str),
        "task": record.get("task"),
        "n_samples": record.get("n_samples"),
        "n_features": record.get("n_features"),
        "duration_s": record.get("timings", {}).get("duration_s"),
        "created_at": datetime.fromisoformat(record["timings"]["created_at"]),
        "status": record["status"],
        "path": record["path"],
        "archived": False,
        "classes": json.dumps(classes, default=str) if classes is not None else None,
        "target": record.get("target"),
        "data_digest": record.get("data_digest"),
    }
    meta: list[dict[str, Any]] = []
    data: list[dict[str, Any]] = []
    if not blocks:
        pid = prediction_id(record["id"], None, None)
        meta.append({**base, "prediction_id": pid, "partition": None, "fold": None})
        data.append(
            {"prediction_id": pid, "partition": None, "y_true": [], "y_pred": [], "sample_indices": []}
        )
        return meta, data
    for block in blocks:
        pid = prediction_id(record["id"], block.partition, block.fold)
        row = {**base, "prediction_id": pid, "partition": block.partition, "fold": block.fold}
        row["n_samples"] = len(block.y_true)
        for name, value in block.metrics.items():
            row[name] = _clean(value)
        meta.append(row)
        data.append(
            {
                "prediction_id": pid,
                "partition": block.partition,
                "y_true": _encode(block.y_true, classes),
                "y_pred": _encode(block.y_pred, classes),
                "sample_indices": np.asarray(block.sample_ids, dtype=np.int64),
            }
        )
    return meta, data
