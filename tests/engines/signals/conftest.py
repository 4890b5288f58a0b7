"""Fixtures of the signals engine tests: small synthetic bars, the real SPY bars when present."""

from __future__ import annotations

import numpy as np
import pytest

from nirs4all_workspace.engines.signals import Bars, from_arrays, load_bars, make_demo_bars

# Real one-minute SPY bars, read in place (never copied into the repository).
from tests.engines.paths import SPY_PATH


@pytest.fixture(scope="session")
def small_bars() -> Bars:
    """Eight synthetic sessions (3,120 one-minute bars) with regime switches."""
    return make_demo_bars(sessions=8, name="SYNTH_1m")


@pytest.fixture(scope="session")
def spy_bars() -> Bars:
    """The first 3,000 real SPY bars; skipped when the shared data folder is absent."""
    if not SPY_PATH.is_file():
        pytest.skip(f"real SPY bars not found at {SPY_PATH.resolve()} (the shared data folder)")
    return load_bars(SPY_PATH).slice(0, 3000)


def random_bars(seed: int, n: int, name: str = "RND_1m") -> Bars:
    """A random walk of ``n`` one-minute bars."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    high = close * np.exp(np.abs(rng.normal(0.0, 0.001, n)))
    low = close * np.exp(-np.abs(rng.normal(0.0, 0.001, n)))
    stamps = np.datetime64("2024-01-02T14:30") + np.arange(n).astype("timedelta64[m]")
    return from_arrays(name, stamps, close, open=close, high=high, low=low, volume=np.ones(n))
