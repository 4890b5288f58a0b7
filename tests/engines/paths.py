"""Where the engine tests find their real data files."""

from __future__ import annotations

from pathlib import Path

# tests/data/: coffee.csv (real ATR-FTIR spectra), tiny_nirs/ (nirs4all folder) and bad/ inputs.
DATA = Path(__file__).resolve().parents[1] / "data"
