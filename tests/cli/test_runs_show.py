"""``nirs4all runs show DATASET/PIPELINE``: one pipeline's view (issue 15)."""

from __future__ import annotations

import json
import statistics

import pytest

GRID_YAML = """
scales: [0.5, 1.0, 2.0]
offsets: [0.0, 0.5]
fail_on: [2.0]
"""


@pytest.fixture
def ran(cli, fake_registered, tmp_path):
    """Dataset fake, pipelines 1-6 (5 and 6 failed); the best is 0003 (scale 1.0, offset 0)."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID_YAML)
    status, _, err = cli(
        "run", "--engine", "fake", "--pipeline", str(grid), "--session", "s1", "--plots", "none"
    )
    assert status == 0, err
    return cli.root


def test_metrics_json_holds_the_cv_summary_and_sample_counts(ran):
    folder = next((ran / "runs" / "fake").glob("0001_*"))
    metrics = json.loads((folder / "metrics.json").read_text())
    folds = [f["rmse"] for f in metrics["folds"]]
    assert metrics["cv"]["rmse"]["mean"] == pytest.approx(statistics.fmean(folds))
    assert metrics["cv"]["rmse"]["std"] == pytest.approx(statistics.pstdev(folds))
    assert metrics["cv"]["rmse"]["min"] == min(folds) and metrics["cv"]["rmse"]["folds"] == 2
    assert metrics["samples"] == {"train": 20, "val": 20}


def test_runs_show_pipeline_json_holds_everything(ran, cli):
    view = cli.json("runs", "show", "fake/3")
    identity = view["identity"]
    assert view["folder"].startswith("0003_") and identity["number"] == 3
    assert len(identity["hash"]) == 64 and view["folder"].endswith(identity["short_hash"])
    assert identity["session"] == "s1" and identity["engine"] == "fake" and identity["status"] == "completed"
    assert "data_version" in identity
    assert view["params"] == {"model.scale": 1.0, "model.offset": 0.0}
    assert view["config"] == {"scale": 1.0, "offset": 0.0, "fail": False}
    assert set(view["scores"]) == {"train", "val"} and view["samples"] == {"train": 20, "val": 20}
    metrics = json.loads((ran / "runs" / "fake" / view["folder"] / "metrics.json").read_text())
    folds = [f["rmse"] for f in metrics["folds"]]
    assert view["cv"]["rmse"]["mean"] == pytest.approx(statistics.fmean(folds))
    assert view["cv"]["rmse"]["max"] == max(folds) and len(view["folds"]) == 2
    files = {f["file"]: f["size"] for f in view["files"]}
    assert set(files) >= {"pipeline.json", "manifest.yaml", "metrics.json", "predictions.csv"}
    assert files["pipeline.json"] == (ran / "runs" / "fake" / view["folder"] / "pipeline.json").stat().st_size
    assert [o["operator"] for o in view["objects"]] == ["Center", "Affine"]
    assert all(o["present"] and o["size"] > 0 for o in view["objects"])
    assert view["is_best"] is True and view["archived"] is False and view["library"] == []
    assert any("library templates save fake/3" in c for c in view["commands"]["reproduce"])
    assert view["commands"]["export"].startswith("nirs4all export fake/3 ")


def test_runs_show_knows_best_archived_and_library(ran, cli):
    assert cli.json("runs", "show", "fake/1")["is_best"] is False
    status, _, err = cli("library", "save", "fake/3", "--name", "kept", "--type", "filtered")
    assert status == 0, err
    status, _, err = cli("catalog", "archive", "fake/3")
    assert status == 0, err
    view = cli.json("runs", "show", "fake/3")
    assert view["library"] == ["filtered/kept"] and view["archived"] is True


def test_runs_show_reads_an_older_metrics_json(ran, cli):
    folder = next((ran / "runs" / "fake").glob("0002_*"))
    path = folder / "metrics.json"
    metrics = json.loads(path.read_text())
    del metrics["cv"], metrics["samples"]
    path.write_text(json.dumps(metrics))
    view = cli.json("runs", "show", "fake/2")
    folds = [f["rmse"] for f in metrics["folds"]]
    assert view["cv"]["rmse"]["mean"] == pytest.approx(statistics.fmean(folds))
    assert view["samples"] == {"train": 20, "val": 20}


def test_runs_show_pipeline_table(ran, cli):
    status, out, _ = cli("runs", "show", "fake/5")  # a failed one
    assert status == 0
    assert "failed" in out and "scale 2.0 is not allowed" in out
    status, out, _ = cli("runs", "show", "fake/3")
    assert status == 0
    for words in ("cv mean", "fold min", "s1", "predictions.csv", "Affine", "nirs4all export fake/3"):
        assert words in out, words


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("fake/99", "no pipeline '99' in dataset 'fake'"),
        ("nosuch/1", "no dataset 'nosuch'"),
        ("fake/", "not DATASET/PIPELINE"),
    ],
)
def test_runs_show_bad_reference_is_one_line_exit_2(ran, cli, reference, message):
    status, _, err = cli("runs", "show", reference)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_runs_show_dataset_lists_the_newest_sessions_and_json_lists_them_all(ran, cli, monkeypatch):
    from nirs4all_workspace import Workspace
    from nirs4all_workspace.cli import runs
    from nirs4all_workspace.workspace.sessions import SessionSummary

    ws = Workspace.open(ran)
    for i in range(3):
        started = f"2026-11-30T08:0{i}:00+00:00"
        ws.sessions.finish("fake", SessionSummary(session=f"extra{i}", started_at=started))
    monkeypatch.setattr(runs, "SESSIONS_SHOWN", 2)
    status, out, err = cli("runs", "show", "fake")
    assert status == 0, err
    table, rest = out.split("2 older sessions not shown")
    assert "extra1" in table and "extra2" in table and "extra0" not in table and "│ s1 " not in table
    assert "│ s1 " in rest  # the pipelines table still says which session ran them
    every = cli.json("runs", "show", "fake")["sessions"]
    assert [s["session"] for s in every] == ["s1", "extra0", "extra1", "extra2"]
