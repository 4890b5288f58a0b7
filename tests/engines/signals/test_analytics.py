"""``_analytics/``: rebuilt after each run from the newest run of each variant; agrees with the catalog."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.engines.signals import SignalsEngine
from nirs4all_workspace.engines.signals.analytics import correlation_matrix, performance_matrix
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.stored_results import stored_pipelines

GRID = {
    "strategies": [
        {"class": "ma_crossover", "params": {"fast": {"_or_": [5, 10]}, "slow": 30}},
        {"class": "bollinger_reversion", "params": {"window": 20}},
    ],
    "classifiers": [
        {"class": "trend", "params": {"fast": 20, "slow": 100}},
        {"class": "volatility", "params": {"fast": 20, "slow": 200}},
    ],
    "fees": 0.0001,
}


@pytest.fixture(scope="module")
def filled(tmp_path_factory, small_bars):
    ws = Workspace.open(tmp_path_factory.mktemp("analytics") / "ws")
    run_experiment(ws, SignalsEngine(), small_bars, GRID, session="s1", plots="none")
    second = {**GRID, "strategies": [*GRID["strategies"], "breakout"]}
    report = run_experiment(ws, SignalsEngine(), small_bars, second, session="s2", plots="none")
    return ws, report, ws.layout.dataset_dir(small_bars.name) / "_analytics"


def test_the_four_files_are_there(filled):
    _, report, folder = filled
    assert report.engine_summary.error is None
    assert sorted(p.name for p in folder.iterdir()) == [
        "correlation_matrix.parquet",
        "performance_matrix.parquet",
        "regime_performance.parquet",
        "summary_stats.json",
    ]


def test_each_variant_counts_once_with_its_newest_run(filled):
    _, report, folder = filled
    performance = pl.read_parquet(folder / "performance_matrix.parquet")
    assert performance.height == 4  # 3 variants run twice + 1 new one
    assert set(performance["session"]) == {"s2"}
    assert sorted(performance["pipeline"]) == sorted(s.handle.folder for s in report.saved)
    assert all(json.loads(p) for p in performance["params"])  # concrete parameters, never {}
    assert (
        performance.filter(pl.col("variant") == "bb_20_2.0")["params"][0] == '{"num_std": 2.0, "window": 20}'
    )


def test_regime_rows_are_every_variant_classifier_and_regime(filled):
    _, _, folder = filled
    regimes = pl.read_parquet(folder / "regime_performance.parquet")
    assert regimes.height == 4 * 2 * 3
    assert regimes.columns[:4] == ["variant", "pipeline", "classifier", "regime"]
    counts = regimes.group_by("variant", "classifier").agg(pl.col("n_trades").sum())
    performance = pl.read_parquet(folder / "performance_matrix.parquet").select("variant", "n_trades")
    joined = counts.join(performance, on="variant", suffix="_all")
    # Trades opened during a classifier's warm-up belong to no regime.
    assert (joined["n_trades"] <= joined["n_trades_all"]).all()


def test_the_metrics_agree_with_the_catalog(filled, small_bars):
    ws, _, folder = filled
    performance = pl.read_parquet(folder / "performance_matrix.parquet")
    catalog = ws.predictions.frame(dataset=small_bars.name).filter(pl.col("session") == "s2")
    by_folder = {r["pipeline_folder"]: r for r in catalog.iter_rows(named=True)}
    for row in performance.iter_rows(named=True):
        for metric in ("sharpe", "total_return", "max_drawdown", "n_trades", "regime_aware_sharpe"):
            expected = by_folder[row["pipeline"]][metric]
            if expected is None:  # a metric that is undefined (no trade in any regime): null in both
                assert row[metric] is None or np.isnan(row[metric])
            else:
                assert row[metric] == pytest.approx(expected, rel=1e-12)


def test_correlations_are_of_the_best_variants_and_symmetric(filled, small_bars):
    ws, _, folder = filled
    correlation = pl.read_parquet(folder / "correlation_matrix.parquet")
    matrix = correlation.drop("variant").to_numpy()
    assert correlation.columns[1:] == correlation["variant"].to_list()
    assert np.allclose(np.diag(matrix), 1.0)
    assert np.allclose(matrix, matrix.T)
    pipelines = stored_pipelines(ws, small_bars.name, "signals")
    top_two = correlation_matrix(small_bars, pipelines, performance_matrix(pipelines), top=2)
    best = performance_matrix(pipelines).sort("sharpe", descending=True)["variant"].head(2).to_list()
    assert top_two["variant"].to_list() == best


def test_the_summary_is_strict_json(filled):
    _, _, folder = filled
    text = (folder / "summary_stats.json").read_text()
    stats = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in summary_stats.json"))
    assert stats["variants"] == 4
    assert stats["classifiers"] == 2
    assert stats["data"]["bars"] == 3120
    assert {f["strategy"] for f in stats["families"]} == {"ma_crossover", "bollinger_reversion", "breakout"}
    assert stats["compression"]["definition"] == "stored change rows / total bars"


def test_parameters_are_columns_of_the_performance_matrix(filled):
    _, _, folder = filled
    performance = pl.read_parquet(folder / "performance_matrix.parquet")
    row = performance.filter(pl.col("variant") == "ma_10_30").row(0, named=True)
    assert (row["param_fast"], row["param_slow"], row["param_window"]) == (10.0, 30.0, None)
    assert performance.filter(pl.col("variant") == "bo_20")["param_window"][0] == 20.0
