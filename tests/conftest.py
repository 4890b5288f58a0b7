from __future__ import annotations

import pytest

from nirs4all_workspace.workspace import Workspace
from tests.fakes import FakeDataset, FakeEngine


@pytest.fixture
def workspace(tmp_path):
    return Workspace.open(tmp_path / "ws")


@pytest.fixture
def fake_engine():
    return FakeEngine()


@pytest.fixture
def fake_dataset():
    return FakeDataset()
