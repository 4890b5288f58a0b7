from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from nirs4all_workspace.engines.sklearn import SklearnEngine
from nirs4all_workspace.experiment import ExperimentReport, run_experiment
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.trained import save_trained
from nirs4all_workspace.workspace.layout import TRAINED_TYPES

from .helpers import SMALL_GRID, write_tiny_csv


@dataclass
class Trained:
    """A workspace with one small run on ``tiny.csv`` and its best pipeline saved in every type."""

    root: Path
    ws: Workspace
    csv: Path
    report: ExperimentReport
    best: str
    zips: dict[str, Path]

    @property
    def best_dir(self) -> Path:
        return self.ws.layout.pipeline("tiny", self.best).dir


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Trained:
    """Shared and read-only: tests that change a workspace make their own."""
    root = tmp_path_factory.mktemp("trained")
    csv = write_tiny_csv(root / "tiny.csv")
    ws = Workspace.open(root / "ws")
    engine = SklearnEngine()
    report = run_experiment(ws, engine, engine.load_dataset(csv), SMALL_GRID, session="s1")
    best = report.best.folder
    zips = {kind: save_trained(ws, f"tiny/{best}", f"best-{kind}", kind).path for kind in TRAINED_TYPES}
    return Trained(root, ws, csv, report, best, zips)
