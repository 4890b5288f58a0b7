"""``nirs4all replay``: stored signals, regime-filtered and combined, from the command line."""

from __future__ import annotations

import numpy as np
import pytest

from nirs4all_workspace.engines.signals import make_demo_bars, replay
from nirs4all_workspace.engines.signals.cache import dataset_cache
from nirs4all_workspace.engines.signals.sparse import read_signal_table

GRID_YAML = """\
strategies: [{class: ma_crossover, params: {fast: 5, slow: 40}}, {class: breakout, params: {window: 60}}]
classifiers: [{class: volatility, params: {fast: 20, slow: 200}}]
"""


@pytest.fixture
def ran(cli, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID_YAML)
    status, _, err = cli("run", "--engine", "signals", "--pipeline", str(grid), "--plots", "none")
    assert status == 0, err
    return cli.root


def test_replay_in_a_regime_matches_the_library(cli, ran):
    payload = cli.json("replay", "SYNTH_1m", "--strategies", "ma_5_40", "--regime", "vol_20_200_1.25=high")
    assert payload["regime"] == {"classifier": "vol_20_200_1.25", "regime": "high"}
    assert payload["members"][0]["variant"] == "ma_5_40"
    assert payload["events"] == payload["members"][0]["changes"]
    assert payload["total_bars"] == 19_890
    # The same numbers as the regime row stored for that variant.
    import polars as pl

    regimes = pl.read_parquet(ran / "runs" / "SYNTH_1m" / "_analytics" / "regime_performance.parquet")
    row = regimes.filter(
        (pl.col("variant") == "ma_5_40")
        & (pl.col("classifier") == "vol_20_200_1.25")
        & (pl.col("regime") == "high")
    ).row(0, named=True)
    for name in ("total_return", "sharpe", "max_drawdown", "n_trades"):
        assert payload["metrics"][name] == pytest.approx(row[name], rel=1e-12)


def test_an_ensemble_by_number_and_name_with_weights(cli, ran):
    payload = cli.json("replay", "SYNTH_1m", "-s", "1,bo_60", "--weights", "0.7,0.3")
    assert [m["weight"] for m in payload["members"]] == [0.7, 0.3]
    bars = make_demo_bars()
    folder = ran / "runs" / "SYNTH_1m"
    signals = [
        read_signal_table(next(folder.glob(f"{n}_*")) / "signals.parquet")[0] for n in ("0001", "0002")
    ]
    ctx = dataset_cache(bars).context(bars.bars_per_year)
    result = replay(ctx, signals, weights=[0.7, 0.3])
    for name in ("total_return", "sharpe", "max_drawdown"):
        assert payload["metrics"][name] == pytest.approx(result.evaluation.metrics[name], rel=1e-12)
    exposure = result.signal.value_at(np.arange(19_890))
    assert set(np.round(np.unique(exposure), 12)) <= {-1.0, -0.7, -0.4, -0.3, 0.0, 0.3, 0.4, 0.7, 1.0}
    status, out, _ = cli("replay", "SYNTH_1m", "-s", "1,bo_60")
    assert status == 0
    assert "replay metrics" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "nothing"], "no strategy 'nothing'"),
        (["-s", "1", "--regime", "vol_20_200_1.25"], "must be CLASSIFIER=LABEL"),
        (["-s", "1", "--regime", "trend_1_2_0.1=up"], "was not evaluated with classifier 'trend_1_2_0.1'"),
        (["-s", "1", "--regime", "vol_20_200_1.25=sideways"], "no regime 'sideways'"),
        (["-s", "1,2", "--weights", "1"], "2 strategies but 1 weights"),
        (["-s", "1", "--weights", "a"], "must be numbers"),
        ([], "at least one strategy"),
    ],
)
def test_bad_replays_are_refused_in_one_line(cli, ran, args, message):
    status, _, err = cli("replay", "SYNTH_1m", *args)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_replay_refuses_other_bars(cli, ran, tmp_path):
    import polars as pl

    bars = make_demo_bars(sessions=3)
    pl.DataFrame(
        {
            "timestamp": bars.timestamps.astype("datetime64[ns]"),
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
        }
    ).write_csv(tmp_path / "other.csv")
    status, _, err = cli("replay", "SYNTH_1m", "-s", "1", "--data", str(tmp_path / "other.csv"))
    assert status == 2
    assert "not the ones the signals" in err
