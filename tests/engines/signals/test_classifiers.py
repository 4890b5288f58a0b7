"""Regime classifiers: labels from the documented thresholds; warm-up; no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nirs4all_workspace.engines.signals import CLASSIFIERS, Classifier
from nirs4all_workspace.engines.signals.bars import from_arrays

from .conftest import random_bars

VARIANTS = [
    Classifier("volatility", {"fast": 10, "slow": 60, "threshold": 1.2}),
    Classifier("trend", {"fast": 10, "slow": 40, "band": 0.001}),
    Classifier("momentum", {"window": 15, "threshold": 0.002}),
]


def _loop_codes(classifier: Classifier, close: np.ndarray) -> np.ndarray:
    p, n = classifier.params, len(close)
    codes = np.full(n, -1, dtype=np.int8)
    logs = np.diff(np.log(close))
    for t in range(n):
        if classifier.family == "volatility":
            if t < p["slow"]:
                continue
            measure = logs[t - p["fast"] : t].std() / logs[t - p["slow"] : t].std()
            low, high = 1 / p["threshold"], p["threshold"]
        elif classifier.family == "trend":
            if t < p["slow"] - 1:
                continue
            measure = close[t - p["fast"] + 1 : t + 1].mean() / close[t - p["slow"] + 1 : t + 1].mean() - 1
            low, high = -p["band"], p["band"]
        else:
            if t < p["window"]:
                continue
            measure = close[t] / close[t - p["window"]] - 1
            low, high = -p["threshold"], p["threshold"]
        codes[t] = 0 if measure < low else 2 if measure > high else 1
    return codes


@pytest.mark.parametrize("classifier", VARIANTS, ids=lambda c: c.name)
def test_labels_follow_the_thresholds_bar_by_bar(classifier):
    bars = random_bars(5, 1200)
    codes, confidence = classifier.classify(bars)
    expected = _loop_codes(classifier, bars.close)
    # Thresholds compare floats computed two ways: allow the rare tie at a boundary.
    assert (codes != expected).mean() < 0.002
    assert set(np.unique(codes)) == {-1, 0, 1, 2}
    assert ((confidence >= 0) & (confidence <= 1)).all()
    assert classifier.labels == CLASSIFIERS[classifier.family].labels


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cut=st.integers(100, 400), which=st.integers(0, 2))
def test_no_look_ahead(seed, cut, which):
    bars = random_bars(seed, 500)
    order = np.concatenate(
        [np.arange(cut + 1), cut + 1 + np.random.default_rng(seed).permutation(500 - cut - 1)]
    )
    shuffled = from_arrays(bars.name, bars.timestamps.astype("datetime64[ns]"), bars.close[order])
    classifier = VARIANTS[which]
    assert np.array_equal(
        classifier.classify(bars)[0][: cut + 1], classifier.classify(shuffled)[0][: cut + 1]
    )


def test_names_hold_every_parameter():
    assert VARIANTS[0].name == "vol_10_60_1.2"
    assert VARIANTS[1].name == "trend_10_40_0.001"
    assert VARIANTS[2].name == "mom_15_0.002"
