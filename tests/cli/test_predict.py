"""``nirs4all predict`` as a user runs it: new processes, a zip sent elsewhere, the workspace gone."""

import json
import math
import shutil

import polars as pl

from tests.library.helpers import (
    SMALL_GRID_YAML,
    nirs4all,
    output_predictions,
    train_predictions,
    write_tiny_csv,
)


def _close(a, b):
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=0, abs_tol=1e-9) for k in a)


def test_a_saved_pipeline_predicts_like_its_final_model_in_a_new_process(tmp_path):
    csv = write_tiny_csv(tmp_path / "tiny.csv")
    grid = tmp_path / "grid.yaml"
    grid.write_text(SMALL_GRID_YAML)
    ws = tmp_path / "ws"
    ran = nirs4all("run", "--dataset", str(csv), "--pipeline", str(grid), "--json", "--workspace", str(ws))
    assert ran.returncode == 0, ran.stderr
    best = json.loads(ran.stdout)["runs"][0]["best"]["folder"]
    expected = train_predictions(ws / "runs" / "tiny" / best)
    assert len(expected) == 40

    saved = nirs4all("library", "save", f"tiny/{best}", "--name", "prod", "--workspace", str(ws))
    assert saved.returncode == 0, saved.stderr
    first = tmp_path / "first.csv"
    done = nirs4all(
        "predict", "--model", "prod", "--data", str(csv), "--output", str(first), "--workspace", str(ws)
    )
    assert done.returncode == 0, done.stderr
    assert "predicted 40 samples" in done.stdout
    assert _close(output_predictions(first), expected)

    sent = tmp_path / "colleague" / "model.zip"
    sent.parent.mkdir()
    shutil.copy(ws / "library" / "trained" / "filtered" / "prod.zip", sent)
    shutil.rmtree(ws)
    second = tmp_path / "colleague" / "predictions.csv"
    elsewhere = nirs4all(
        "predict",
        "--model",
        str(sent),
        "--data",
        str(csv),
        "--output",
        str(second),
        "--json",
        "--workspace",
        str(tmp_path / "no-workspace"),
    )
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert json.loads(elsewhere.stdout)["n_samples"] == 40
    assert _close(output_predictions(second), expected)
    assert pl.read_csv(second).columns == ["sample_id", "y_pred", "y_true"]
    assert not (tmp_path / "no-workspace").exists()  # predicting from a zip needs no workspace


def test_columns_that_do_not_match_are_one_line_and_exit_2(cli, tmp_path):
    csv = write_tiny_csv(tmp_path / "tiny.csv")
    grid = tmp_path / "grid.yaml"
    grid.write_text(SMALL_GRID_YAML)
    assert cli("run", "--dataset", str(csv), "--pipeline", str(grid))[0] == 0
    assert cli("library", "save", "tiny/1", "--name", "m")[0] == 0
    pl.read_csv(csv).drop(["1000", "2470"]).write_csv(tmp_path / "short.csv")
    out = tmp_path / "out.csv"
    status, _, err = cli(
        "predict", "--model", "m", "--data", str(tmp_path / "short.csv"), "--output", str(out)
    )
    assert status == 2 and not out.exists()
    assert "2 missing (1000, 2470)" in err and len(err.strip().splitlines()) == 1
    status, _, err = cli("predict", "--model", "nothing", "--data", str(csv), "--output", str(out))
    assert status == 2 and "no library entry 'nothing'" in err


def test_a_large_file_is_predicted_in_chunks(cli, tmp_path):
    csv = write_tiny_csv(tmp_path / "tiny.csv")
    grid = tmp_path / "grid.yaml"
    grid.write_text(SMALL_GRID_YAML)
    assert cli("run", "--dataset", str(csv), "--pipeline", str(grid))[0] == 0
    assert cli("library", "save", "tiny/2", "--name", "m")[0] == 0
    big = pl.concat([pl.read_csv(csv)] * 30)
    big.write_csv(tmp_path / "big.csv")
    out = tmp_path / "out.csv"
    status, stdout, err = cli(
        "predict",
        "--model",
        "m",
        "--data",
        str(tmp_path / "big.csv"),
        "--output",
        str(out),
        "--chunk-rows",
        "100",
    )
    assert status == 0, err
    assert "predicted 1200 samples" in stdout
    one = list(
        train_predictions(
            cli.root
            / "runs"
            / "tiny"
            / next(p.name for p in (cli.root / "runs" / "tiny").iterdir() if p.name.startswith("0002_"))
        ).values()
    )
    got = pl.read_csv(out)["y_pred"].to_list()
    assert len(got) == 1200 and all(
        math.isclose(g, e, abs_tol=1e-9) for g, e in zip(got, one * 30, strict=True)
    )
