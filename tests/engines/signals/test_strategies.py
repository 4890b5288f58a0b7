"""Strategies: vectorised signals equal a bar-by-bar reading of their rules; no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nirs4all_workspace.engines.signals import Strategy
from nirs4all_workspace.engines.signals.bars import from_arrays
from nirs4all_workspace.engines.signals.rolling import (
    rolling_max,
    rolling_mean,
    rolling_min,
    rolling_std,
    wilder_rsi,
)
from nirs4all_workspace.engines.signals.strategies import STRATEGIES, apply_stop_loss

from .conftest import random_bars

VARIANTS = [
    Strategy("ma_crossover", {"fast": 3, "slow": 12}),
    Strategy("rsi_momentum", {"period": 6, "lower": 35, "upper": 65}),
    Strategy("bollinger_reversion", {"window": 10, "num_std": 1.0}),
    Strategy("breakout", {"window": 8}),
    Strategy("ma_crossover", {"fast": 3, "slow": 12}, stop_loss=0.3),
]


def test_rolling_windows_match_plain_numpy():
    x = np.random.default_rng(0).normal(size=300).cumsum() + 50
    for window in (1, 2, 7, 64, 100):
        expected = np.array([x[t - window + 1 : t + 1] for t in range(window - 1, 300)])
        assert np.allclose(rolling_mean(x, window)[window - 1 :], expected.mean(1), atol=1e-9)
        assert np.allclose(rolling_std(x, window)[window - 1 :], expected.std(1), atol=1e-7)
        assert np.array_equal(rolling_max(x, window)[window - 1 :], expected.max(1))
        assert np.array_equal(rolling_min(x, window)[window - 1 :], expected.min(1))
        assert np.isnan(rolling_mean(x, window)[: window - 1]).all()


def test_rsi_matches_wilders_recursion():
    close = random_bars(1, 200).close
    period = 14
    change = np.diff(close)
    gain, loss = np.maximum(change, 0), np.maximum(-change, 0)
    up, down = gain[:period].mean(), loss[:period].mean()
    expected = [100 * up / (up + down)]
    for g, lo in zip(gain[period:], loss[period:], strict=True):
        up, down = (up * (period - 1) + g) / period, (down * (period - 1) + lo) / period
        expected.append(100 * up / (up + down))
    ours = wilder_rsi(close, period)
    assert np.isnan(ours[:period]).all()
    assert np.allclose(ours[period:], expected, atol=1e-10)


def _loop_ma(close, high, low, p):
    fast, slow = rolling_mean(close, p["fast"]), rolling_mean(close, p["slow"])
    return [0 if np.isnan(slow[t]) else int(np.sign(fast[t] - slow[t])) for t in range(len(close))]


def _loop_rsi(close, high, low, p):
    rsi, state, out = wilder_rsi(close, p["period"]), 0, []
    for value in rsi:
        if value > p["upper"]:
            state = 1
        elif value < p["lower"]:
            state = -1
        elif (state == 1 and value < 50) or (state == -1 and value > 50):
            state = 0
        out.append(state)
    return out


def _loop_bollinger(close, high, low, p):
    mid, width = rolling_mean(close, p["window"]), p["num_std"] * rolling_std(close, p["window"])
    state, out = 0, []
    for price, m, w in zip(close, mid, width, strict=True):
        if price < m - w:
            state = 1
        elif price > m + w:
            state = -1
        elif (state == 1 and price >= m) or (state == -1 and price <= m):
            state = 0
        out.append(state)
    return out


def _loop_breakout(close, high, low, p):
    w, state, out = p["window"], 0, []
    for t in range(len(close)):
        if t >= w and close[t] > high[t - w : t].max():
            state = 1
        elif t >= w and close[t] < low[t - w : t].min():
            state = -1
        out.append(state)
    return out


LOOPS = {
    "ma_crossover": _loop_ma,
    "rsi_momentum": _loop_rsi,
    "bollinger_reversion": _loop_bollinger,
    "breakout": _loop_breakout,
}


def _loop_signal(strategy: Strategy, bars) -> np.ndarray:
    """The rules of each family, one bar at a time, then the stop loss, one bar at a time."""
    close = bars.close
    rule = np.asarray(LOOPS[strategy.family](close, bars.high, bars.low, strategy.params), dtype=np.int8)
    if strategy.stop_loss is None:
        return rule
    out, stopped, entry = rule.copy(), False, 0.0
    for t in range(len(close)):
        if t == 0 or rule[t] != rule[t - 1]:
            stopped, entry = False, close[t]
        if rule[t] != 0 and rule[t] * (close[t] / entry - 1) <= -strategy.stop_loss / 100:
            stopped = True
        out[t] = 0 if stopped else rule[t]
    return out


@pytest.mark.parametrize("strategy", VARIANTS, ids=lambda s: s.name)
def test_signals_follow_the_rules_bar_by_bar(strategy):
    bars = random_bars(3, 1500)
    signal, confidence = strategy.signals(bars)
    assert signal.dtype == np.int8
    assert confidence.dtype == np.float32
    assert ((confidence >= 0) & (confidence <= 1)).all()
    assert np.array_equal(signal, _loop_signal(strategy, bars))
    assert len(np.unique(signal)) > 1


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cut=st.integers(100, 500), which=st.integers(0, len(VARIANTS) - 1))
def test_no_look_ahead_shuffling_future_bars_keeps_past_signals(seed, cut, which):
    bars = random_bars(seed, 600)
    order = np.concatenate(
        [np.arange(cut + 1), cut + 1 + np.random.default_rng(seed).permutation(600 - cut - 1)]
    )
    shuffled = from_arrays(
        bars.name,
        bars.timestamps.astype("datetime64[ns]"),
        bars.close[order],
        open=bars.open[order],
        high=bars.high[order],
        low=bars.low[order],
        volume=bars.volume[order],
    )
    strategy = VARIANTS[which]
    assert np.array_equal(strategy.signals(bars)[0][: cut + 1], strategy.signals(shuffled)[0][: cut + 1])


def test_stop_loss_flattens_until_the_rule_changes():
    close = np.array([100.0, 100, 99.5, 98.5, 99, 101, 101])
    signal = np.array([0, 1, 1, 1, 1, -1, -1], dtype=np.int8)
    stopped, _ = apply_stop_loss(signal, np.ones(7, np.float32), close, 1.0)
    assert stopped.tolist() == [0, 1, 1, 0, 0, -1, -1]  # -1.5% at bar 3; the flip at 5 re-enters


def test_variant_names_read_like_their_parameters():
    assert Strategy("ma_crossover", {"fast": 5, "slow": 20}, stop_loss=1.0).name == "ma_5_20_sl_1.0"
    assert Strategy("bollinger_reversion", {"window": 20, "num_std": 2.0}).name == "bb_20_2.0"
    assert Strategy("rsi_momentum", {"period": 14, "lower": 30, "upper": 70}).name == "rsi_14_30_70"
    assert Strategy("breakout", {"window": 50}, stop_loss=0.5).name == "bo_50_sl_0.5"
    assert set(STRATEGIES) == {"ma_crossover", "rsi_momentum", "bollinger_reversion", "breakout"}
