"""The demo as a new user runs it: real processes, the real CLI, the files on disk."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from nirs4all_workspace.workspace.layout import parse_pipeline_folder

DATA = Path(__file__).parent / "data"


def nirs4all(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "nirs4all_workspace.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "workspace"
    first = nirs4all("run", "--workspace", str(root))
    return root, first.stdout


def _folders(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "runs" / "demo").iterdir() if parse_pipeline_folder(p.name))


def test_the_demo_prints_the_top_pipelines(demo):
    _root, out = demo
    assert "top 10 of 78 pipelines by val rmse" in out
    assert "best predictions:" in out


def test_the_demo_leaves_a_browsable_workspace(demo):
    root, _ = demo
    folders = _folders(root)
    assert len(folders) >= 60
    assert [parse_pipeline_folder(f).number for f in folders] == list(range(1, len(folders) + 1))
    scores = {}
    for folder in folders:
        path = root / "runs" / "demo" / folder
        for name in ("pipeline.json", "manifest.yaml", "metrics.json", "predictions.csv"):
            assert (path / name).is_file(), f"{folder}/{name}"
        scores[folder] = json.loads((path / "metrics.json").read_text())["val"]["rmse"]
    best_files = list((root / "runs" / "demo").glob("best_*.csv"))
    assert len(best_files) == 1
    best_folder = min(scores, key=scores.get)
    assert best_files[0].name == f"best_{best_folder}.csv"
    fitted_steps = sum(
        len(json.loads((root / "runs" / "demo" / f / "pipeline.json").read_text())["artifacts"])
        for f in folders
    )
    binaries = list((root / "runs" / "demo" / "_binaries").iterdir())
    assert 0 < len(binaries) < fitted_steps


def test_the_catalog_names_the_same_best_and_opens_anywhere(demo):
    root, _ = demo
    best = json.loads(nirs4all("catalog", "best", "demo", "--json", "--workspace", str(root)).stdout)
    scores = {
        f: json.loads((root / "runs/demo" / f / "metrics.json").read_text())["val"]["rmse"]
        for f in _folders(root)
    }
    assert best["pipeline_folder"] == min(scores, key=scores.get)
    assert math.isclose(best["score"], min(scores.values()), rel_tol=1e-12)
    readme = "SELECT model, min(rmse) FROM predictions WHERE partition = 'val' GROUP BY model"
    by_model = json.loads(nirs4all("catalog", "query", readme, "--json", "--workspace", str(root)).stdout)
    assert math.isclose(min(r["rmse"] for r in by_model), best["score"], rel_tol=1e-12)
    count = json.loads(
        nirs4all(
            "catalog", "query", "SELECT count(*) AS n FROM predictions", "--json", "--workspace", str(root)
        ).stdout
    )[0]["n"]
    # Per pipeline: train, test and out-of-fold val; the 5 fold rows are in the table folds.
    assert count == 78 * 3
    nirs4all("catalog", "compact", "--workspace", str(root))
    meta = pl.read_parquet(root / "catalog" / "predictions_meta.parquet")
    data = pd.read_parquet(root / "catalog" / "predictions_data.parquet")
    assert meta.height == 78 * 8 == len(data)
    assert set(meta["prediction_id"]) == set(data["prediction_id"])


def test_a_second_parallel_run_continues_numbering_with_identical_results(demo):
    root, _ = demo
    before = _folders(root)
    # Workers forced (the demo may be too small to start them): the worker path is what is compared.
    nirs4all(
        "run", "-j", "2", "--session", "second", "--workspace", str(root), env={"NIRS4ALL_WORKERS": "always"}
    )
    assert "session second: started 2 worker processes" in (root / "runs/demo/run.log").read_text()
    after = [f for f in _folders(root) if f not in before]
    assert [parse_pipeline_folder(f).number for f in after] == list(
        range(len(before) + 1, 2 * len(before) + 1)
    )

    def results(folders):
        out = {}
        for f in folders:
            record = json.loads((root / "runs/demo" / f / "pipeline.json").read_text())
            metrics = (root / "runs/demo" / f / "metrics.json").read_bytes()
            out[record["hash"]] = (metrics, [a["digest"] for a in record["artifacts"]])
        return out

    first, second = results(before[:78]), results(after)
    assert first.keys() == second.keys()
    for key, stored in first.items():
        assert stored == second[key]  # the same metrics and fitted objects, byte for byte
    assert len(list((root / "runs" / "demo").glob("best_*.csv"))) == 1


def test_real_spectra_run_with_dataset_alone(tmp_path):
    root = tmp_path / "ws"
    out = nirs4all("run", "--dataset", str(DATA / "coffee.csv"), "--json", "--workspace", str(root)).stdout
    run = json.loads(out)["runs"][0]
    assert run["dataset"] == "coffee" and run["metric"] == "accuracy"
    assert run["completed"] == run["pipelines"] >= 20
    assert run["best"]["score"] > 0.9  # three origins, well separated in the mid-infrared


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dataset", "missing.csv"), "does not exist"),
        (("--dataset", str(DATA / "coffee.csv"), "--target", "protein"), "no column 'protein'"),
        (("--dataset", str(DATA / "coffee.csv"), "--metric", "speed"), "unknown metric"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_creates_nothing(tmp_path, args, message):
    root = tmp_path / "ws"
    result = nirs4all("run", *args, "--workspace", str(root), check=False)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not root.exists()


def test_one_demo_pipeline_shown_compared_and_found_from_either_workspace_place(demo):
    """Issue 15's acceptance on the demo: runs show, compare, --workspace before the subcommand."""
    root, _ = demo
    view = json.loads(nirs4all("runs", "show", "demo/16", "--json", "--workspace", str(root)).stdout)
    assert view["identity"]["number"] == 16 and view["identity"]["engine"] == "sklearn"
    assert view["identity"]["data_version"] and view["identity"]["session"]
    metrics = json.loads((root / "runs" / "demo" / view["folder"] / "metrics.json").read_text())
    folds = [f["rmse"] for f in metrics["folds"]]
    assert len(folds) == 5 and view["cv"]["rmse"]["mean"] == pytest.approx(sum(folds) / len(folds))
    assert view["cv"]["rmse"]["min"] == min(folds) and view["samples"] == {
        "test": 60,
        "train": 240,
        "val": 240,
    }
    assert {o["operator"] for o in view["objects"]} == {"StandardNormalVariate", "PLSRegression"}
    compared = json.loads(
        nirs4all("compare", "demo/16", "demo/55", "--json", "--workspace", str(root)).stdout
    )
    differing = compared["params_differing"]  # snv vs snv > savgol(15), both PLS 6
    assert differing == {"preprocessing": ["SNV", "SNV > SavitzkyGolay(window_length=15)"],
                         "savitzkygolay.window_length": [None, 15]}  # fmt: skip
    assert compared["params_same"]["model.n_components"] == 6
    after = nirs4all("catalog", "best", "demo", "--workspace", str(root))
    before = nirs4all("--workspace", str(root), "catalog", "best", "demo")
    assert before.stdout == after.stdout and "demo" in before.stdout
