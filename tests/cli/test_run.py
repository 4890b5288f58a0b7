"""``nirs4all run``: a dataset folder answers one question; data versions; the last line."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from tests.snapshots import snapshot

PLS_YAML = "- snv\n- model: {class: pls, params: {n_components: {_or_: [2, 3]}}}\n"

SIGNALS_YAML = """\
strategies:
  _or_:
    - {class: ma_crossover, params: {fast: 5, slow: 40}}
classifiers:
  - {class: trend, params: {fast: 20, slow: 100}}
fees: 0.0001
min_regime_trades: 5
"""


def _spectra(path, n=40, seed=0, shift=0.0):
    """Spectra at wavelengths 1000..1018 nm, a real target ``protein`` and a last column ``1020``.

    The last column is a wavelength that is all zeros: what ``run`` would take as the target
    when ``--target`` is forgotten (here it is named so the wavelength check cannot hide it).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 10)).cumsum(axis=1)
    protein = X[:, 3] * 2.0 + rng.normal(scale=0.1, size=n) + shift
    columns = {str(1000 + 2 * i): X[:, i] for i in range(10)}
    frame = pl.DataFrame({**columns, "protein": protein, "moisture": X[:, 5] - X[:, 1]})
    frame.write_csv(path)
    return path


def _run(cli, tmp_path, *args):
    pipeline = tmp_path / "pls.yaml"
    pipeline.write_text(PLS_YAML)
    return cli("run", "--pipeline", str(pipeline), "--plots", "none", *args)


def test_a_second_target_of_the_same_file_is_refused_and_writes_nothing(cli, tmp_path):
    data = _spectra(tmp_path / "protein_mid.csv")
    status, _, err = _run(cli, tmp_path, "--dataset", str(data), "--target", "protein", "--session", "a")
    assert status == 0, err
    best_before = cli.json("catalog", "best", "protein_mid")
    before = snapshot(cli.root)

    status, _, err = _run(cli, tmp_path, "--dataset", str(data), "--target", "moisture", "--session", "b")

    assert status == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "--name" in err and "'protein'" in err and "'moisture'" in err, err
    assert "Traceback" not in err
    assert snapshot(cli.root) == before  # every file byte-identical

    status, _, err = _run(
        cli,
        tmp_path,
        "--dataset",
        str(data),
        "--target",
        "moisture",
        "--name",
        "moisture_mid",
        "--session",
        "b",
    )
    assert status == 0, err
    assert sorted(p.name for p in (cli.root / "runs").iterdir()) == ["moisture_mid", "protein_mid"]
    assert cli.json("catalog", "best", "protein_mid")["pipeline_folder"] == best_before["pipeline_folder"]
    assert cli.json("catalog", "best", "protein_mid")["score"] == best_before["score"]
    moisture = cli.json("catalog", "best", "moisture_mid")
    assert moisture["target"] == "moisture"
    assert best_before["target"] == "protein"
    assert len(best_before["data_digest"]) == 64


def test_identity_is_recorded_per_folder_and_per_session(cli, tmp_path):
    data = _spectra(tmp_path / "wheat.csv")
    status, _, err = _run(cli, tmp_path, "--dataset", str(data), "--target", "protein", "--session", "s1")
    assert status == 0, err
    state = json.loads((cli.root / "runs" / "wheat" / "_state" / "dataset.json").read_text())
    assert state["identity"]["target"] == "protein"
    assert state["identity"]["task"] == "regression"
    assert [v["session"] for v in state["data_versions"]] == ["s1"]
    sessions = json.loads((cli.root / "runs" / "wheat" / "run_config.json").read_text())
    text = json.dumps(sessions)
    assert state["data_versions"][0]["digest"] in text
    assert '"target": "protein"' in text


def test_a_changed_file_is_a_new_data_version_ranked_alone(cli, tmp_path):
    data = tmp_path / "grain.csv"
    _spectra(data, seed=1)
    status, _, err = _run(cli, tmp_path, "--dataset", str(data), "--target", "protein", "--session", "v1")
    assert status == 0, err
    # The second version adds noise to the target: worse scores, which must still be the ones ranked.
    frame = pl.read_csv(data)
    noisy = frame["protein"] + np.random.default_rng(5).normal(scale=3.0, size=frame.height)
    frame.with_columns(protein=noisy).write_csv(data)
    status, _, err = _run(cli, tmp_path, "--dataset", str(data), "--target", "protein", "--session", "v2")
    assert status == 0, err

    state = json.loads((cli.root / "runs" / "grain" / "_state" / "dataset.json").read_text())
    assert [v["session"] for v in state["data_versions"]] == ["v1", "v2"]
    newest = state["data_versions"][-1]["digest"]

    best = cli.json("catalog", "best", "grain")
    assert best["session"] == "v2"
    assert best["data_digest"] == newest
    assert best["older_versions_left_out"] == 2
    status, text, err = cli("catalog", "best", "grain")
    assert status == 0, err
    assert "2 pipelines of older data versions left out" in text

    every = cli.json("catalog", "best", "grain", "--all-versions")
    assert every["session"] == "v1"  # the first version's scores are better
    assert every["score"] < best["score"]

    listed = cli.json("catalog", "list", "--dataset", "grain")
    assert {row["session"] for row in listed} == {"v2"}
    assert {
        row["session"] for row in cli.json("catalog", "list", "--dataset", "grain", "--all-versions")
    } == {
        "v1",
        "v2",
    }
    # best.json, best_*.csv and runs list follow the newest version too.
    record = json.loads((cli.root / "runs" / "grain" / "_state" / "best.json").read_text())
    assert record["folder"] == best["pipeline_folder"]
    assert record["data_digest"] == newest
    assert [p.name for p in (cli.root / "runs" / "grain").glob("best_*.csv")] == [
        f"best_{best['pipeline_folder']}.csv"
    ]
    status, out, err = cli("workspace", "verify")
    assert status == 0, out + err  # the best of the newest version is the right one
    (overview,) = cli.json("runs", "list")
    assert overview["best"]["folder"] == best["pipeline_folder"]
    assert overview["older_versions_left_out"] == 2
    status, text, err = cli("runs", "list")
    assert status == 0 and "(2 of older" in text, err  # the table may wrap the rest of the cell
    shown = cli.json("runs", "show", "grain")
    assert {row["session"] for row in shown["top"]} == {"v2"}
    report = (cli.root / "exports" / "session_reports" / "grain.html").read_text()
    assert "other data versions" in report and "2 pipelines not ranked" in report
    from nirs4all_workspace import Workspace
    from nirs4all_workspace.reports.catalog_reports import summarize
    from nirs4all_workspace.reports.pipelines import catalog_rows

    (summary,) = summarize(catalog_rows(Workspace.open(cli.root, create=False).predictions))
    assert summary.best.folder == best["pipeline_folder"]  # the catalog report's best of the dataset


def test_the_same_numbers_formatted_otherwise_are_the_same_data_version(cli, tmp_path):
    data = tmp_path / "flour.csv"
    _spectra(data, seed=2)
    status, _, err = _run(cli, tmp_path, "--dataset", str(data), "--target", "protein", "--session", "v1")
    assert status == 0, err
    frame = pl.read_csv(data)
    lines = [",".join(frame.columns)]  # the same values, written with trailing zeros and CRLF
    for row in frame.iter_rows():
        lines.append(",".join(repr(float(v)) + ("0" if "e" not in repr(float(v)) else "") for v in row))
    data.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    assert data.read_text().splitlines()[1] != frame.write_csv().splitlines()[1]
    status, _, err = _run(cli, tmp_path, "--dataset", str(data), "--target", "protein", "--session", "v2")
    assert status == 0, err
    state = json.loads((cli.root / "runs" / "flour" / "_state" / "dataset.json").read_text())
    assert len(state["data_versions"]) == 1
    assert cli.json("catalog", "best", "flour")["older_versions_left_out"] == 0


def _bars_file(path, n=2400):
    from nirs4all_workspace.engines.signals import make_demo_bars

    bars = make_demo_bars(sessions=n // 390 + 1)
    pl.DataFrame(
        {
            "timestamp": pl.Series(bars.timestamps[:n].astype("datetime64[ns]")).dt.replace_time_zone("UTC"),
            "open": bars.open[:n],
            "high": bars.high[:n],
            "low": bars.low[:n],
            "close": bars.close[:n],
            "volume": bars.volume[:n],
        }
    ).write_parquet(path)
    return path


def test_a_slice_of_bars_never_shares_the_folder_of_the_whole_file(cli, tmp_path):
    data = _bars_file(tmp_path / "SYN_1m.parquet")
    grid = tmp_path / "grid.yaml"
    grid.write_text(SIGNALS_YAML)
    base = ("run", "--engine", "signals", "--pipeline", str(grid), "--plots", "none")
    status, _, err = cli(*base, "--dataset", str(data))
    assert status == 0, err
    status, _, err = cli(*base, "--dataset", f"{data}[0:1950]")
    assert status == 0, err
    assert sorted(p.name for p in (cli.root / "runs").iterdir()) == ["SYN_1m", "SYN_1m_0_1950"]
    assert cli.json("analytics", "summary", "SYN_1m")["data"]["bars"] == 2400
    assert cli.json("analytics", "summary", "SYN_1m_0_1950")["data"]["bars"] == 1950

    # The slice under the whole file's name asks another question: refused, nothing written.
    before = snapshot(cli.root)
    status, _, err = cli(*base, "--dataset", f"{data}[0:1950]", "--name", "SYN_1m")
    assert status == 2, err
    assert "--name" in err and "0:1950" in err, err
    assert snapshot(cli.root) == before


@pytest.mark.slow
def test_real_spy_bars_slice_and_whole_file_keep_apart(cli, tmp_path):
    from tests.engines.paths import SPY_PATH  # real bars, read in place, never copied

    if not SPY_PATH.is_file():
        pytest.skip(f"real SPY bars not found at {SPY_PATH.resolve()}")
    grid = tmp_path / "grid.yaml"
    grid.write_text(SIGNALS_YAML)
    base = ("run", "--engine", "signals", "--pipeline", str(grid), "--plots", "none")
    status, _, err = cli(*base, "--dataset", f"{SPY_PATH}[0:19500]")
    assert status == 0, err
    status, _, err = cli(*base, "--dataset", str(SPY_PATH))
    assert status == 0, err
    assert sorted(p.name for p in (cli.root / "runs").iterdir()) == ["SPY_1m", "SPY_1m_0_19500"]
    assert cli.json("analytics", "summary", "SPY_1m_0_19500")["data"]["bars"] == 19500
    assert cli.json("analytics", "summary", "SPY_1m")["data"]["bars"] > 100_000


def test_the_last_lines_name_the_session_best_and_the_dataset_best(cli, fake_registered, tmp_path):
    good, worse = tmp_path / "good.yaml", tmp_path / "worse.yaml"
    good.write_text("scales: [1.0, 2.0]\n")
    worse.write_text("scales: [3.0, 4.0]\n")
    base = ("run", "--engine", "fake", "--plots", "none")
    status, out, err = cli(*base, "--pipeline", str(good), "--session", "a")
    assert status == 0, err
    assert "session best: 0001_" in out and "dataset best" not in out
    status, out, err = cli(*base, "--pipeline", str(worse), "--session", "b")
    assert status == 0, err
    lines = out.strip().splitlines()
    assert lines[-3].startswith("session best: 0003_")
    assert lines[-2].startswith("dataset best: 0001_") and "session a" in lines[-2]
    assert lines[-1].startswith("best predictions:") and "best_0001_" in lines[-1]
    run = cli.json(*base, "--pipeline", str(worse), "--session", "c")["runs"][0]
    assert run["top"][0]["folder"].startswith("0005_")
    assert run["dataset_best"]["folder"].startswith("0001_") and run["dataset_best"]["session"] == "a"


def test_a_metric_of_another_task_is_refused_before_anything_runs(cli, tmp_path):
    from tests.engines.paths import DATA

    status, _, err = cli("run", "--dataset", str(DATA / "coffee.csv"), "--metric", "rmse", "--plots", "none")
    assert status == 2, err
    assert "metric 'rmse' does not apply to a classification dataset" in err
    assert "accuracy" in err and len(err.strip().splitlines()) == 1
    assert not (cli.root / "runs").exists()
