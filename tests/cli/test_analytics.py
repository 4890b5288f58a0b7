"""``nirs4all run --engine signals`` then ``nirs4all analytics scan|summary|analyze-grid``."""

from __future__ import annotations

import pytest

from nirs4all_workspace.engines.signals import make_demo_bars

GRID_YAML = """\
strategies:
  _or_:
    - {class: ma_crossover, params: {fast: {_or_: [5, 10]}, slow: 40}}
    - {class: rsi_momentum, params: {period: 14}, stop_loss: 1.0}
classifiers:
  - {class: trend, params: {fast: 20, slow: 100}}
  - {class: momentum, params: {window: 30}}
fees: 0.0001
min_regime_trades: 5
"""


def _bars_csv(path):
    import polars as pl

    bars = make_demo_bars(sessions=6)
    pl.DataFrame(
        {
            "timestamp": pl.Series(bars.timestamps.astype("datetime64[ns]")).dt.replace_time_zone("UTC"),
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume,
        }
    ).write_csv(path)
    return path


@pytest.fixture
def ran(cli, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID_YAML)
    data = _bars_csv(tmp_path / "SYN_1m.csv")
    status, _, err = cli(
        "run",
        "--engine",
        "signals",
        "--dataset",
        str(data),
        "--pipeline",
        str(grid),
        "--plots",
        "none",
        "--json",
    )
    assert status == 0, err
    return data


def test_run_reports_the_sharpe_and_the_analytics(cli, ran):
    payload = cli.json("runs", "show", "SYN_1m")
    assert payload
    summary = cli.json("analytics", "summary", "SYN_1m")
    assert summary["variants"] == 3
    assert summary["classifiers"] == 2
    assert summary["regime_rows"] == 3 * 6
    assert summary["data"]["bars"] == 6 * 390
    assert summary["best_by_sharpe"][0]["sharpe"] >= summary["best_by_sharpe"][-1]["sharpe"]


def test_analyze_grid_ranks_regime_cells_or_variants(cli, ran):
    cells = cli.json("analytics", "analyze-grid", "SYN_1m", "--top", "4", "--min-trades", "3")
    assert 0 < len(cells) <= 4
    values = [c["regime_aware_sharpe"] for c in cells]
    assert values == sorted(values, reverse=True)
    assert all(c["n_trades"] >= 3 for c in cells)
    assert {"variant", "classifier", "regime"} <= set(cells[0])
    variants = cli.json("analytics", "analyze-grid", "SYN_1m", "--metric", "max_drawdown")
    drawdowns = [v["max_drawdown"] for v in variants]
    assert drawdowns == sorted(drawdowns)  # lower is better
    status, out, _ = cli("analytics", "analyze-grid", "SYN_1m")
    assert status == 0
    assert "regime_aware_sharpe" in out


def test_scan_reads_several_workspaces(cli, ran, tmp_path):
    other = tmp_path / "other"
    status, _, err = cli(
        "run",
        "--engine",
        "signals",
        "--dataset",
        str(ran),
        "--pipeline",
        str(tmp_path / "grid.yaml"),
        "--plots",
        "none",
        "--workspace",
        str(other),
        workspace=False,
    )
    assert status == 0, err
    rows = cli.json("analytics", "scan", "--workspace", str(other), "--top", "0")
    assert len(rows) == 6  # three variants in each workspace
    assert len({r["workspace"] for r in rows}) == 2
    sharpe = [r["sharpe"] for r in rows]
    assert sharpe == sorted(sharpe, reverse=True)
    threshold = sharpe[2]
    kept = cli.json("analytics", "scan", "--workspace", str(other), "--min-sharpe", str(threshold))
    assert kept and all(r["sharpe"] >= threshold for r in kept)


def test_catalog_query_sees_the_trading_metrics(cli, ran):
    rows = cli.json(
        "catalog", "query", "SELECT pipeline_name, sharpe, n_trades FROM predictions ORDER BY sharpe DESC"
    )
    assert rows[0]["pipeline_name"] in {"ma_5_40", "ma_10_40", "rsi_14_30_70_sl_1.0"}
    assert [r["sharpe"] for r in rows] == sorted((r["sharpe"] for r in rows), reverse=True)
    assert all(r["n_trades"] >= 0 for r in rows)


def test_unknown_dataset_or_metric_is_one_clear_line(cli, ran):
    status, _, err = cli("analytics", "summary", "NOPE")
    assert status == 2
    assert "no dataset 'NOPE'" in err
    status, _, err = cli("analytics", "analyze-grid", "SYN_1m", "--metric", "rmse")
    assert status == 2
    assert "unknown metric 'rmse'" in err


def test_an_engine_without_analytics_is_one_clear_line(cli, fake_registered, tmp_path):
    grid = tmp_path / "fake.yaml"
    grid.write_text("scales: [1.0]\n")
    status, _, err = cli("run", "--engine", "fake", "--pipeline", str(grid), "--plots", "none")
    assert status == 0, err
    for args in (
        ("analytics", "summary", "fake"),
        ("analytics", "analyze-grid", "fake"),
        ("replay", "fake", "-s", "1"),
    ):
        status, _, err = cli(*args)
        assert status == 2
        assert "was made by engine 'fake', which has no" in err
        assert len(err.strip().splitlines()) == 1
