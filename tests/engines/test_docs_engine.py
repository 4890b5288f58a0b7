"""The engine of docs/engines.md, copied verbatim, keeps the contract and runs through ``nirs4all run``."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

from nirs4all_workspace.engines.registry import find_declaration
from tests.engines.contract import EngineContractTests
from tests.engines.plugins import ROOT, nirs4all, python_blocks, register_engine

DOC = ROOT / "docs" / "engines.md"
MODULE = "docs_example_engine"


def engine_source() -> str:
    """The first code block of docs/engines.md: a whole engine module."""
    blocks = python_blocks(DOC)
    assert blocks, "docs/engines.md has no python code block"
    return blocks[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = register_engine(
        tmp_path_factory.mktemp("site"),
        "docs-example-engine",
        MODULE,
        engine_source(),
        "polyfit",
        f"{MODULE}:PolyfitEngine",
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield site
    sys.path.remove(str(site))
    sys.modules.pop(MODULE, None)


@pytest.fixture(scope="module")
def module(site: Path):
    return importlib.import_module(MODULE)


class TestDocsEngineContract(EngineContractTests):
    @pytest.fixture
    def engine(self, module):
        return module.PolyfitEngine()

    @pytest.fixture
    def dataset(self, engine):
        return engine.demo_dataset()

    @pytest.fixture
    def config(self):
        return {"degrees": [1, 2, 3]}


def test_the_registry_finds_the_docs_engine(site: Path) -> None:
    declaration = find_declaration("polyfit")
    assert declaration is not None
    assert declaration.metrics == {"rmse": "min", "r2": "max"}
    assert declaration.default_metric("regression") == ("rmse", "min")


def test_nirs4all_run_runs_the_docs_engine(site: Path, tmp_path: Path) -> None:
    done = nirs4all(
        site, "run", "--engine", "polyfit", "--json", "--workspace", str(tmp_path / "ws"), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)["runs"][0]
    assert run["metric"] == "rmse"
    assert run["direction"] == "min"
    assert run["completed"] == run["pipelines"] >= 2
    assert run["failed"] == 0
    # on its own data file too, and the catalog ranks by the engine's metric
    points = tmp_path / "points.csv"
    points.write_text("x,y\n" + "".join(f"{i / 10},{(i / 10) ** 2 + (i % 3) / 10}\n" for i in range(40)))
    done = nirs4all(
        site,
        "run",
        "--engine",
        "polyfit",
        "-d",
        str(points),
        "--json",
        "--workspace",
        str(tmp_path / "ws"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["runs"][0]["dataset"] == "points"
    best = nirs4all(
        site, "catalog", "best", "points", "--json", "--workspace", str(tmp_path / "ws"), cwd=tmp_path
    )
    assert best.returncode == 0, best.stderr
    assert "rmse" in best.stdout
