"""Regime-filtered replay: the boundary rule, trade for trade against a per-bar loop; ensembles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nirs4all_workspace.engines.signals.evaluate import (
    BarContext,
    evaluate,
    grouped_metrics,
    trades_from_changes,
)
from nirs4all_workspace.engines.signals.replay import combine, regime_filter, replay
from nirs4all_workspace.engines.signals.sparse import decode, encode, encode_regimes

from . import reference

LABELS = ("a", "b", "c")
BARS_PER_YEAR = 98_280.0


def _random(seed: int, n: int, hold: int, regime_hold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    signal = np.repeat(rng.choice([-1, 0, 1], size=n // hold + 1), hold)[:n].astype(np.int8)
    regime = np.repeat(rng.integers(-1, 3, size=n // regime_hold + 1), regime_hold)[:n].astype(np.int8)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.005, n)))
    return signal, regime, close


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 300),
    hold=st.integers(1, 12),
    regime_hold=st.integers(1, 15),
    target=st.integers(0, 2),
)
def test_regime_filter_matches_the_per_bar_loop_trade_for_trade(seed, n, hold, regime_hold, target):
    signal, regime, close = _random(seed, n, hold, regime_hold)
    filtered = regime_filter(encode(signal), encode_regimes(regime, np.ones(n, np.float32), LABELS), target)
    expected = reference.replay(signal, regime, target)
    assert np.array_equal(decode(filtered)[0], expected)
    ours = trades_from_changes(filtered.bar_idx, filtered.values, n)
    theirs = reference.trades(close, expected, 0.001)
    assert list(zip(ours.start.tolist(), ours.end.tolist(), ours.exposure.tolist(), strict=True)) == [
        (t["start"], t["end"], t["side"]) for t in theirs
    ]
    result = replay(
        BarContext.from_close(close, BARS_PER_YEAR),
        [encode(signal)],
        encode_regimes(regime, np.ones(n, np.float32), LABELS),
        target,
        fee=0.001,
    )
    reference.assert_metrics_close(
        result.evaluation.metrics, reference.metrics(close, expected, 0.001, BARS_PER_YEAR)
    )


def test_closing_is_emitted_after_the_regime_has_changed():
    signal = np.array([0, 1, 1, 1, 0, 0], dtype=np.int8)
    regime = np.array([0, 0, 1, 1, 1, 1], dtype=np.int8)  # regime 0 holds when the long starts only
    out = regime_filter(encode(signal), encode_regimes(regime, np.ones(6, np.float32), LABELS), 0)
    assert decode(out)[0].tolist() == [0, 1, 1, 1, 0, 0]  # closed at bar 4 although the regime is 1


def test_a_flip_opens_the_other_side_only_if_the_regime_holds_there():
    signal = np.array([1, 1, -1, -1, 1, 1], dtype=np.int8)
    regime = np.array([0, 0, 0, 1, 1, 0], dtype=np.int8)
    out = regime_filter(encode(signal), encode_regimes(regime, np.ones(6, np.float32), LABELS), 0)
    assert decode(out)[0].tolist() == [1, 1, -1, -1, 0, 0]  # the flip at 2 closes and opens short
    other = regime_filter(encode(signal), encode_regimes(regime, np.ones(6, np.float32), LABELS), 1)
    assert decode(other)[0].tolist() == [0, 0, 0, 0, 1, 1]


def test_regime_metrics_are_the_metrics_of_the_replay():
    signal, regime, close = _random(5, 2000, 7, 40)
    ctx = BarContext.from_close(close, BARS_PER_YEAR)
    sparse = encode(signal)
    trades = trades_from_changes(sparse.bar_idx, sparse.values, len(close))
    codes = regime[trades.signal_bar]
    grouped = grouped_metrics(ctx, trades, 0.0005, np.stack([codes == k for k in range(3)]))
    regimes = encode_regimes(regime, np.ones(len(close), np.float32), LABELS)
    for k in range(3):
        replayed = replay(ctx, [sparse], regimes, k, fee=0.0005).evaluation.metrics
        reference.assert_metrics_close(
            replayed, {name: float(v[k]) for name, v in grouped.items()}, tol=1e-10
        )


def test_replay_looks_at_change_points_only():
    signal, regime, close = _random(9, 5000, 50, 200)
    sparse = encode(signal)
    result = replay(
        BarContext.from_close(close, BARS_PER_YEAR),
        [sparse],
        encode_regimes(regime, np.ones(5000, np.float32), LABELS),
        1,
    )
    assert result.events == sparse.changes < 5000 // 20
    assert result.signal.changes <= sparse.changes


def test_an_ensemble_is_the_weighted_sum_of_its_members():
    rng = np.random.default_rng(2)
    members = [np.repeat(rng.choice([-1, 0, 1], size=60), 5).astype(np.int8) for _ in range(3)]
    weights = [0.5, 0.3, 0.2]
    combined = combine([encode(m) for m in members], weights)
    expected = sum(w * m.astype(float) for w, m in zip(weights, members, strict=True))
    assert np.allclose(decode(combined)[0], expected, atol=1e-12)
    equal = combine([encode(m) for m in members])
    assert np.allclose(decode(equal)[0], sum(m / 3.0 for m in members), atol=1e-12)


def test_an_ensemble_is_evaluated_like_its_per_bar_exposure():
    rng = np.random.default_rng(4)
    n = 600
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.004, n)))
    members = [np.repeat(rng.choice([-1, 0, 1], size=n // 8 + 1), 8)[:n].astype(np.int8) for _ in range(2)]
    result = replay(
        BarContext.from_close(close, BARS_PER_YEAR),
        [encode(m) for m in members],
        weights=[0.6, 0.4],
        fee=0.001,
    )
    exposure = 0.6 * members[0] + 0.4 * members[1]
    net = reference.per_bar(close, exposure, 0.001)["net"]
    assert result.evaluation.metrics["total_return"] == pytest.approx(np.prod(1 + net) - 1, rel=1e-9)
    mean, std = net.mean(), net.std(ddof=1)
    assert result.evaluation.metrics["sharpe"] == pytest.approx(mean / std * np.sqrt(BARS_PER_YEAR), rel=1e-9)


def test_signal_and_regimes_must_cover_the_same_bars():
    with pytest.raises(ValueError, match="same data"):
        regime_filter(
            encode(np.zeros(5, np.int8)), encode_regimes(np.zeros(6, np.int8), np.ones(6), LABELS), 0
        )


def test_evaluating_a_filtered_signal_needs_no_regime_at_all():
    signal, regime, close = _random(1, 300, 5, 10)
    filtered = regime_filter(encode(signal), encode_regimes(regime, np.ones(300, np.float32), LABELS), 2)
    trades = trades_from_changes(filtered.bar_idx, filtered.values, 300)
    metrics = evaluate(BarContext.from_close(close, BARS_PER_YEAR), trades, 0.0).metrics
    reference.assert_metrics_close(
        metrics, reference.metrics(close, reference.replay(signal, regime, 2), 0.0, BARS_PER_YEAR)
    )
