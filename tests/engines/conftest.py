"""Shared fixtures of the engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .paths import DATA


@pytest.fixture
def data_dir() -> Path:
    """tests/data/: coffee.csv (real ATR-FTIR spectra), tiny_nirs/ and bad/ inputs."""
    return DATA
