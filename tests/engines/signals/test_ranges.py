"""The range tree: highest, lowest and largest drop over any range, for many ranges at once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nirs4all_workspace.engines.signals.ranges import RangeTree


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.floats(-5, 5), min_size=1, max_size=70), data=st.data())
def test_range_tree_answers_max_min_and_largest_drop(values, data):
    array = np.asarray(values)
    lo = data.draw(st.integers(0, len(values) - 1))
    hi = data.draw(st.integers(lo, len(values) - 1))
    top, bottom, drop = RangeTree(array).query(np.array([lo]), np.array([hi]))
    part = array[lo : hi + 1]
    assert top[0] == part.max()
    assert bottom[0] == part.min()
    assert drop[0] == pytest.approx(max(part[: j + 1].max() - part[j] for j in range(len(part))), abs=1e-12)


def test_empty_ranges_answer_the_identity():
    top, bottom, drop = RangeTree(np.arange(10.0)).query(np.array([5, 9]), np.array([4, 8]))
    assert top.tolist() == [-np.inf, -np.inf]
    assert bottom.tolist() == [np.inf, np.inf]
    assert drop.tolist() == [0.0, 0.0]


def test_many_ranges_at_once():
    values = np.random.default_rng(0).normal(size=1000).cumsum()
    lo = np.arange(0, 900, 7)
    hi = lo + 100
    top, bottom, drop = RangeTree(values).query(lo, hi)
    for i in range(len(lo)):
        part = values[lo[i] : hi[i] + 1]
        assert top[i] == part.max()
        assert bottom[i] == part.min()
        assert drop[i] == pytest.approx((np.maximum.accumulate(part) - part).max(), abs=1e-12)
