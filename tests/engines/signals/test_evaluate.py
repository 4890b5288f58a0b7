"""Metrics from change points agree with a per-bar computation; no look-ahead; fees only hurt."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nirs4all_workspace.engines.signals.evaluate import (
    BarContext,
    bar_returns,
    evaluate,
    grouped_metrics,
    trades_from_changes,
)
from nirs4all_workspace.engines.signals.sparse import encode

from . import reference

BARS_PER_YEAR = 252.0 * 390.0


def _case(seed: int, n: int, runs: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    if runs:  # signals that hold for a while, with direct flips
        signal = np.repeat(rng.choice([-1, 0, 1], size=n // 3 + 1), 3)[:n]
    else:
        signal = rng.choice([-1, 0, 1], size=n)
    return close, signal.astype(np.int8)


def _ours(close: np.ndarray, signal: np.ndarray, fee: float) -> dict[str, float]:
    sparse = encode(signal)
    trades = trades_from_changes(sparse.bar_idx, sparse.values, len(close))
    return evaluate(BarContext.from_close(close, BARS_PER_YEAR), trades, fee).metrics


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 250),
    runs=st.booleans(),
    fee=st.sampled_from([0.0, 0.0005, 0.01]),
)
def test_metrics_match_a_per_bar_computation(seed, n, runs, fee):
    close, signal = _case(seed, n, runs)
    reference.assert_metrics_close(
        _ours(close, signal, fee), reference.metrics(close, signal, fee, BARS_PER_YEAR)
    )


@pytest.mark.parametrize("fee", [0.0, 0.0002])
def test_metrics_on_real_prices_match_a_per_bar_computation(spy_bars, fee):
    from nirs4all_workspace.engines.signals.strategies import Strategy

    signal, _ = Strategy("ma_crossover", {"fast": 5, "slow": 20}).signals(spy_bars)
    ours = _ours(spy_bars.close, signal, fee)
    assert ours["n_trades"] > 50
    reference.assert_metrics_close(ours, reference.metrics(spy_bars.close, signal, fee, BARS_PER_YEAR))


def test_trades_and_their_returns_match_the_per_bar_trades():
    close, signal = _case(7, 300, runs=True)
    sparse = encode(signal)
    trades = trades_from_changes(sparse.bar_idx, sparse.values, len(close))
    evaluation = evaluate(BarContext.from_close(close, BARS_PER_YEAR), trades, 0.001)
    expected = reference.trades(close, signal, 0.001)
    assert trades.start.tolist() == [t["start"] for t in expected]
    assert trades.end.tolist() == [t["end"] for t in expected]
    assert trades.exposure.tolist() == [t["side"] for t in expected]
    assert np.allclose(evaluation.trade_returns, [t["return"] for t in expected], rtol=0, atol=1e-12)


def test_a_direct_flip_closes_and_opens():
    close = np.array([100.0, 101, 102, 101, 100, 99, 100])
    signal = np.array([1, 1, -1, -1, -1, 0, 0], dtype=np.int8)
    sparse = encode(signal)
    trades = trades_from_changes(sparse.bar_idx, sparse.values, len(close))
    assert trades.exposure.tolist() == [1.0, -1.0]  # the flip is two trades, not dropped
    assert trades.start.tolist() == [1, 3]  # executed one bar after the signal
    assert trades.end.tolist() == [3, 6]
    reference.assert_metrics_close(
        _ours(close, signal, 0.001), reference.metrics(close, signal, 0.001, BARS_PER_YEAR)
    )


def test_positions_start_one_bar_after_the_signal():
    close = np.array([100.0, 110.0, 121.0, 133.1])
    signal = np.array([1, 1, 1, 1], dtype=np.int8)  # long from the first close...
    metrics = _ours(close, signal, 0.0)
    # ...executed at bar 1's close, so only bars 2 and 3 are earned (+10% each).
    assert metrics["total_return"] == pytest.approx(1.1 * 1.1 - 1.0, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(10, 200), cut=st.integers(2, 9))
def test_no_look_ahead_shuffling_future_bars_keeps_the_past(seed, n, cut):
    close, signal = _case(seed, n, runs=True)
    t = n * cut // 10
    rng = np.random.default_rng(seed + 1)
    future = rng.permutation(np.arange(t + 1, n))
    close2, signal2 = close.copy(), signal.copy()
    close2[t + 1 :], signal2[t + 1 :] = close[future], signal[future]
    ours = bar_returns(BarContext.from_close(close, BARS_PER_YEAR), _trades(signal, n), 0.001)
    theirs = bar_returns(BarContext.from_close(close2, BARS_PER_YEAR), _trades(signal2, n), 0.001)
    # Returns (hence equity and positions) up to bar t do not depend on bars after t.
    assert np.array_equal(ours[: t + 1], theirs[: t + 1])
    # The equity at bar t from the metrics of the truncated series agrees too.
    head = _ours(close[: t + 1], signal[: t + 1], 0.001)["total_return"]
    assert head == pytest.approx(np.prod(1 + ours[: t + 1]) - 1, rel=1e-9, abs=1e-12)


def _trades(signal: np.ndarray, n: int):
    sparse = encode(signal)
    return trades_from_changes(sparse.bar_idx, sparse.values, n)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 200), fee=st.sampled_from([0.0001, 0.001, 0.02]))
def test_fees_always_make_results_worse(seed, n, fee):
    close, signal = _case(seed, n, runs=True)
    sparse = encode(signal)
    trades = trades_from_changes(sparse.bar_idx, sparse.values, n)
    ctx = BarContext.from_close(close, BARS_PER_YEAR)
    free, paid = evaluate(ctx, trades, 0.0), evaluate(ctx, trades, fee)
    assert paid.metrics["total_return"] <= free.metrics["total_return"]
    assert np.all(paid.trade_returns <= free.trade_returns)  # a losing trade loses more, never less
    if len(trades):
        assert paid.metrics["total_return"] < free.metrics["total_return"]


def test_annualisation_uses_the_bar_frequency():
    close, signal = _case(3, 500, runs=True)
    sparse = encode(signal)
    trades = trades_from_changes(sparse.bar_idx, sparse.values, 500)
    minute = evaluate(BarContext.from_close(close, 252 * 390), trades).metrics["sharpe"]
    daily = evaluate(BarContext.from_close(close, 252), trades).metrics["sharpe"]
    assert minute / daily == pytest.approx(math.sqrt(390), rel=1e-12)


def test_grouped_metrics_equal_the_metrics_of_the_kept_trades_alone():
    close, signal = _case(11, 400, runs=True)
    trades = _trades(signal, 400)
    ctx = BarContext.from_close(close, BARS_PER_YEAR)
    keep = np.zeros((2, len(trades)), dtype=bool)
    keep[0, ::2] = True
    keep[1, :] = True
    grouped = grouped_metrics(ctx, trades, 0.001, keep)
    whole = evaluate(ctx, trades, 0.001).metrics
    assert {k: v[1] for k, v in grouped.items()} == pytest.approx(whole, rel=1e-12)
    # Keeping every other trade is the signal with the other trades flattened.
    flat = signal.copy().astype(np.int8)
    for i in np.flatnonzero(~keep[0]):
        flat[trades.start[i] - 1 : trades.end[i] - 1] = 0
    reference.assert_metrics_close(
        {k: float(v[0]) for k, v in grouped.items()}, reference.metrics(close, flat, 0.001, BARS_PER_YEAR)
    )


def test_no_trade_gives_flat_metrics():
    close = np.linspace(100, 110, 50)
    metrics = _ours(close, np.zeros(50, dtype=np.int8), 0.001)
    assert metrics["total_return"] == 0.0
    assert metrics["n_trades"] == 0.0
    assert metrics["max_drawdown"] == 0.0
    assert math.isnan(metrics["sharpe"])


def test_a_trade_back_at_its_entry_price_is_neither_won_nor_lost():
    close = np.array([100.0, 100.0, 100.0, 100.7, 100.0, 100.0, 100.0, 101.0])
    signal = np.array([0, 1, 1, 1, 0, 1, 1, 1], dtype=np.int8)  # the first trade ends where it began
    metrics = _ours(close, signal, 0.0)
    assert metrics["n_trades"] == 2
    assert metrics["win_rate"] == 0.5  # the open trade (+1%) is a win, the first one a scratch
