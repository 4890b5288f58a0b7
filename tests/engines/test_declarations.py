"""The catalog and reports learn metrics from the engine recorded on each row, never from a table."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.catalog.predictions import direction_of
from nirs4all_workspace.engines.registry import find_declaration, get_engine
from nirs4all_workspace.errors import InputError
from nirs4all_workspace.experiment import run_experiment
from tests.engines.plugins import register_engine

# An engine whose metrics no other engine knows: "loss" (lower is better) and "gain" (higher),
# ranked by "gain"; its declaration is the entry point, its class lives in the same module.
SCORER = """
from nirs4all_workspace.engines.declaration import EngineDeclaration
from tests.fakes import FakeDataset, FakeEngine


class ScorerEngine(FakeEngine):
    name = "scorer"

    def execute(self, spec, dataset):
        result = super().execute(spec, dataset)
        for block in result.predictions:
            rmse = block.metrics["rmse"]
            block.metrics = {"loss": rmse, "gain": -rmse}
        result.metrics = {p: {"loss": s["rmse"], "gain": -s["rmse"]} for p, s in result.metrics.items()}
        result.folds = [{"loss": s["rmse"], "gain": -s["rmse"]} for s in result.folds]
        result.task = "scoring"
        return result

    def default_metric(self, task):
        return DECLARATION.default_metric(task)


DECLARATION = EngineDeclaration(
    name="scorer",
    factory="scorer_engine:ScorerEngine",
    tasks=("scoring",),
    metrics={"loss": "min", "gain": "max"},
    default_metrics={"scoring": "gain"},
    words={"model": "scorer"},
)
ScorerEngine.declaration = DECLARATION
"""


@pytest.fixture
def scorer(tmp_path: Path):
    site = register_engine(
        tmp_path / "site", "scorer-engine", "scorer_engine", SCORER, "scorer", "scorer_engine:DECLARATION"
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield get_engine("scorer")
    sys.path.remove(str(site))
    sys.modules.pop("scorer_engine", None)


def test_the_catalog_ranks_by_the_recorded_engines_default_metric(scorer, tmp_path: Path) -> None:
    from tests.fakes import FakeDataset

    ws = Workspace.open(tmp_path / "ws")
    run_experiment(ws, scorer, FakeDataset(name="scored"), {"scales": [0.5, 1.0, 2.0]}, plots="none")
    assert ws.predictions.default_metric("scored") == "gain"
    best = ws.predictions.best("scored")
    assert best["gain"] == 0.0  # scale 1.0: loss 0, the highest gain
    assert ws.predictions.best("scored", metric="loss")["loss"] == 0.0
    assert direction_of("gain", engines={"scorer"}) == "max"
    assert direction_of("loss", engines={"scorer"}) == "min"


def test_an_engine_that_is_not_installed_is_named_not_guessed(tmp_path: Path) -> None:
    from tests.fakes import FakeDataset, FakeEngine

    class GhostEngine(FakeEngine):
        name = "ghost"

    ws = Workspace.open(tmp_path / "ws")
    run_experiment(ws, GhostEngine(), FakeDataset(name="orphan"), {"scales": [1.0]}, plots="none")
    assert find_declaration("ghost") is None
    with pytest.raises(InputError, match=r"engine 'ghost'.*not installed"):
        ws.predictions.default_metric("orphan")
    with pytest.raises(InputError, match=r"direction of metric 'rmse' is unknown.*'ghost'"):
        ws.predictions.best("orphan", metric="rmse")


def test_the_default_engine_is_declared_and_directions_come_from_installed_engines() -> None:
    from nirs4all_workspace.engines.registry import default_engine_name

    assert find_declaration(default_engine_name()).default
    assert direction_of("rmse") == "min"
    assert direction_of("sharpe") == "max"
    with pytest.raises(InputError, match="unknown metric 'nope'"):
        direction_of("nope")


def test_reading_the_built_in_declarations_imports_neither_numpy_nor_an_engine() -> None:
    import subprocess

    code = (
        "import sys\n"
        "from nirs4all_workspace.catalog.engine_metrics import default_metric_of, direction_of\n"
        "from nirs4all_workspace.engines.registry import default_engine_name, engine_entries\n"
        "builtin = [n for n, e in engine_entries().items() if e.distribution is None]\n"
        "assert len(builtin) >= 2, builtin\n"
        "assert direction_of('max_drawdown', builtin) == 'min'\n"
        "assert default_metric_of([default_engine_name()], [], 'x')\n"
        "heavy = [m for m in ('numpy', 'sklearn', 'matplotlib') if m in sys.modules]\n"
        "ours = [m for m in sys.modules if m.startswith('nirs4all_workspace.engines.')]\n"
        "engines = [m for m in ours if m.endswith(('.engine', '.phases', '.report', '.commands'))]\n"
        "assert not heavy and not engines, (heavy, engines)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_analytics_commands_and_trusted_types_are_declared_and_read_through_the_registry() -> None:
    from nirs4all_workspace.engines.declaration import ANALYTICS_COMMANDS
    from nirs4all_workspace.library.safe_objects import trusted_types

    trading, nirs = find_declaration("signals"), find_declaration("sklearn")
    assert set(trading.analytics) == set(ANALYTICS_COMMANDS)
    assert trading.supports("analytics") and not nirs.supports("analytics")
    assert callable(trading.analytics_function("replay"))
    assert nirs.analytics_function("scan") is None
    declared = nirs.trusted_type_names()
    assert {
        "nirs4all_workspace.engines.sklearn.operators.SNV",
        "sklearn.tree._tree.Tree",
        "chemotools.scatter._standard_normal_variate.StandardNormalVariate",
    } <= set(declared)
    assert set(declared) <= set(trusted_types())
    assert trading.trusted_type_names() == ()


def test_a_declaration_refuses_unknown_analytics_or_the_capability_without_functions() -> None:
    from nirs4all_workspace.engines.declaration import EngineDeclaration

    base = {
        "name": "x",
        "factory": "m:X",
        "tasks": ("t",),
        "metrics": {"s": "max"},
        "default_metrics": {"t": "s"},
    }
    with pytest.raises(ValueError, match="unknown analytics commands"):
        EngineDeclaration(**base, analytics={"forecast": "m:f"})
    with pytest.raises(ValueError, match="needs its functions"):
        EngineDeclaration(**base, capabilities=frozenset({"analytics"}))
    assert EngineDeclaration(**base, analytics={"scan": "m:f"}).capabilities == {"analytics"}
