"""Shared helpers of the library tests: a small real run, and tree snapshots."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import polars as pl

from nirs4all_workspace.engines.sklearn import load_dataset

DATA = Path(__file__).resolve().parents[1] / "data"
TINY = DATA / "tiny_nirs"

# 4 variants, 3-fold CV: a run on the tiny dataset takes well under a second.
SMALL_GRID = {
    "pipeline": [
        {"class": "kfold", "params": {"n_splits": 3, "shuffle": True, "random_state": 0}},
        {
            "_or_": [
                None,
                "snv",
                ["msc", {"class": "savgol", "params": {"window_length": 7, "deriv": 1}}],
                "detrend",
            ]
        },
        {"model": {"class": "pls", "params": {"n_components": 3}}},
    ]
}

SMALL_GRID_YAML = """
pipeline:
  - {class: kfold, params: {n_splits: 3, shuffle: true, random_state: 0}}
  - _or_: [null, snv, [msc, {class: savgol, params: {window_length: 7, deriv: 1}}], detrend]
  - model: {class: pls, params: {n_components: 3}}
"""


def write_tiny_csv(path: Path) -> Path:
    """The calibration part of tests/data/tiny_nirs as one CSV file (spectra, then ``moisture``)."""
    data = load_dataset(TINY)
    frame = pl.from_numpy(data.X, schema=data.feature_names, orient="row").with_columns(
        pl.Series(data.target_name, data.y)
    )
    frame.write_csv(path)
    return path


def tree(root: Path) -> dict[str, str]:
    """Every folder and file below ``root``: relative path -> SHA-256 (or ``dir``)."""
    found = {}
    for path in sorted(Path(root).rglob("*")):
        key = path.relative_to(root).as_posix()
        found[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def train_predictions(pipeline_dir: Path) -> dict[str, float]:
    """sample_id -> y_pred of the ``train`` partition of a ``predictions.csv`` (the final model)."""
    frame = pl.read_csv(pipeline_dir / "predictions.csv", infer_schema_length=0)
    rows = frame.filter(pl.col("partition") == "train")
    return {sid: float(p) for sid, p in zip(rows["sample_id"], rows["y_pred"], strict=True)}


def output_predictions(path: Path) -> dict[str, float]:
    frame = pl.read_csv(path, infer_schema_length=0)
    return {sid: float(p) for sid, p in zip(frame["sample_id"], frame["y_pred"], strict=True)}


def nirs4all(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the CLI in a new Python process."""
    return subprocess.run(
        [sys.executable, "-m", "nirs4all_workspace.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env=env,
    )
