"""The ``predictions.csv`` format of a pipeline folder.

Columns ``y_true, y_pred, partition, sample_id, fold``. Validation rows carry
the fold that predicted them (out-of-fold predictions), so the whole validation
partition is the union of its folds and is not written twice. Floats are
written as ``repr`` writes them (the shortest text that reads back bit for bit).

Formatting floats is most of the cost of writing a pipeline's files (one ``repr``
is ~0.5 us: 0.2 ms for 400 predictions). Polars formats a whole array in C with
the same shortest digits, 10 times faster; it is used for the values it writes the
way ``repr`` does (zero and magnitudes from 1e-4 to 1e16, where neither uses an
exponent), after a once-per-process check against ``repr`` on probe values; every
other value (exponents, NaN, infinities) and every other dtype keeps ``repr``.
tests/workspace/test_predictions_csv.py compares the bytes with the per-value writer.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator, Sequence
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
    to_write = blocks_to_write(blocks)
    true_texts, pred_texts = _texts_of_floats(to_write)
    lines = [",".join(HEADER)]
    for block in to_write:
        fold = "" if block.fold is None else str(block.fold)
        y_true = np.asarray(block.y_true)
        y_pred = np.asarray(block.y_pred)
        ids = np.asarray(block.sample_ids).tolist()
        if y_true.dtype.kind == "f" and y_pred.dtype.kind == "f":
            # Numbers need no quoting: one f-string per row is several times faster than csv.
            tail = f",{block.partition},"
            if y_true.dtype in _VECTOR_DTYPES and y_pred.dtype in _VECTOR_DTYPES:
                t_texts = itertools.islice(true_texts, len(y_true))
                p_texts = itertools.islice(pred_texts, len(y_pred))
                lines.extend(
                    f"{t},{p}{tail}{i},{fold}" for t, p, i in zip(t_texts, p_texts, ids, strict=True)
                )
                continue
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


# Float dtypes whose ``tolist()`` gives the doubles ``astype(float64)`` gives (not longdouble).
_VECTOR_DTYPES = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16))
_VECTOR_MIN = 16  # below this many values, starting polars costs more than repr
_VECTOR_OK: bool | None = None  # whether polars formats the probe as repr does (checked once)
_VECTOR_LOW, _VECTOR_HIGH = 1e-4, 1e16  # magnitudes repr writes without an exponent
_PROBE = np.concatenate(
    [
        [0.0, -0.0, 1.0, -1.0, 100.0, 0.1, 1 / 3, 1e-4, 0.00010000000000000002, 1e15, 9999999999999998.0],
        [123456789012345.67, 2.0**53, 0.30000000000000004, 4.35, 1.25e-3, -7.0e-4, 5e14 + 0.5],
        np.random.default_rng(0).uniform(1, 10, size=256) * 10.0 ** np.repeat(np.arange(-4, 12), 16),
    ]
)


# The texts of the y_true of recent pipelines, by the bytes of their doubles: the pipelines
# of one dataset and one splitter share their y_true, only y_pred needs formatting.
_TRUE_TEXTS: dict[bytes, list[str]] = {}
_TRUE_TEXTS_KEPT = 8
_TRUE_TEXTS_MAX_VALUES = 20_000  # at most ~1.5 MB of texts per kept y_true


def _texts_of_floats(blocks: Sequence[PredictionBlock]) -> tuple[Iterator[str], Iterator[str]]:
    """The texts of y_true and of y_pred of the float blocks (as doubles), in the order written."""
    trues, preds = [], []
    for block in blocks:
        y_true, y_pred = np.asarray(block.y_true), np.asarray(block.y_pred)
        if y_true.dtype in _VECTOR_DTYPES and y_pred.dtype in _VECTOR_DTYPES:
            trues.append(y_true.astype(np.float64).ravel())
            preds.append(y_pred.astype(np.float64).ravel())
    if not trues:
        return iter(()), iter(())
    true_values, pred_values = np.concatenate(trues), np.concatenate(preds)
    key = true_values.tobytes() if len(true_values) <= _TRUE_TEXTS_MAX_VALUES else None
    true_texts = _TRUE_TEXTS.get(key) if key is not None else None
    if true_texts is not None:
        return iter(true_texts), iter(_float_texts(pred_values))
    both = _float_texts(np.concatenate([true_values, pred_values]))  # one call: a miss costs no more
    true_texts = both[: len(true_values)]
    if key is not None:
        if len(_TRUE_TEXTS) >= _TRUE_TEXTS_KEPT:
            _TRUE_TEXTS.pop(next(iter(_TRUE_TEXTS)), None)  # the oldest
        _TRUE_TEXTS[key] = true_texts
    return iter(true_texts), iter(both[len(true_values) :])


def _vector_texts(values: np.ndarray) -> list[str]:
    import polars as pl

    return pl.Series(values, dtype=pl.Float64).cast(pl.String).to_list()


def _vector_agrees() -> bool:
    try:
        return _vector_texts(_PROBE) == [repr(v) for v in _PROBE.tolist()]
    except Exception:  # any failure of polars here just means: use repr
        return False


def _float_texts(values: np.ndarray) -> list[str]:
    """``repr`` of each double of ``values`` (1-D float64)."""
    global _VECTOR_OK  # noqa: PLW0603 - one check per process
    if len(values) < _VECTOR_MIN:
        return list(map(float.__repr__, values.tolist()))
    if _VECTOR_OK is None:
        _VECTOR_OK = _vector_agrees()
    if not _VECTOR_OK:
        return list(map(float.__repr__, values.tolist()))
    texts = _vector_texts(values)
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(values)
        # repr uses an exponent outside [1e-4, 1e16) and writes nan/inf: those keep repr
        odd = ~((magnitude >= _VECTOR_LOW) & (magnitude < _VECTOR_HIGH)) & (values != 0)
    for i in np.flatnonzero(odd).tolist():
        texts[i] = float.__repr__(values[i].item())
    return texts


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
