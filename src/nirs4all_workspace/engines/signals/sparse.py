"""Change-only storage of signals and regimes: encode, decode, Parquet bytes.

A dense per-bar series is stored as the rows where its value changes:

- ``signals.parquet`` (one per strategy variant): ``bar_idx`` int32,
  ``timestamp`` (UTC, microseconds), ``signal`` int8 in {-1, 0, 1},
  ``confidence`` float32. The signal is 0 before the first row.
- ``_classifiers/<name>_<digest>.parquet`` (one per classifier variant):
  ``bar_idx``, ``timestamp``, ``regime`` (label text; ``warmup`` before the
  classifier is defined), ``confidence``. Its first row is always bar 0.

Reading the rows back and forward-filling them gives the dense series exactly
(:func:`decode`); the confidence is the one of the bar where the value last
changed. The Parquet key-value metadata holds ``nirs4all.total_bars`` (the
true number of bars of the data set), ``nirs4all.changes`` and
``nirs4all.compression`` (changes / total_bars, a fraction), plus what the
rows belong to; every value is JSON text. Everything here works on bytes: the workspace writes them.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .classifiers import WARMUP

FORMAT = "nirs4all-signals/1"
KEY_PREFIX = "nirs4all."


class _ChangePoints:
    """What every change-only table answers: how many rows it keeps, out of how many bars."""

    bar_idx: np.ndarray
    total_bars: int

    @property
    def changes(self) -> int:
        return len(self.bar_idx)

    @property
    def compression(self) -> float:
        """Stored rows / bars: the fraction of the dense series that is kept (always <= 1)."""
        return self.changes / self.total_bars if self.total_bars else 0.0


@dataclass(frozen=True)
class SparseSignal(_ChangePoints):
    """A piecewise-constant series as its change points (value 0 before the first one)."""

    bar_idx: np.ndarray  # int32, strictly increasing
    values: np.ndarray  # int8 signals, or float64 exposures for combined signals
    confidence: np.ndarray  # float32
    total_bars: int

    def value_at(self, bars: np.ndarray) -> np.ndarray:
        """The value in force at each of ``bars`` (0 before the first change)."""
        position = np.searchsorted(self.bar_idx, bars, side="right") - 1
        values = np.concatenate([np.zeros(1, dtype=self.values.dtype), self.values])
        return values[position + 1]


@dataclass(frozen=True)
class SparseRegimes(_ChangePoints):
    """Regime codes at their change points (the first row is bar 0); code -1 is the warm-up."""

    bar_idx: np.ndarray  # int32, starts at 0
    codes: np.ndarray  # int8
    confidence: np.ndarray  # float32
    total_bars: int
    labels: tuple[str, ...]

    def code_at(self, bars: np.ndarray) -> np.ndarray:
        """The regime code in force at each of ``bars``."""
        return self.codes[np.searchsorted(self.bar_idx, bars, side="right") - 1]

    def code_of(self, label: str) -> int:
        """The code of ``label``; ValueError naming the labels if unknown."""
        if label == WARMUP:
            return -1
        try:
            return self.labels.index(label)
        except ValueError:
            raise ValueError(f"no regime {label!r}; regimes are: {', '.join(self.labels)}") from None


def change_points(values: np.ndarray, first: Any = 0) -> np.ndarray:
    """Indices where ``values`` differs from the value before (``first`` before index 0)."""
    values = np.asarray(values)
    if not len(values):
        return np.zeros(0, dtype=np.int32)
    differs = np.empty(len(values), dtype=bool)
    differs[0] = values[0] != first
    np.not_equal(values[1:], values[:-1], out=differs[1:])
    return np.flatnonzero(differs).astype(np.int32)


def encode(signal: np.ndarray, confidence: np.ndarray | None = None) -> SparseSignal:
    """The change points of a dense signal (the value before bar 0 is taken as 0)."""
    signal = np.asarray(signal)
    idx = change_points(signal, 0)
    conf = np.ones(len(idx), np.float32) if confidence is None else np.asarray(confidence)[idx]
    return SparseSignal(idx, signal[idx], conf.astype(np.float32), len(signal))


def decode(sparse: SparseSignal) -> tuple[np.ndarray, np.ndarray]:
    """The dense signal and confidence (forward-filled from the change points)."""
    n = sparse.total_bars
    owner = np.zeros(n, dtype=np.int64)  # 1 + index of the change in force, 0 before the first
    owner[sparse.bar_idx] = np.arange(1, sparse.changes + 1)
    owner = np.maximum.accumulate(owner) if n else owner
    values = np.concatenate([np.zeros(1, dtype=sparse.values.dtype), sparse.values])
    confidence = np.concatenate([np.zeros(1, dtype=np.float32), sparse.confidence])
    return values[owner], confidence[owner]


def encode_regimes(codes: np.ndarray, confidence: np.ndarray, labels: tuple[str, ...]) -> SparseRegimes:
    """The change points of dense regime codes (bar 0 always kept)."""
    codes = np.asarray(codes, dtype=np.int8)
    if not len(codes):
        return SparseRegimes(np.zeros(0, np.int32), codes, np.zeros(0, np.float32), 0, labels)
    idx = change_points(codes, -2)  # -2 is no code: bar 0 is always a change
    return SparseRegimes(idx, codes[idx], np.asarray(confidence, np.float32)[idx], len(codes), labels)


def decode_regimes(sparse: SparseRegimes) -> tuple[np.ndarray, np.ndarray]:
    owner = np.zeros(sparse.total_bars, dtype=np.int64)
    owner[sparse.bar_idx] = np.arange(sparse.changes)
    owner = np.maximum.accumulate(owner) if sparse.total_bars else owner
    return sparse.codes[owner], sparse.confidence[owner]


# -- Parquet bytes ---------------------------------------------------------------


def _metadata(total_bars: int, changes: int, extra: dict[str, Any]) -> dict[bytes, bytes]:
    items = {
        "format": FORMAT,
        "total_bars": total_bars,
        "changes": changes,
        "compression": changes / total_bars if total_bars else 0.0,
        **extra,
    }
    return {f"{KEY_PREFIX}{k}".encode(): json.dumps(v, sort_keys=True).encode() for k, v in items.items()}


def _timestamps(timestamps_ns: np.ndarray, idx: np.ndarray) -> Any:
    import pyarrow as pa

    return pa.array(np.asarray(timestamps_ns)[idx] // 1000, type=pa.timestamp("us", tz="UTC"))


def _to_bytes(table: Any) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", write_statistics=False)
    return sink.getvalue()


def signal_table(sparse: SparseSignal, timestamps_ns: np.ndarray, **extra: Any) -> bytes:
    """``signals.parquet`` as bytes; ``extra`` goes into the key-value metadata."""
    import pyarrow as pa

    schema = pa.schema(
        [
            ("bar_idx", pa.int32()),
            ("timestamp", pa.timestamp("us", tz="UTC")),
            ("signal", pa.int8()),
            ("confidence", pa.float32()),
        ],
        metadata=_metadata(sparse.total_bars, sparse.changes, extra),
    )
    columns = [
        pa.array(sparse.bar_idx, pa.int32()),
        _timestamps(timestamps_ns, sparse.bar_idx),
        pa.array(sparse.values.astype(np.int8), pa.int8()),
        pa.array(sparse.confidence, pa.float32()),
    ]
    return _to_bytes(pa.Table.from_arrays(columns, schema=schema))


def regime_table(sparse: SparseRegimes, timestamps_ns: np.ndarray, **extra: Any) -> bytes:
    """A classifier's change table as bytes (labels in the metadata too)."""
    import pyarrow as pa

    names = np.asarray([*sparse.labels, WARMUP], dtype=object)
    schema = pa.schema(
        [
            ("bar_idx", pa.int32()),
            ("timestamp", pa.timestamp("us", tz="UTC")),
            ("regime", pa.dictionary(pa.int8(), pa.string())),
            ("confidence", pa.float32()),
        ],
        metadata=_metadata(sparse.total_bars, sparse.changes, {"labels": list(sparse.labels), **extra}),
    )
    regime = pa.DictionaryArray.from_arrays(
        pa.array(np.where(sparse.codes < 0, len(sparse.labels), sparse.codes).astype(np.int8)),
        pa.array(names, pa.string()),
    )
    columns = [
        pa.array(sparse.bar_idx, pa.int32()),
        _timestamps(timestamps_ns, sparse.bar_idx),
        regime,
        pa.array(sparse.confidence, pa.float32()),
    ]
    return _to_bytes(pa.Table.from_arrays(columns, schema=schema))


def _read(source: bytes | Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(source) if isinstance(source, bytes) else str(source))


def table_metadata(table: Any) -> dict[str, Any]:
    """The ``nirs4all.*`` key-value metadata of a table read back, decoded."""
    found = {}
    for key, value in (table.schema.metadata or {}).items():
        name = key.decode()
        if name.startswith(KEY_PREFIX):
            found[name[len(KEY_PREFIX) :]] = json.loads(value.decode())  # every value is JSON
    return found


def read_signal_table(source: bytes | Path) -> tuple[SparseSignal, dict[str, Any]]:
    """A ``signals.parquet`` (bytes or path) back as a SparseSignal and its metadata."""
    table = _read(source)
    meta = table_metadata(table)
    sparse = SparseSignal(
        table.column("bar_idx").to_numpy().astype(np.int32),
        table.column("signal").to_numpy().astype(np.int8),
        table.column("confidence").to_numpy().astype(np.float32),
        int(meta["total_bars"]),
    )
    return sparse, meta


def read_regime_table(source: bytes | Path) -> tuple[SparseRegimes, dict[str, Any]]:
    """A classifier's change table (bytes or path) back as SparseRegimes and its metadata."""
    table = _read(source)
    meta = table_metadata(table)
    labels = tuple(meta["labels"])
    text = table.column("regime").to_pylist()
    lookup = {label: i for i, label in enumerate(labels)} | {WARMUP: -1}
    sparse = SparseRegimes(
        table.column("bar_idx").to_numpy().astype(np.int32),
        np.asarray([lookup[t] for t in text], dtype=np.int8),
        table.column("confidence").to_numpy().astype(np.float32),
        int(meta["total_bars"]),
        labels,
    )
    return sparse, meta


def content_digest(*parts: Any) -> str:
    """SHA-256 of arrays and JSON-able values: names files by what they hold."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(str(part.dtype).encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\x1f")
    return digest.hexdigest()
