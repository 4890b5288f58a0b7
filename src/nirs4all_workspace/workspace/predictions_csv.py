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

from .results import PredictionBlock

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
    lines = [",".join(HEADER)]
    for block in blocks_to_write(blocks):
        fold = "" if block.fold is None else str(block.fold)
        y_true = np.asarray(block.y_true)
        y_pred = np.asarray(block.y_pred)
        ids = np.asarray(block.sample_ids).tolist()
        if y_true.dtype.kind == "f" and y_pred.dtype.kind == "f":
            # Numbers need no quoting: one f-string per row is several times faster than csv.
            tail = f",{block.partition},"
            lines.extend(
                f"{t!r},{p!r}{tail}{i},{fold}"
                for t, p, i in zip(y_true.tolist(), y_pred.tolist(), ids, strict=True)
            )
        else:
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(
                (_cell(t), _cell(p), block.partition, str(i), fold)
                for t, p, i in zip(y_true.tolist(), y_pred.tolist(), ids, strict=True)
            )
            lines.append(out.getvalue().rstrip("\n"))
    return "\n".join(lines) + "\n"


def read_predictions_csv(path: Path, numeric: bool = True) -> dict[tuple[str, int | None], dict[str, list]]:
    """Rows of a ``predictions.csv`` grouped by (partition, fold).

    Values are floats when ``numeric`` (regression), else the labels as text.
    """
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return _group_rows(csv.DictReader(handle), numeric)


def parse_predictions_csv(text: str, numeric: bool = True) -> dict[tuple[str, int | None], dict[str, list]]:
    """:func:`read_predictions_csv` for text already in memory (e.g. read from an archive)."""
    return _group_rows(csv.DictReader(io.StringIO(text, newline="")), numeric)


def _group_rows(reader: csv.DictReader, numeric: bool) -> dict[tuple[str, int | None], dict[str, list]]:
    groups: dict[tuple[str, int | None], dict[str, list]] = {}
    convert = float if numeric else str
    for row in reader:
        fold = int(row["fold"]) if row.get("fold") else None
        group = groups.setdefault((row["partition"], fold), {"y_true": [], "y_pred": [], "sample_id": []})
        group["y_true"].append(convert(row["y_true"]))
        group["y_pred"].append(convert(row["y_pred"]))
        group["sample_id"].append(int(row["sample_id"]))
    return groups
