"""The built-in synthetic bars: deterministic, regime-switching, about 20,000 one-minute bars."""

from __future__ import annotations

import numpy as np

from nirs4all_workspace.engines.signals import Classifier, SignalsEngine, make_demo_bars


def test_the_demo_bars_are_the_same_every_time():
    first, second = make_demo_bars(), make_demo_bars()
    assert first.fingerprint == second.fingerprint
    assert first.n_samples == 19_890
    assert first.name == "SYNTH_1m"
    assert first.timeframe == "1m"
    assert (first.high >= np.maximum(first.open, first.close)).all()
    assert (first.low <= np.minimum(first.open, first.close)).all()


def test_the_demo_bars_switch_between_calm_and_volatile_regimes():
    bars = make_demo_bars()
    codes, _ = Classifier("volatility", {"fast": 60, "slow": 780, "threshold": 1.25}).classify(bars)
    shares = np.bincount(codes[codes >= 0], minlength=3) / (codes >= 0).sum()
    assert (shares > 0.05).all()  # low, normal and high volatility all occur


def test_the_engine_uses_them_as_its_demo():
    engine = SignalsEngine()
    assert engine.demo_dataset().fingerprint == make_demo_bars().fingerprint
    assert engine.demo_dataset().source == "builtin:demo"
