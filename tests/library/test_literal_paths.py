"""Paths are literal: ``predict --data 'a[b].csv'`` reads that file, never what the pattern matches."""

import polars as pl
import pytest

from nirs4all_workspace.library.predict import predict_file

from .helpers import nirs4all


@pytest.mark.parametrize("name", ["a[b]", "a?c", "a*"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_predict_reads_the_very_file_it_is_given(trained, tmp_path, name, suffix):
    frame = pl.read_csv(trained.csv)
    target = tmp_path / f"{name}{suffix}"
    decoy = tmp_path / f"abc{suffix}"  # what the pattern would match: more rows
    for path, rows in ((target, frame.head(7)), (decoy, frame)):
        rows.write_csv(path) if suffix == ".csv" else rows.write_parquet(path)
    report = predict_file(trained.ws.layout, trained.zips["filtered"], target, tmp_path / "out.csv")
    assert report.n_samples == 7
    assert len(pl.read_csv(tmp_path / "out.csv")) == 7


def test_the_cli_predicts_a_bracketed_file_name(trained, tmp_path):
    frame = pl.read_csv(trained.csv)
    frame.head(5).write_csv(tmp_path / "g[1].csv")
    frame.write_csv(tmp_path / "g1.csv")
    done = nirs4all(
        "predict",
        "--model",
        str(trained.zips["filtered"]),
        "--data",
        "g[1].csv",
        "-o",
        "out.csv",
        "--workspace",
        str(tmp_path / "ws"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert len(pl.read_csv(tmp_path / "out.csv")) == 5
