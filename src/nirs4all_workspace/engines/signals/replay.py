"""Replay of stored signals: regime filters and weighted ensembles, on change points only.

The boundary rule of :func:`regime_filter`: at each change of the stored
signal (bar ``t``), a new position (long or short) is taken only if the target
regime holds at bar ``t``; otherwise the filtered signal goes flat. A position
already open is always closed at the stored signal's next change, whatever
the regime is by then (leaving is never filtered). A direct flip (+1 to -1)
closes the position and opens the opposite one if the regime holds at the bar
of the flip, so it is never dropped. Regime changes between two signal changes
open nothing: a position is decided when the signal says so.

The replay looks only at the bars where the signal changes (and finds the
regime in force there by binary search in the regime's change points): its
cost grows with the number of changes, not of bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .evaluate import BarContext, Evaluation, evaluate, trades_from_changes
from .sparse import SparseRegimes, SparseSignal


def _keep_changes(
    bar_idx: np.ndarray, values: np.ndarray, confidence: np.ndarray, total: int
) -> SparseSignal:
    """Drop rows that repeat the value in force (the value before the first row is 0)."""
    changed = np.empty(len(values), dtype=bool)
    if len(values):
        changed[0] = values[0] != 0
        np.not_equal(values[1:], values[:-1], out=changed[1:])
    keep = np.flatnonzero(changed)
    return SparseSignal(bar_idx[keep], values[keep], confidence[keep], total)


def regime_filter(signal: SparseSignal, regimes: SparseRegimes, target: int) -> SparseSignal:
    """``signal`` with positions opened only when regime code ``target`` holds (module docstring)."""
    if signal.total_bars != regimes.total_bars:
        raise ValueError(
            f"the signal covers {signal.total_bars} bars but the regimes {regimes.total_bars}; "
            "they must come from the same data"
        )
    in_force = regimes.codes[np.searchsorted(regimes.bar_idx, signal.bar_idx, side="right") - 1]
    values = signal.values * (in_force == target)  # 0 where the regime does not hold: closes, opens nothing
    return _keep_changes(
        signal.bar_idx, values.astype(signal.values.dtype, copy=False), signal.confidence, signal.total_bars
    )


def combine(signals: Sequence[SparseSignal], weights: Sequence[float] | None = None) -> SparseSignal:
    """Weighted sum of several signals (an ensemble's exposure), at the union of their change points.

    Default weights: equal, summing to 1. The confidence is the weighted mean of
    the members' confidences in force.
    """
    if not signals:
        raise ValueError("an ensemble needs at least one signal")
    total = signals[0].total_bars
    if any(s.total_bars != total for s in signals):
        raise ValueError("the signals of an ensemble must cover the same bars")
    w = (
        np.full(len(signals), 1.0 / len(signals))
        if weights is None
        else np.asarray(weights, dtype=np.float64)
    )
    if len(w) != len(signals):
        raise ValueError(f"{len(signals)} signals but {len(w)} weights")
    bars = np.unique(np.concatenate([s.bar_idx for s in signals])).astype(np.int32)
    exposure = np.zeros(len(bars))
    confidence = np.zeros(len(bars))
    for weight, member in zip(w, signals, strict=True):
        position = np.searchsorted(member.bar_idx, bars, side="right") - 1
        inside = position >= 0
        values = np.where(inside, member.values[np.maximum(position, 0)], 0)
        exposure += weight * values
        confidence += abs(weight) * np.where(inside, member.confidence[np.maximum(position, 0)], 0.0)
    scale = np.abs(w).sum() or 1.0
    exposure = np.round(exposure, 12)  # so that 0.1 + 0.2 - 0.3 is flat, not 5e-17
    return _keep_changes(bars, exposure, (confidence / scale).astype(np.float32), total)


@dataclass
class ReplayResult:
    """A replayed (filtered, combined) signal, its evaluation and how many bars were looked at."""

    signal: SparseSignal
    evaluation: Evaluation
    events: int


def replay(
    ctx: BarContext,
    signals: Sequence[SparseSignal],
    regimes: SparseRegimes | None = None,
    target: int | None = None,
    weights: Sequence[float] | None = None,
    fee: float = 0.0,
) -> ReplayResult:
    """Filter each stored signal by the regime (if any), combine them by weight, evaluate.

    With one signal and no weights the result is that signal (filtered).
    """
    filtered = [regime_filter(s, regimes, target) if regimes is not None else s for s in signals]
    events = sum(s.changes for s in signals)
    combined = filtered[0] if len(filtered) == 1 and weights is None else combine(filtered, weights)
    trades = trades_from_changes(combined.bar_idx, combined.values, combined.total_bars)
    return ReplayResult(combined, evaluate(ctx, trades, fee), events)
