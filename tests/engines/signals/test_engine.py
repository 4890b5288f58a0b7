"""The signals engine keeps the engine contract, and the workspace stores what it returns."""

from __future__ import annotations

import io
import json

import numpy as np
import polars as pl
import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.engines.registry import get_engine
from nirs4all_workspace.engines.signals import SignalsEngine, Strategy
from nirs4all_workspace.engines.signals.config import strategy_of
from nirs4all_workspace.engines.signals.sparse import decode, read_regime_table, read_signal_table
from nirs4all_workspace.experiment import run_experiment
from tests.engines.contract import EngineContractTests

GRID = {
    "strategies": [
        {"class": "ma_crossover", "params": {"fast": 5, "slow": 30}, "stop_loss": {"_or_": [None, 0.5]}},
        {"class": "rsi_momentum", "params": {"period": 14}},
    ],
    "classifiers": [
        {"class": "trend", "params": {"fast": 20, "slow": 100}},
        {"class": "volatility", "params": {"fast": 20, "slow": 200}},
    ],
    "fees": 0.0001,
    "min_regime_trades": 5,
}


class TestSignalsEngineContract(EngineContractTests):
    @pytest.fixture
    def engine(self):
        return SignalsEngine()

    @pytest.fixture
    def dataset(self, small_bars):
        return small_bars

    @pytest.fixture
    def config(self):
        return GRID


def test_the_engine_is_registered_as_signals():
    assert isinstance(get_engine("signals"), SignalsEngine)


def test_execute_returns_files_instead_of_writing_them(small_bars):
    engine = SignalsEngine()
    spec = engine.expand(GRID)[0]
    result = engine.execute(spec, small_bars)
    assert set(result.files) == {"signals.parquet", "regime_metrics.parquet"}
    assert sorted(result.dataset_files) == [
        name for name in sorted(result.dataset_files) if name.startswith("_classifiers/")
    ]
    assert len(result.dataset_files) == 2
    sparse, meta = read_signal_table(result.files["signals.parquet"])
    expected, _ = Strategy("ma_crossover", {"fast": 5, "slow": 30}).signals(small_bars)
    assert np.array_equal(decode(sparse)[0], expected)
    assert meta["total_bars"] == small_bars.n_samples
    assert meta["compression"] == sparse.changes / small_bars.n_samples
    regimes = pl.read_parquet(io.BytesIO(result.files["regime_metrics.parquet"]))
    assert regimes.height == 6  # two classifiers x three regimes
    block = result.predictions[0]
    assert block.partition == "val"
    assert len(block.y_true) == result.metrics["val"]["n_trades"]
    assert set(np.unique(block.y_pred)) <= {-1.0, 1.0}


@pytest.fixture(scope="module")
def filled(tmp_path_factory, small_bars):
    ws = Workspace.open(tmp_path_factory.mktemp("signals") / "ws")
    report = run_experiment(ws, SignalsEngine(), small_bars, GRID, session="s1", plots="none")
    return ws, report


def test_each_variant_is_a_pipeline_folder_with_its_signals(filled, small_bars):
    _, report = filled
    assert report.summary.completed == 3
    for saved in report.saved:
        folder = saved.handle.paths.dir
        assert {"signals.parquet", "regime_metrics.parquet", "pipeline.json", "metrics.json"} <= {
            p.name for p in folder.iterdir()
        }
        record = json.loads((folder / "pipeline.json").read_text())
        assert record["params"]["strategy"] in ("ma_crossover", "rsi_momentum")
        assert record["config"]["strategy"]["params"]  # concrete, never {}
        assert record["files"]["signals.parquet"]["size"] == (folder / "signals.parquet").stat().st_size
        assert len(record["dataset_files"]) == 2
        strategy = strategy_of(record["config"])
        sparse, meta = read_signal_table(folder / "signals.parquet")
        assert np.array_equal(decode(sparse)[0], strategy.signals(small_bars)[0])
        assert meta["total_bars"] == small_bars.n_samples
    assert [s.handle.folder[:5] for s in report.saved] == ["0001_", "0002_", "0003_"]
    assert report.saved[1].handle.folder.startswith("0002_ma_5_30_sl_0.5_")


def test_classifier_outputs_are_stored_once_per_dataset(filled, small_bars):
    ws, _ = filled
    folder = ws.layout.dataset_dir(small_bars.name) / "_classifiers"
    files = sorted(folder.iterdir())
    assert len(files) == 2
    stamps = {p.name: p.stat().st_mtime_ns for p in files}
    run_experiment(ws, SignalsEngine(), small_bars, GRID, session="s2", plots="none")
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps  # kept, not rewritten
    regimes, meta = read_regime_table(files[0])
    assert regimes.bar_idx[0] == 0
    assert meta["total_bars"] == small_bars.n_samples
    assert meta["data_fingerprint"] == small_bars.fingerprint


def test_catalog_rows_carry_the_trading_metrics(filled, small_bars):
    ws, report = filled
    rows = ws.predictions.query(
        "SELECT pipeline_name, sharpe, max_drawdown, n_trades, regime_aware_sharpe, params "
        f"FROM predictions WHERE engine = 'signals' AND dataset = '{small_bars.name}' AND session = 's1'"
    )
    assert rows.height == 3
    assert sorted(rows["pipeline_name"].to_list()) == ["ma_5_30", "ma_5_30_sl_0.5", "rsi_14_30_70"]
    assert rows["sharpe"].is_not_null().all()
    assert all(json.loads(p)["strategy"] for p in rows["params"])
    assert report.metric == "sharpe"
    assert report.best is not None
    best = max(report.saved, key=lambda s: s.score("sharpe"))
    assert report.best.folder == best.handle.folder


def test_parallel_workers_store_the_same_results(tmp_path, small_bars, monkeypatch):
    monkeypatch.setenv("NIRS4ALL_WORKERS", "always")  # a grid this small would otherwise stay in this process
    grid = {**GRID, "strategies": GRID["strategies"][1:]}
    one = run_experiment(Workspace.open(tmp_path / "one"), SignalsEngine(), small_bars, grid, plots="none")
    grid2 = {**grid, "strategies": [*grid["strategies"], "breakout"]}
    two = run_experiment(
        Workspace.open(tmp_path / "two"), SignalsEngine(), small_bars, grid2, n_jobs=2, plots="none"
    )
    assert one.saved[0].metrics == two.saved[0].metrics
    assert one.saved[0].handle.full_hash == two.saved[0].handle.full_hash
    assert "started 2 worker processes" in two.execution


def test_real_spy_bars_run_end_to_end(tmp_path, spy_bars):
    ws = Workspace.open(tmp_path / "ws")
    report = run_experiment(ws, SignalsEngine(), spy_bars, GRID, plots="none")
    assert report.summary.completed == 3
    assert report.dataset == "SPY_1m_0_3000"  # a slice of bars is a dataset of its own (docs/workspace.md)
    assert (ws.layout.dataset_dir("SPY_1m_0_3000") / "_analytics" / "summary_stats.json").is_file()
