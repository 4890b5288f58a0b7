"""Where the engine tests find their real data files."""

from __future__ import annotations

import os
from pathlib import Path

# tests/data/: coffee.csv (real ATR-FTIR spectra), tiny_nirs/ (nirs4all folder) and bad/ inputs.
DATA = Path(__file__).resolve().parents[1] / "data"

# shared/data/SPY_1m.parquet: real one-minute SPY bars, read in place (never copied). The shared
# folder lies beside the repository (a clean clone in CI, the main checkout here); a worktree
# elsewhere finds it through NIRS4ALL_SHARED_DATA.
_SHARED_CANDIDATES = [
    Path(__file__).resolve().parents[2].parent / "shared" / "data",
    *([Path(os.environ["NIRS4ALL_SHARED_DATA"])] if os.environ.get("NIRS4ALL_SHARED_DATA") else []),
]
SPY_PATH = next(
    (folder / "SPY_1m.parquet" for folder in _SHARED_CANDIDATES if (folder / "SPY_1m.parquet").is_file()),
    _SHARED_CANDIDATES[0] / "SPY_1m.parquet",
)
