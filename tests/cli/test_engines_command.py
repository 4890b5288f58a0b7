"""``nirs4all engines``: the installed engines and what each declares."""

from __future__ import annotations

import json

REQUIRED = {
    "name",
    "package",
    "version",
    "tasks",
    "metrics",
    "default_metric",
    "capabilities",
    "demo_dataset",
}


def test_engines_json_lists_every_installed_engine_with_its_declaration(cli) -> None:
    status, out, err = cli("engines", "--json")
    assert status == 0, err
    engines = {e["name"]: e for e in json.loads(out)}
    assert {"sklearn", "signals", "fake"} <= set(engines)
    for engine in engines.values():
        assert set(engine) >= REQUIRED, engine
        for task in engine["tasks"]:
            assert engine["metrics"][engine["default_metric"][task]] in ("min", "max")
    nirs = engines["sklearn"]
    assert nirs["package"] == "nirs4all-workspace"
    assert nirs["version"]
    assert nirs["metrics"]["rmse"] == "min"
    assert nirs["default_metric"] == {"regression": "rmse", "classification": "accuracy"}
    assert set(nirs["capabilities"]) == {"predict", "export", "rerun"}
    assert nirs["demo_dataset"] == "demo"
    assert nirs["default"] is True
    trading = engines["signals"]
    assert trading["default_metric"] == {"trading": "sharpe"}
    assert trading["metrics"]["max_drawdown"] == "min"
    assert trading["demo_dataset"] == "SYNTH_1m"
    assert {"grid", "analysis"} <= set(trading["phase_kinds"])
    assert trading["words"]["model"] == "strategy"
    assert "analytics" in trading["capabilities"]
    assert trading["analytics"] == ["analyze_grid", "replay", "scan", "summary"]
    assert nirs["analytics"] == []
    assert engines["fake"]["package"] == "nirs4all-test-fakes"


def test_engines_table_names_each_engine_and_its_default_metric(cli) -> None:
    status, out, err = cli("engines")
    assert status == 0, err
    assert "sklearn" in out and "signals" in out
    assert "sharpe" in out and "rmse" in out
