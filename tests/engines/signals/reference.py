"""Straightforward per-bar implementations the signals engine is checked against.

Written for clarity, one bar at a time, independently of the engine's
change-point arithmetic: positions from signals, equity, metrics, trades,
and the regime-filtered replay with its boundary rule.
"""

from __future__ import annotations

import math

import numpy as np


def positions(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(held[k], after[k]): exposure over bar k's return, and after bar k's close.

    A signal of bar t's close is executed at bar t+1's close: after[t+1] = signal[t].
    """
    n = len(signal)
    after = np.zeros(n)
    held = np.zeros(n)
    for k in range(1, n):
        after[k] = signal[k - 1]
    for k in range(1, n):
        held[k] = after[k - 1]
    return held, after


def per_bar(close: np.ndarray, signal: np.ndarray, fee: float) -> dict[str, np.ndarray]:
    """Bar returns, exposure, fee units and net returns, bar by bar."""
    n = len(close)
    held, after = positions(np.asarray(signal, dtype=float))
    returns = np.zeros(n)
    net = np.zeros(n)
    units = np.zeros(n)
    for k in range(n):
        if k > 0:
            returns[k] = close[k] / close[k - 1] - 1.0
        units[k] = abs(after[k] - held[k])
        net[k] = (1.0 + held[k] * returns[k]) * (1.0 - fee) ** units[k] - 1.0
    return {"returns": returns, "held": held, "after": after, "units": units, "net": net}


def trades(close: np.ndarray, signal: np.ndarray, fee: float) -> list[dict[str, float]]:
    """Each maximal run of constant non-zero exposure, with its net return (own fees only)."""
    bars = per_bar(close, signal, fee)
    after, returns = bars["after"], bars["returns"]
    found: list[dict[str, float]] = []
    current, entry = 0.0, None
    n = len(close)
    for k in range(n):
        if after[k] != current:
            if current != 0:
                found.append({"start": entry, "end": k, "side": current, "open": False})
            entry = k if after[k] != 0 else None
            current = after[k]
    if current != 0:
        found.append({"start": entry, "end": n - 1, "side": current, "open": True})
    for trade in found:
        growth = 1.0
        for k in range(trade["start"] + 1, trade["end"] + 1):
            growth *= 1.0 + trade["side"] * returns[k]
        sides = 1 if trade["open"] else 2
        trade["return"] = growth * (1.0 - fee) ** (abs(trade["side"]) * sides) - 1.0
    return found


def metrics(close: np.ndarray, signal: np.ndarray, fee: float, bars_per_year: float) -> dict[str, float]:
    """Every metric of the engine, computed from the per-bar series."""
    net = per_bar(close, signal, fee)["net"]
    n = len(net)
    equity, peak, worst = 1.0, 1.0, 0.0
    for k in range(n):
        equity *= 1.0 + net[k]
        peak = max(peak, equity)
        worst = max(worst, 1.0 - equity / peak)
    mean = sum(net) / n
    std = math.sqrt(sum((r - mean) ** 2 for r in net) / (n - 1))
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in net) / n)
    found = trades(close, signal, fee)
    returns = [t["return"] for t in found]
    gains = sum(r for r in returns if r > 0)
    losses = sum(-r for r in returns if r < 0)
    count = len(found)
    return {
        "total_return": equity - 1.0,
        "sharpe": mean / std * math.sqrt(bars_per_year) if std > 0 else math.nan,
        "sortino": mean / downside * math.sqrt(bars_per_year)
        if downside > 0
        else (math.inf if mean > 0 else math.nan),
        "max_drawdown": worst,
        "win_rate": sum(r > 1e-12 for r in returns) / count if count else math.nan,  # scratch: neither
        "profit_factor": gains / losses if losses > 0 else (math.inf if gains > 0 else math.nan),
        "n_trades": float(count),
        "avg_trade_bars": sum(t["end"] - t["start"] for t in found) / count if count else math.nan,
    }


def replay(signal: np.ndarray, regime: np.ndarray, target: int) -> np.ndarray:
    """Regime-filtered signal, bar by bar: open only when the regime holds, always close."""
    out = np.zeros(len(signal), dtype=np.int8)
    state, previous = 0, 0
    for t in range(len(signal)):
        if signal[t] != previous:
            previous = signal[t]
            state = signal[t] if signal[t] != 0 and regime[t] == target else 0
        out[t] = state
    return out


def assert_metrics_close(ours: dict[str, float], theirs: dict[str, float], tol: float = 1e-9) -> None:
    """Equal to ``tol`` (relative for large values); NaN matches NaN, inf matches inf."""
    for name, expected in theirs.items():
        got = ours[name]
        if math.isnan(expected) or math.isinf(expected):
            assert (math.isnan(got) and math.isnan(expected)) or got == expected, (name, got, expected)
            continue
        assert abs(got - expected) <= tol * max(1.0, abs(expected)), (name, got, expected)
