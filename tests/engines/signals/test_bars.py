"""OHLCV files: CSV and Parquet, checks with clear messages, several symbols, slices, alignment."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from nirs4all_workspace.engines.signals import SignalsEngine, align, load_bars
from nirs4all_workspace.engines.signals.bars import bars_per_year, timeframe_label
from nirs4all_workspace.errors import DatasetError

from .conftest import SPY_PATH, random_bars


def _frame(n: int = 50, **changes) -> pl.DataFrame:
    bars = random_bars(0, n)
    frame = pl.DataFrame(
        {
            "Timestamp": pl.Series(
                bars.timestamps.astype("datetime64[ns]").astype("datetime64[us]")
            ).dt.replace_time_zone("UTC"),
            "Open": bars.open,
            "High": bars.high,
            "Low": bars.low,
            "Close": bars.close,
            "Volume": bars.volume,
        }
    )
    return frame.with_columns(**changes) if changes else frame


def test_csv_and_parquet_give_the_same_bars(tmp_path):
    frame = _frame()
    frame.write_csv(tmp_path / "SPY_1m.csv")
    frame.write_parquet(tmp_path / "SPY_1m.parquet")
    from_csv, from_parquet = load_bars(tmp_path / "SPY_1m.csv"), load_bars(tmp_path / "SPY_1m.parquet")
    assert from_csv.name == from_parquet.name == "SPY_1m"
    assert from_csv.fingerprint == from_parquet.fingerprint
    assert np.array_equal(from_csv.close, frame["Close"].to_numpy())
    assert from_csv.timeframe == "1m"
    assert from_csv.bars_per_year == 252 * 390


def test_rows_are_sorted_by_time(tmp_path):
    frame = _frame()
    frame.reverse().write_csv(tmp_path / "rev.csv")
    assert np.array_equal(load_bars(tmp_path / "rev.csv").close, frame["Close"].to_numpy())


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_frame().drop("Close"), "has no column(s) close"),
        (_frame().with_columns(pl.col("Timestamp").first()), "repeats"),
        (
            _frame().with_columns(
                pl.when(pl.int_range(50) == 7).then(None).otherwise(pl.col("Close")).alias("Close")
            ),
            "missing, infinite or non-positive value at bar 7",
        ),
        (_frame().with_columns(pl.lit(-1.0).alias("Low")), "column 'low'"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path, frame, message):
    frame.write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_bars(tmp_path / "bad.parquet")


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_bars(tmp_path / "none.csv")
    (tmp_path / "bars.xlsx").write_text("x")
    with pytest.raises(DatasetError, match=r"use a \.csv or \.parquet"):
        load_bars(tmp_path / "bars.xlsx")


def test_a_file_of_several_symbols_needs_one_picked(tmp_path):
    frame = pl.concat(
        [_frame().with_columns(symbol=pl.lit("SPY")), _frame().with_columns(symbol=pl.lit("QQQ"))]
    )
    frame.write_parquet(tmp_path / "both.parquet")
    with pytest.raises(DatasetError, match="holds 2 symbols"):
        load_bars(tmp_path / "both.parquet")
    bars = SignalsEngine().load_dataset(tmp_path / "both.parquet", symbol="QQQ", target=None, task=None)
    assert bars.name == "QQQ_1m"
    assert bars.n_samples == 50


def test_the_engine_refuses_spectra_options(tmp_path):
    _frame().write_csv(tmp_path / "x.csv")
    with pytest.raises(DatasetError, match="do not apply to price bars"):
        SignalsEngine().load_dataset(tmp_path / "x.csv", target="close")


def test_a_slice_records_where_it_comes_from(tmp_path):
    _frame(200).write_parquet(tmp_path / "SPY_1m.parquet")
    part = load_bars(tmp_path / "SPY_1m.parquet").slice(20, 120).slice(10, 30)
    assert part.source.endswith("SPY_1m.parquet[30:50]")
    again = load_bars(part.source)
    assert again.fingerprint == part.fingerprint
    assert again.n_samples == 20


def test_align_keeps_the_common_timestamps():
    a, b = random_bars(1, 100, "A_1m"), random_bars(2, 100, "B_1m").slice(30)
    left, right = align([a, b])
    assert left.n_samples == right.n_samples == 70
    assert np.array_equal(left.timestamps, right.timestamps)
    assert np.array_equal(left.close, a.close[30:])


def test_timeframes_and_annualisation():
    assert timeframe_label(60) == "1m"
    assert timeframe_label(300) == "5m"
    assert timeframe_label(3600) == "1h"
    assert timeframe_label(86_400) == "1d"
    assert bars_per_year(60) == 98_280
    assert bars_per_year(300) == 98_280 / 5
    assert bars_per_year(86_400) == 252
    assert bars_per_year(7 * 86_400) == 52


def test_the_real_spy_file_loads():
    if not SPY_PATH.is_file():
        pytest.skip(f"real SPY bars not found at {SPY_PATH.resolve()} (the shared data folder)")
    bars = load_bars(SPY_PATH)
    assert bars.name == "SPY_1m"
    assert bars.n_samples == 102_236
    assert bars.timeframe == "1m"
    assert bars.describe()["first"] == "2024-03-26T13:30:00Z"


def test_a_slice_is_named_by_one_rule_and_asks_its_own_question(tmp_path):
    from nirs4all_workspace.engines.signals.bars import slice_name

    _frame(200).write_parquet(tmp_path / "SPY_1m.parquet")
    whole = load_bars(tmp_path / "SPY_1m.parquet")
    part = load_bars(f"{tmp_path / 'SPY_1m.parquet'}[0:150]")
    assert part.name == slice_name("SPY_1m", 0, 150) == "SPY_1m_0_150"
    assert whole.slice(0, 150).name == part.name  # as workflows slice it
    assert whole.slice(20, 120).slice(10, 30).name == "SPY_1m_30_50"  # positions in the file
    assert whole.identity.slice is None and part.identity.slice == "0:150"
    assert whole.identity.question() != part.identity.question()
    assert whole.identity.source == part.identity.source == str((tmp_path / "SPY_1m.parquet").absolute())
    assert part.identity.digest == part.fingerprint != whole.identity.digest
