"""``nirs4all catalog best|list``: the dataset named, the metric spelled as ``run`` spells it."""

from __future__ import annotations

import pytest


@pytest.fixture
def ran(cli, fake_registered, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("scales: [0.5, 1.0, 2.0]\noffsets: [0.0, 1.0]\n")
    status, _, err = cli("run", "--engine", "fake", "--pipeline", str(grid), "--plots", "none")
    assert status == 0, err
    return cli


def test_an_unknown_dataset_is_named_with_the_known_ones(ran):
    status, _, err = ran("catalog", "best", "nosuch")
    assert status == 2
    assert err.strip() == "error: no dataset 'nosuch'; datasets: fake"
    status, _, err = ran("catalog", "list", "--dataset", "nosuch")
    assert status == 2 and "no dataset 'nosuch'; datasets: fake" in err


def test_metric_spellings_of_run_are_accepted(ran):
    r2 = ran.json("catalog", "best", "fake", "--metric", "val_r2")
    assert (r2["metric"], r2["partition"], r2["score"]) == ("r2", "val", 1.0)
    train = ran.json("catalog", "best", "fake", "--metric", "train_rmse")
    assert (train["metric"], train["partition"]) == ("rmse", "train")
    assert train["score"] == 0.0
    rows = ran.json("catalog", "list", "--sort", "train_rmse", "--top", "3")
    assert [row["partition"] for row in rows] == ["train"] * 3
    assert [row["rmse"] for row in rows] == sorted(row["rmse"] for row in rows)


def test_a_partition_the_dataset_lacks_is_named_not_called_empty(ran):
    status, _, err = ran("catalog", "best", "fake", "--metric", "test_rmse")
    assert status == 2, err
    line = err.strip()
    assert "no 'test' rmse" in line and "partitions: train, val" in line, line


def test_a_dataset_whose_rows_a_kill_lost_is_not_called_unknown(ran):
    import shutil

    shutil.rmtree(ran.root / "catalog")  # a run killed before its first catalog batch
    status, _, err = ran("catalog", "best", "fake")
    assert status == 2, err
    line = " ".join(err.split())
    assert "no dataset" not in line, line
    assert "6 finished pipelines of 'fake' are not in the catalog yet" in line, line
    assert "verify --repair" in line
