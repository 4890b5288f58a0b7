"""The ``predictions.csv`` format of a pipeline folder.

Columns ``y_true, y_pred, partition, sample_id, fold``. Validation rows carry
the fold that predicted them (out-of-fold predictions), so the whole validation
partition is the union of its folds and is not written twice. Floats are
written with ``repr`` so they read back bit for bit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..engines.base import PredictionBlock

HEADER = ("y_true", "y_pred", "partition", "sample_id", "fold")


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def blocks_to_write(blocks: Sequence[PredictionBlock]) -> list[PredictionBlock]:
    """Per partition: its fold blocks if it has any, else its whole block."""
    with_folds = {b.partition for b in blocks if b.fold is not None}
    return [b for b in blocks if b.fold is not None or b.partition not in with_folds]


def predictions_csv_text(blocks: Sequence[PredictionBlock]) -> str:
    """The text of ``predictions.csv`` for the given blocks."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for block in blocks_to_write(blocks):
        fold = "" if block.fold is None else str(block.fold)
        y_true = np.asarray(block.y_true).tolist()
        y_pred = np.asarray(block.y_pred).tolist()
        ids = np.asarray(block.sample_ids).tolist()
        writer.writerows(
            (_cell(t), _cell(p), block.partition, str(i), fold)
            for t, p, i in zip(y_true, y_pred, ids, strict=True)
        )
    return out.getvalue()


def read_predictions_csv(path: Path, numeric: bool = True) -> dict[tuple[str, int | None], dict[str, list]]:
    """Rows of a ``predictions.csv`` grouped by (partition, fold).

    Values are floats when ``numeric`` (regression), else the labels as text.
    """
    groups: dict[tuple[str, int | None], dict[str, list]] = {}
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            fold = int(row["fold"]) if row.get("fold") else None
            group = groups.setdefault((row["partition"], fold), {"y_true": [], "y_pred": [], "sample_id": []})
            convert = float if numeric else str
            group["y_true"].append(convert(row["y_true"]))
            group["y_pred"].append(convert(row["y_pred"]))
            group["sample_id"].append(int(row["sample_id"]))
    return groups
