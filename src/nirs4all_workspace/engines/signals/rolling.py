"""Rolling-window statistics over whole arrays, without a per-bar Python loop.

Every function returns an array as long as its input, with NaN where the
window is not yet full (the warm-up), and only ever looks backwards: the value
at bar ``t`` uses bars ``t - window + 1 .. t``.
"""

from __future__ import annotations

import numpy as np


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values."""
    import polars as pl  # compiled, and exact to ~1e-13 where running sums lose digits

    x = np.asarray(values, dtype=np.float64)
    if window > len(x):
        return np.full(len(x), np.nan)
    return pl.Series(x).rolling_mean(window).to_numpy().astype(np.float64)


def rolling_std(values: np.ndarray, window: int) -> np.ndarray:
    """Population standard deviation of the last ``window`` values."""
    import polars as pl

    x = np.asarray(values, dtype=np.float64)
    if window > len(x):
        return np.full(len(x), np.nan)
    return pl.Series(x).rolling_std(window, ddof=0).to_numpy().astype(np.float64)


def _rolling_extreme(values: np.ndarray, window: int, pick: np.ufunc) -> np.ndarray:
    """Max or min of the last ``window`` values by doubling: O(n log window)."""
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    out = np.full(n, np.nan)
    if window > n:
        return out
    span, table = 1, x.copy()  # table[t] = pick over x[t - span + 1 .. t]
    while span * 2 <= window:
        table[span:] = pick(table[span:], table[:-span])
        span *= 2
    # Two overlapping power-of-two windows cover exactly the last ``window`` values.
    ends = np.arange(window - 1, n)
    out[window - 1 :] = pick(table[ends], table[ends - window + span])
    return out


def rolling_max(values: np.ndarray, window: int) -> np.ndarray:
    return _rolling_extreme(values, window, np.maximum)


def rolling_min(values: np.ndarray, window: int) -> np.ndarray:
    return _rolling_extreme(values, window, np.minimum)


def shift(values: np.ndarray, bars: int = 1) -> np.ndarray:
    """``values`` delayed by ``bars`` (NaN first): the value known one bar earlier."""
    out = np.full(len(values), np.nan)
    if bars < len(values):
        out[bars:] = values[: len(values) - bars]
    return out


def wilder_rsi(close: np.ndarray, period: int) -> np.ndarray:
    """Relative strength index with Wilder's smoothing (NaN for the first ``period`` bars)."""
    import polars as pl  # its exponential mean is the recursive filter, in compiled code

    x = np.asarray(close, dtype=np.float64)
    out = np.full(len(x), np.nan)
    if len(x) <= period:
        return out
    change = np.diff(x)
    gains, losses = np.maximum(change, 0.0), np.maximum(-change, 0.0)

    def smooth(series: np.ndarray) -> np.ndarray:
        # A simple mean of the first ``period`` changes, then avg[t] = avg[t-1] (1 - 1/p) + x[t] / p.
        seeded = np.concatenate([[series[:period].mean()], series[period:]])
        return pl.Series(seeded).ewm_mean(alpha=1.0 / period, adjust=False).to_numpy()

    up, down = smooth(gains), smooth(losses)
    total = up + down
    with np.errstate(invalid="ignore", divide="ignore"):
        rsi = np.where(total > 0, 100.0 * up / np.where(total > 0, total, 1.0), 50.0)
    out[period:] = rsi
    return out


def last_index(condition: np.ndarray) -> np.ndarray:
    """For each bar, the index of the last bar (up to it) where ``condition`` held, else -1."""
    index = np.where(condition, np.arange(len(condition)), -1)
    return np.maximum.accumulate(index) if len(index) else index
