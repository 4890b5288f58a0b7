"""The small engine the workspace tests use must keep the same contract as real engines."""

import pytest

from tests.engines.contract import EngineContractTests
from tests.fakes import FakeDataset, FakeEngine


class TestFakeEngineContract(EngineContractTests):
    @pytest.fixture
    def engine(self):
        return FakeEngine()

    @pytest.fixture
    def dataset(self):
        return FakeDataset()

    @pytest.fixture
    def config(self):
        return {"scales": [0.5, 1.0], "offsets": [0.0, 1.0]}
