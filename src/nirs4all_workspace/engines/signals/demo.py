"""The built-in synthetic bars, the demo grid and the reference grid.

``make_demo_bars`` draws a regime-switching random walk of one-minute bars
(51 sessions of 390 bars: 19,890 bars), the same on every machine: calm up-
and down-trends alternate with a volatile, mean-reverting regime, so that the
trend, volatility and momentum classifiers have something to find.

``demo_config`` is the grid ``nirs4all run --engine signals`` uses without
``--pipeline`` (48 strategies x 9 classifiers); ``reference_config`` is the
238 strategies x 65 classifiers = 15,470-combination grid of the benchmarks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .bars import Bars, from_arrays

DEMO_NAME = "SYNTH_1m"
DEMO_SEED = 20240102
SESSION_BARS = 390
DEMO_SESSIONS = 51

# (drift per bar, volatility per bar, first-order autocorrelation of returns)
_REGIMES = (
    (+1e-5, 4e-4, 0.05),  # calm up-trend
    (-1e-5, 4e-4, 0.05),  # calm down-trend
    (0.0, 1.2e-3, -0.35),  # volatile, mean-reverting
)
_MEAN_REGIME_BARS = 900


def make_demo_bars(sessions: int = DEMO_SESSIONS, seed: int = DEMO_SEED, name: str = DEMO_NAME) -> Bars:
    """Synthetic one-minute OHLCV bars (``sessions`` x 390), identical for a given seed."""
    rng = np.random.default_rng(seed)
    n = sessions * SESSION_BARS
    # Regime sequence: geometric durations, each regime followed by a different one.
    lengths, states, state, total = [], [], 0, 0
    while total < n:
        length = int(rng.geometric(1.0 / _MEAN_REGIME_BARS))
        lengths.append(length)
        states.append(state)
        total += length
        state = (state + 1 + int(rng.integers(0, len(_REGIMES) - 1))) % len(_REGIMES)
    regime = np.repeat(np.asarray(states), lengths)[:n]
    drift, vol, rho = (np.asarray(column)[regime] for column in zip(*_REGIMES, strict=True))
    shocks = rng.standard_normal(n)
    # MA(1) returns give each regime its autocorrelation (negative: mean reversion).
    theta = rho / np.sqrt(1.0 - rho**2 + 1e-12) * 0.9
    noise = shocks + theta * np.concatenate([[0.0], shocks[:-1]])
    returns = drift + vol * noise / np.sqrt(1.0 + theta**2)
    returns[0] = 0.0
    close = 400.0 * np.exp(np.cumsum(returns))
    gap = vol * 0.3 * rng.standard_normal(n)
    open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(gap)
    wick = vol * np.abs(rng.standard_normal((2, n)))
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    volume = np.round(2e5 * np.exp(0.4 * rng.standard_normal(n)) * (vol / 4e-4))
    return from_arrays(
        name,
        _session_minutes(sessions),
        close,
        open=open_,
        high=high,
        low=low,
        volume=volume,
        source="builtin:demo",
        symbol="SYNTH",
    )


def _session_minutes(sessions: int) -> np.ndarray:
    """Timestamps of ``sessions`` weekdays from 2024-01-02, 14:30-20:59 UTC, one per minute."""
    days = np.busday_offset(np.datetime64("2024-01-02"), np.arange(sessions), roll="forward")
    opens = days.astype("datetime64[m]") + np.timedelta64(14 * 60 + 30, "m")
    minutes = opens[:, None] + np.arange(SESSION_BARS).astype("timedelta64[m]")
    return minutes.ravel().astype("datetime64[ns]")


def demo_config() -> dict[str, Any]:
    """The demo grid: 4 strategy families (48 variants) x 9 regime classifiers."""
    return {
        "name": "signals-demo",
        "strategies": {
            "_or_": [
                {
                    "class": "ma_crossover",
                    "params": {"fast": {"_or_": [5, 10, 20]}, "slow": {"_or_": [50, 100]}},
                    "stop_loss": {"_or_": [None, 1.0]},
                },
                {
                    "class": "rsi_momentum",
                    "params": {"period": {"_or_": [7, 14, 21]}, "lower": {"_or_": [25, 30]}, "upper": 70},
                    "stop_loss": {"_or_": [None, 1.0]},
                },
                {
                    "class": "bollinger_reversion",
                    "params": {"window": {"_or_": [20, 50, 100]}, "num_std": {"_or_": [2.0, 2.5]}},
                    "stop_loss": {"_or_": [None, 0.5]},
                },
                {
                    "class": "breakout",
                    "params": {"window": {"_or_": [30, 60, 120, 240, 390, 780]}},
                    "stop_loss": {"_or_": [None, 1.0]},
                },
            ]
        },
        "classifiers": {
            "_or_": [
                {"class": "volatility", "params": {"fast": {"_or_": [30, 60, 120]}, "slow": 780}},
                {"class": "trend", "params": {"fast": 50, "slow": {"_or_": [200, 400, 800]}}},
                {"class": "momentum", "params": {"window": {"_or_": [60, 120, 390]}}},
            ]
        },
        "fees": 0.0001,
    }


def reference_config(fees: float = 0.0) -> dict[str, Any]:
    """The benchmark grid: 238 strategies x 65 classifiers = 15,470 combinations."""
    stops3 = {"_or_": [None, 0.5, 1.0]}
    return {
        "name": "reference-grid",
        "strategies": {
            "_or_": [
                # 6 x 4 x 3 = 72
                {
                    "class": "ma_crossover",
                    "params": {"fast": {"_or_": [3, 5, 8, 10, 13, 15]}, "slow": {"_or_": [20, 30, 50, 100]}},
                    "stop_loss": stops3,
                },
                # 4 x 3 x 3 x 2 = 72
                {
                    "class": "rsi_momentum",
                    "params": {
                        "period": {"_or_": [7, 14, 21, 28]},
                        "lower": {"_or_": [25, 30, 35]},
                        "upper": {"_or_": [65, 70, 75]},
                    },
                    "stop_loss": {"_or_": [None, 1.0]},
                },
                # 6 x 3 x 3 = 54
                {
                    "class": "bollinger_reversion",
                    "params": {
                        "window": {"_or_": [10, 15, 20, 30, 40, 50]},
                        "num_std": {"_or_": [1.5, 2.0, 2.5]},
                    },
                    "stop_loss": stops3,
                },
                # 8 x 5 = 40
                {
                    "class": "breakout",
                    "params": {"window": {"_or_": [10, 15, 20, 30, 50, 100, 150, 200]}},
                    "stop_loss": {"_or_": [None, 0.5, 1.0, 2.0, 3.0]},
                },
            ]
        },
        "classifiers": {
            "_or_": [
                # 5 x 5 = 25
                {
                    "class": "volatility",
                    "params": {
                        "fast": {"_or_": [5, 10, 20, 30, 60]},
                        "slow": {"_or_": [120, 240, 390, 780, 1560]},
                    },
                },
                # 3 x 4 x 2 = 24
                {
                    "class": "trend",
                    "params": {
                        "fast": {"_or_": [10, 20, 50]},
                        "slow": {"_or_": [100, 200, 400, 800]},
                        "band": {"_or_": [0.0005, 0.001]},
                    },
                },
                # 8 x 2 = 16
                {
                    "class": "momentum",
                    "params": {
                        "window": {"_or_": [5, 10, 20, 30, 60, 120, 240, 390]},
                        "threshold": {"_or_": [0.001, 0.002]},
                    },
                },
            ]
        },
        "fees": fees,
    }
