from __future__ import annotations

import atexit
import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.experiment import run_experiment
from tests.fakes import FakeDataset, FakeEngine


def _install_fake_engine() -> None:
    """Register tests.fakes:FakeEngine as engine ``fake``, the way an installed package does
    (a ``.dist-info`` with an entry point), for this process and the subprocesses it starts:
    the catalog asks the engine recorded on each row for its metrics."""
    site = Path(tempfile.mkdtemp(prefix="nirs4all-test-engines-"))
    atexit.register(shutil.rmtree, site, ignore_errors=True)
    info = site / "nirs4all_test_fakes-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nirs4all-test-fakes\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[nirs4all_workspace.engines]\nfake = tests.fakes:FakeEngine\n")
    root = str(Path(__file__).resolve().parents[1])
    sys.path.append(str(site))
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join([*paths, root, str(site)])
    importlib.invalidate_caches()


_install_fake_engine()

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
