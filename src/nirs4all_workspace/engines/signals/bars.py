"""Price bars: loading OHLCV files, checking them, aligning several symbols on timestamps.

A :class:`Bars` is the signals engine's dataset: one symbol at one timeframe
(``SPY_1m``), as numpy arrays (timestamps in UTC nanoseconds, strictly
increasing). It is immutable and picklable; its ``fingerprint`` (SHA-256 of
every array) keys the engine's per-process caches and is recorded with the
stored signals, so a replay can refuse bars that are not the ones the signals
were computed on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ...engines.base import DatasetIdentity
from ...errors import DatasetError

PRICE_COLUMNS = ("open", "high", "low", "close")
TIMESTAMP_NAMES = ("timestamp", "datetime", "date", "time", "ts")
SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}
TRADING_SECONDS_PER_DAY = 390 * 60  # a US equity session: 6.5 hours
TRADING_DAYS_PER_YEAR = 252
_RANGE = re.compile(r"^(?P<path>.+)\[(?P<start>\d*):(?P<stop>\d*)\]$")  # SPY_1m.parquet[0:19500]


@dataclass(frozen=True, eq=False)
class Bars:
    """OHLCV bars of one symbol (``n_samples`` bars, ``n_features`` = 5 price/volume columns)."""

    name: str
    source: str
    timestamps: np.ndarray  # int64 nanoseconds since the epoch, UTC, strictly increasing
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    symbol: str = ""
    fingerprint: str = field(default="", compare=False)

    task = "trading"
    feature_names = ("open", "high", "low", "close", "volume")

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", bars_fingerprint(self))

    @property
    def n_samples(self) -> int:
        return len(self.close)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def bar_seconds(self) -> float:
        """The usual spacing of the bars (median of the gaps; overnight gaps do not count)."""
        if len(self.timestamps) < 2:
            return 60.0
        gaps = np.diff(self.timestamps) / 1e9
        return float(np.median(gaps))

    @property
    def timeframe(self) -> str:
        return timeframe_label(self.bar_seconds)

    @property
    def bars_per_year(self) -> float:
        """Bars in a trading year at this spacing: 252 x 390 for one-minute bars, 252 for daily."""
        return bars_per_year(self.bar_seconds)

    @property
    def bar_range(self) -> tuple[int, int] | None:
        """``(start, stop)`` in the file when these bars are a slice of it, else None."""
        match = _RANGE.match(self.source)
        if not match:
            return None
        start = int(match["start"] or 0)
        return start, int(match["stop"]) if match["stop"] else start + self.n_samples

    @property
    def identity(self) -> DatasetIdentity:
        """The question these bars answer: the symbol and the bar range; the digest of every bar."""
        match = _RANGE.match(self.source)
        span = self.bar_range
        where = None if span is None else f"{span[0]}:{span[1]}"
        return DatasetIdentity(
            source=match["path"] if match else self.source,
            target=self.symbol if where is None else f"{self.symbol}[{where}]",
            task=self.task,
            digest=self.fingerprint,
            slice=where,
        )

    def slice(self, start: int, stop: int | None = None, name: str | None = None) -> Bars:
        """Bars ``start:stop`` as a new dataset, named by :func:`slice_name` unless given.

        Its ``source`` says so (``SPY_1m.parquet[0:19500]``), and :func:`load_bars`
        reads such a source back, so a replay can find the same bars again.
        """
        first, last, _ = slice(start, stop).indices(self.n_samples)
        base, offset = self.source, 0
        match = _RANGE.match(self.source)
        whole_name = self.name
        if match:
            base, offset = match["path"], int(match["start"] or 0)
            whole_name = _unsliced_name(self.name, self.bar_range)
        return Bars(
            name=name or slice_name(whole_name, offset + first, offset + max(first, last)),
            source=f"{base}[{offset + first}:{offset + max(first, last)}]",
            timestamps=self.timestamps[first:last].copy(),
            open=self.open[first:last].copy(),
            high=self.high[first:last].copy(),
            low=self.low[first:last].copy(),
            close=self.close[first:last].copy(),
            volume=self.volume[first:last].copy(),
            symbol=self.symbol,
        )

    def describe(self) -> dict[str, Any]:
        """What ``pipeline.json`` and the analytics record of the data."""
        return {
            "name": self.name,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "bars": self.n_samples,
            "first": _iso(self.timestamps[0]) if self.n_samples else None,
            "last": _iso(self.timestamps[-1]) if self.n_samples else None,
            "bars_per_year": self.bars_per_year,
            "fingerprint": self.fingerprint,
        }

    def __repr__(self) -> str:
        return f"Bars({self.name!r}, {self.n_samples} bars, {self.timeframe})"


def slice_name(name: str, start: int, stop: int) -> str:
    """The dataset name of bars ``start:stop`` (positions in the file) of dataset ``name``.

    The one naming rule for a range of bars, used by ``run`` (``SPY_1m.parquet[0:19500]``
    is dataset ``SPY_1m_0_19500``), workflows, analytics and replay, so a slice
    never shares a dataset folder with the whole file or another slice.
    """
    return f"{name}_{start}_{stop}"


def _unsliced_name(name: str, span: tuple[int, int] | None) -> str:
    """The whole file's dataset name, from a slice's name given by :func:`slice_name`."""
    if span is not None:
        suffix = slice_name("", *span)
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _iso(ns: int) -> str:
    return np.datetime_as_string(np.datetime64(int(ns), "ns"), unit="s") + "Z"


def bars_fingerprint(bars: Bars) -> str:
    """SHA-256 (32 hex digits) of the timestamps and the five columns."""
    digest = hashlib.sha256()
    for array in (bars.timestamps, bars.open, bars.high, bars.low, bars.close, bars.volume):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:32]


def timeframe_label(seconds: float) -> str:
    """``1m``, ``5m``, ``1h``, ``1d``... for a bar spacing in seconds."""
    for unit, size in (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def bars_per_year(seconds: float) -> float:
    """Annualisation factor for bars ``seconds`` apart (trading time, not calendar time).

    Intraday bars: 252 sessions of 390 minutes (98,280 one-minute bars); daily
    bars: 252; weekly: 52.
    """
    if seconds >= 7 * 86_400:
        return 52.0 * 7 * 86_400 / seconds
    if seconds >= 0.9 * 86_400:
        return TRADING_DAYS_PER_YEAR * 86_400 / seconds
    return TRADING_DAYS_PER_YEAR * TRADING_SECONDS_PER_DAY / seconds


def from_arrays(
    name: str,
    timestamps: Any,
    close: Any,
    *,
    open: Any = None,
    high: Any = None,
    low: Any = None,
    volume: Any = None,
    source: str = "memory",
    symbol: str = "",
) -> Bars:
    """Bars from arrays (open/high/low default to close, volume to 0); DatasetError if invalid."""
    close_array = np.ascontiguousarray(close, dtype=np.float64)
    n = len(close_array)

    def column(values: Any, default: np.ndarray) -> np.ndarray:
        return default.copy() if values is None else np.ascontiguousarray(values, dtype=np.float64)

    bars = Bars(
        name=name,
        source=source,
        timestamps=_as_nanoseconds(np.asarray(timestamps), name),
        open=column(open, close_array),
        high=column(high, close_array),
        low=column(low, close_array),
        close=close_array,
        volume=column(volume, np.zeros(n)),
        symbol=symbol or name.split("_", maxsplit=1)[0],
    )
    check_bars(bars)
    return bars


def _as_nanoseconds(values: np.ndarray, name: str) -> np.ndarray:
    if values.dtype.kind == "M":
        return values.astype("datetime64[ns]").astype(np.int64)
    if values.dtype.kind in "iu":
        # Integers: epoch seconds, milliseconds, microseconds or nanoseconds, by magnitude.
        top = int(np.abs(values).max()) if len(values) else 0
        scale = 1 if top > 1e17 else 1_000 if top > 1e14 else 1_000_000 if top > 1e11 else 1_000_000_000
        return values.astype(np.int64) * scale
    raise DatasetError(f"dataset {name!r}: timestamps must be dates or epoch integers, not {values.dtype}")


def check_bars(bars: Bars) -> None:
    """DatasetError naming the first problem: lengths, order, missing or non-positive prices."""
    n = len(bars.close)
    if n < 2:
        raise DatasetError(f"dataset {bars.name!r} has {n} bar(s); at least 2 are needed")
    for column in ("timestamps", "open", "high", "low", "close", "volume"):
        if len(getattr(bars, column)) != n:
            raise DatasetError(f"dataset {bars.name!r}: column {column!r} has a different length")
    steps = np.diff(bars.timestamps)
    if (steps <= 0).any():
        row = int(np.flatnonzero(steps <= 0)[0]) + 1
        kind = "repeats" if steps[row - 1] == 0 else "goes back in time"
        raise DatasetError(
            f"dataset {bars.name!r}: the timestamp of bar {row} {kind}; bars must be sorted "
            "by time with one bar per timestamp"
        )
    for column in (*PRICE_COLUMNS, "volume"):
        values = getattr(bars, column)
        bad = ~np.isfinite(values) | ((values <= 0) if column != "volume" else (values < 0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DatasetError(
                f"dataset {bars.name!r}: column {column!r} has a missing, infinite or "
                f"{'non-positive' if column != 'volume' else 'negative'} value at bar {row}; "
                "fill or remove that bar"
            )


def load_bars(source: Path | str, symbol: str | None = None) -> Bars:
    """Read OHLCV bars from a CSV or Parquet file.

    Columns (any case): a timestamp (``timestamp``, ``datetime``, ``date``...),
    ``open``, ``high``, ``low``, ``close`` and optionally ``volume`` and
    ``symbol``; other columns are ignored. Naive timestamps are taken as UTC.
    Rows are sorted by time. A file holding several symbols needs ``symbol``.
    The dataset is named after the file (``SPY_1m.csv`` is ``SPY_1m``), or
    ``<symbol>_<timeframe>`` when a symbol is picked. ``FILE[start:stop]``
    reads those bars only (by position, as :meth:`Bars.slice` records them).
    Raises DatasetError.
    """
    path = Path(source).expanduser()
    match = _RANGE.match(str(source))
    if not path.is_file() and match:
        whole = load_bars(match["path"], symbol)
        return whole.slice(int(match["start"] or 0), int(match["stop"]) if match["stop"] else None)
    frame, columns = _read_frame(path)
    frame, picked = _pick_symbol(frame, columns, symbol, path)
    time_column = next(columns[c] for c in TIMESTAMP_NAMES if c in columns)
    stamps = _nanoseconds(frame[time_column], path, time_column)
    order = np.argsort(stamps, kind="stable")

    def values(column: str) -> np.ndarray:
        try:
            series = frame[columns[column]].cast(float)
        except Exception:  # a text column: polars raises InvalidOperationError or ComputeError
            raise DatasetError(f"dataset '{path}': column {column!r} is not numeric") from None
        return series.fill_null(np.nan).to_numpy()[order]

    bars = from_arrays(
        path.stem,
        stamps[order],
        values("close"),
        open=values("open"),
        high=values("high"),
        low=values("low"),
        volume=values("volume") if "volume" in columns else np.zeros(frame.height),
        source=str(path.absolute()),
        symbol=picked or path.stem.split("_")[0],
    )
    return replace(bars, name=f"{picked}_{bars.timeframe}") if picked else bars


def _read_frame(path: Path) -> tuple[Any, dict[str, str]]:
    """The file as a polars frame and its columns by lower-case name; DatasetError if unusable."""
    import polars as pl

    if not path.is_file():
        raise DatasetError(f"dataset '{path}' does not exist; give a CSV or Parquet file of OHLCV bars")
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DatasetError(f"dataset '{path}': use a .csv or .parquet file of OHLCV bars")
    try:
        # An open file, never a path: polars would expand `[`, `*` and `?` in a path as a glob.
        with path.open("rb") as handle:
            if kind == "parquet":
                frame = pl.read_parquet(handle)
            else:
                frame = pl.read_csv(handle, try_parse_dates=True)
    except Exception as exc:  # polars raises several types for unreadable files
        raise DatasetError(f"cannot read '{path}' as {kind} ({type(exc).__name__}: {exc})") from None
    columns = {c.lower().strip(): c for c in frame.columns}
    has_time = any(c in columns for c in TIMESTAMP_NAMES)
    missing = ([] if has_time else ["timestamp"]) + [c for c in PRICE_COLUMNS if c not in columns]
    if missing:
        raise DatasetError(
            f"dataset '{path}' has no column(s) {', '.join(missing)}; OHLCV bars need timestamp, open, "
            f"high, low, close (volume optional); columns are: {', '.join(frame.columns[:12])}"
        )
    return frame, columns


def _pick_symbol(
    frame: Any, columns: dict[str, str], symbol: str | None, path: Path
) -> tuple[Any, str | None]:
    """The rows of one symbol (``symbol``, or the only one); DatasetError if it is ambiguous or absent."""
    import polars as pl

    if "symbol" not in columns:
        return frame, None
    symbols = frame[columns["symbol"]].unique().sort().to_list()
    if symbol is None and len(symbols) > 1:
        raise DatasetError(
            f"dataset '{path}' holds {len(symbols)} symbols ({', '.join(map(str, symbols[:8]))}); "
            "pick one with symbol=..."
        )
    chosen = symbol if symbol is not None else symbols[0]
    frame = frame.filter(pl.col(columns["symbol"]) == chosen)
    if frame.height == 0:
        raise DatasetError(f"dataset '{path}' has no symbol {chosen!r}; symbols are: {symbols}")
    return frame, str(chosen)


def _nanoseconds(stamps: Any, path: Path, column: str) -> np.ndarray:
    """A timestamp column as UTC nanoseconds (text parsed, time zones converted, naive = UTC)."""
    import polars as pl

    if stamps.dtype == pl.String:
        try:
            stamps = stamps.str.to_datetime(time_zone="UTC")
        except Exception:  # polars: ComputeError or InvalidOperationError
            raise DatasetError(f"dataset '{path}': cannot parse column {column!r} as dates") from None
    if isinstance(stamps.dtype, pl.Datetime):
        if stamps.dtype.time_zone is not None:
            stamps = stamps.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return stamps.dt.cast_time_unit("ns").to_physical().to_numpy()
    if stamps.dtype == pl.Date:
        return stamps.cast(pl.Datetime("ns")).to_physical().to_numpy()
    return _as_nanoseconds(stamps.to_numpy(), path.stem)


def align(datasets: Sequence[Bars]) -> list[Bars]:
    """The same datasets restricted to the timestamps they all have (inner join).

    Bar ``i`` then means the same moment in every dataset, so signals of
    several symbols can be compared bar by bar. DatasetError if nothing is shared.
    """
    if len(datasets) < 2:
        return list(datasets)
    common = datasets[0].timestamps
    for bars in datasets[1:]:
        common = np.intersect1d(common, bars.timestamps, assume_unique=True)
    if len(common) < 2:
        names = ", ".join(b.name for b in datasets)
        raise DatasetError(f"datasets {names} share {len(common)} timestamp(s); nothing to align")
    aligned = []
    for bars in datasets:
        if len(common) == bars.n_samples:
            aligned.append(bars)
            continue
        keep = np.isin(bars.timestamps, common, assume_unique=True)
        aligned.append(
            Bars(
                name=bars.name,
                source=bars.source,
                timestamps=bars.timestamps[keep],
                open=bars.open[keep],
                high=bars.high[keep],
                low=bars.low[keep],
                close=bars.close[keep],
                volume=bars.volume[keep],
                symbol=bars.symbol,
            )
        )
    return aligned
