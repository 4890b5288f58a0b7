from __future__ import annotations

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.experiment import run_experiment
from tests.fakes import FakeDataset, FakeEngine

# 10 pipelines per session: 8 completed, 2 failed; the best (val rmse 0) is scale 1.0, offset 0.
LIFECYCLE_GRID = {"scales": [0.5, 0.8, 1.0, 1.3, 2.0], "offsets": [0.0, 0.5], "fail_on": [2.0]}


@pytest.fixture
def workspace(tmp_path):
    return Workspace.open(tmp_path / "ws")


@pytest.fixture
def fake_engine():
    return FakeEngine()


@pytest.fixture
def fake_dataset():
    return FakeDataset()


@pytest.fixture
def filled(workspace, fake_engine, fake_dataset):
    """Dataset ``fake`` with sessions ``a`` (pipelines 1-10) and ``b`` (11-20); the best is 0005."""
    run_experiment(workspace, fake_engine, fake_dataset, LIFECYCLE_GRID, session="a", plots="none")
    run_experiment(workspace, fake_engine, fake_dataset, LIFECYCLE_GRID, session="b", plots="none")
    return workspace
