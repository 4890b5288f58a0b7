import json

import pytest

from nirs4all_workspace.errors import InputError, InvalidNameError
from nirs4all_workspace.experiment import resolve_metric, run_experiment
from tests.fakes import FakeDataset

GRID = {"scales": [0.5, 0.8, 1.0, 1.3, 2.0], "offsets": [0.0, 0.5], "fail_on": [2.0]}


def test_a_run_numbers_saves_catalogs_and_keeps_the_best(workspace, fake_engine, fake_dataset):
    report = run_experiment(workspace, fake_engine, fake_dataset, GRID, session="first")
    folders = workspace.manifests.list_folders("fake")
    assert [f.number for f in folders] == list(range(1, 11))
    assert report.summary.completed == 8 and report.summary.failed == 2
    assert report.best.score == 0.0
    assert [p.name for p in workspace.layout.best_csv_files("fake")] == [f"best_{report.best.folder}.csv"]
    summary = json.loads(workspace.layout.run_summary_json("fake").read_text())
    assert summary["sessions"][0]["completed"] == 8 and len(summary["sessions"][0]["errors"]) == 2
    config = json.loads(workspace.layout.run_config_json("fake").read_text())
    assert config["sessions"][0]["config"] == GRID
    assert "session first finished" in workspace.layout.run_log("fake").read_text()


def test_a_second_run_continues_the_numbering(workspace, fake_engine, fake_dataset):
    run_experiment(workspace, fake_engine, fake_dataset, GRID, session="a")
    report = run_experiment(workspace, fake_engine, fake_dataset, GRID, session="b")
    assert (report.summary.first_number, report.summary.last_number) == (11, 20)
    assert len(workspace.layout.best_csv_files("fake")) == 1
    assert workspace.best.current("fake").number == report.best.number <= 10  # ties keep the first


def test_parallel_run_stores_the_same_results(tmp_path, fake_engine, fake_dataset, monkeypatch):
    from nirs4all_workspace import Workspace

    monkeypatch.setenv("NIRS4ALL_WORKERS", "always")  # a grid this small would run in this process
    results = {}
    for jobs in (1, 2):
        ws = Workspace.open(tmp_path / f"j{jobs}")
        run_experiment(ws, fake_engine, fake_dataset, GRID, session="s", n_jobs=jobs)
        frame = ws.predictions.frame().sort("prediction_id")
        results[jobs] = sorted(
            zip(
                frame["pipeline_folder"],
                frame["partition"].fill_null(""),
                frame["rmse"].fill_null(-1.0),
                strict=True,
            )
        )
    assert results[1] == results[2]


def test_bad_names_and_metrics_are_refused_before_writing(workspace, fake_engine):
    with pytest.raises(InvalidNameError):
        run_experiment(workspace, fake_engine, FakeDataset(name="../escape"), GRID)
    with pytest.raises(InvalidNameError):
        run_experiment(workspace, fake_engine, FakeDataset(), GRID, session="a/b")
    with pytest.raises(InputError, match="unknown metric"):
        run_experiment(workspace, fake_engine, FakeDataset(), GRID, metric="bogus")
    assert not workspace.layout.runs_dir.exists()


def test_metric_names_may_carry_a_partition(fake_engine):
    assert resolve_metric(fake_engine, "regression", None) == ("rmse", "min", "val")
    assert resolve_metric(fake_engine, "regression", "test_r2") == ("r2", "max", "test")
