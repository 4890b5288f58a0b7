import math

import numpy as np
import polars as pl
import pytest

from nirs4all_workspace.engines.sklearn import SklearnEngine
from nirs4all_workspace.errors import DatasetError, InputError
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.predict import load_model, predict_file
from nirs4all_workspace.library.trained import save_trained

from .helpers import DATA, TINY, output_predictions, train_predictions


def _close(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=0, abs_tol=1e-9) for k in a)


@pytest.mark.parametrize("kind", ["filtered", "pipeline", "fullrun"])
def test_predict_reproduces_the_final_models_train_predictions(trained, tmp_path, kind):
    out = tmp_path / "out.csv"
    report = predict_file(trained.ws.layout, trained.zips[kind], trained.csv, out)
    assert report.pipeline == trained.best and report.n_samples == 40 and report.with_y_true
    assert _close(output_predictions(out), train_predictions(trained.best_dir))
    frame = pl.read_csv(out)
    assert frame.columns == ["sample_id", "y_pred", "y_true"]
    assert frame["y_true"].to_list() == pl.read_csv(trained.csv)["moisture"].to_list()


def test_a_library_name_works_and_chunks_give_the_same_numbers(trained, tmp_path):
    calls = []
    whole = predict_file(trained.ws.layout, "best-filtered", trained.csv, tmp_path / "a.csv")
    chunked = predict_file(
        trained.ws.layout,
        "filtered/best-filtered",
        trained.csv,
        tmp_path / "b.csv",
        chunk_rows=7,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert whole.n_samples == chunked.n_samples == 40
    assert calls == [(7, 40), (14, 40), (21, 40), (28, 40), (35, 40), (40, 40)]
    assert _close(output_predictions(tmp_path / "a.csv"), output_predictions(tmp_path / "b.csv"))


def test_a_nirs4all_folder_predicts_calibration_then_validation(trained, tmp_path):
    engine = SklearnEngine()
    ws = Workspace.open(tmp_path / "ws")
    report = run_experiment(ws, engine, engine.load_dataset(TINY), {"pipeline": ["snv", "pls"]}, session="s")
    folder = report.best.folder
    entry = save_trained(ws, f"tiny_nirs/{folder}", "m", "filtered")
    out = tmp_path / "out.csv"
    predict_file(ws.layout, entry.path, TINY, out)
    stored = pl.read_csv(ws.layout.pipeline("tiny_nirs", folder).predictions_csv, infer_schema_length=0)
    expected = {
        sid: float(p)
        for sid, p, part in zip(stored["sample_id"], stored["y_pred"], stored["partition"], strict=True)
        if part in ("train", "test")
    }
    got = output_predictions(out)
    assert len(got) == 52 and _close(got, expected)


def test_columns_that_do_not_match_are_one_clear_error(trained, tmp_path):
    frame = pl.read_csv(trained.csv)
    bad = frame.drop(["1000", "1030", "1060"]).with_columns(
        pl.lit(1.0).alias("foo"), pl.lit(2.0).alias("bar")
    )
    bad.write_csv(tmp_path / "bad.csv")
    out = tmp_path / "out.csv"
    with pytest.raises(DatasetError) as caught:
        predict_file(trained.ws.layout, trained.zips["filtered"], tmp_path / "bad.csv", out)
    message = str(caught.value)
    assert "does not match the 50 features" in message
    assert "3 missing (1000, 1030, 1060)" in message and "2 extra (foo, bar)" in message
    assert "\n" not in message and not out.exists()


def test_reordered_numeric_names_ids_and_no_target_are_understood(trained, tmp_path):
    frame = pl.read_csv(trained.csv)
    features = [c for c in frame.columns if c != "moisture"]
    shuffled = frame.select(list(reversed(features))).rename({c: f"{c}.0" for c in features})
    shuffled = shuffled.with_columns(pl.Series("sample_id", [f"s{i}" for i in range(len(frame))]))
    shuffled.write_parquet(tmp_path / "new.parquet")
    out = tmp_path / "out.csv"
    report = predict_file(trained.ws.layout, trained.zips["filtered"], tmp_path / "new.parquet", out)
    assert not report.with_y_true
    result = pl.read_csv(out, infer_schema_length=0)
    assert result.columns == ["sample_id", "y_pred"]
    expected = train_predictions(trained.best_dir)
    assert result["sample_id"].to_list() == [f"s{i}" for i in range(40)]
    assert all(
        math.isclose(float(p), expected[str(i)], abs_tol=1e-9)
        for i, p in enumerate(result["y_pred"].to_list())
    )


def test_classification_predicts_labels(tmp_path):
    engine = SklearnEngine()
    ws = Workspace.open(tmp_path / "ws")
    config = {
        "pipeline": [
            {"class": "stratified_kfold", "params": {"n_splits": 3, "shuffle": True, "random_state": 0}},
            "snv",
            {"model": {"class": "lda"}},
        ]
    }
    report = run_experiment(ws, engine, engine.load_dataset(DATA / "coffee.csv"), config, session="s")
    entry = save_trained(ws, f"coffee/{report.best.folder}", "origin", "filtered")
    loaded = load_model(ws.layout, "origin")
    assert (
        loaded.info["classes"] == ["Brasil", "Ethiopia", "Vietnam"]
        and loaded.info["task"] == "classification"
    )
    out = tmp_path / "out.csv"
    predict_file(ws.layout, entry.path, DATA / "coffee.csv", out)
    result = pl.read_csv(out, infer_schema_length=0)
    stored = pl.read_csv(
        ws.layout.pipeline("coffee", report.best.folder).predictions_csv, infer_schema_length=0
    )
    train = stored.filter(pl.col("partition") == "train")
    assert result["y_pred"].to_list() == train["y_pred"].to_list()
    assert result["y_true"].to_list() == train["y_true"].to_list()


def test_chunks_agree_and_bad_chunk_sizes_are_refused(trained, tmp_path):
    with pytest.raises(InputError, match="chunk size"):
        predict_file(
            trained.ws.layout, trained.zips["filtered"], trained.csv, tmp_path / "o.csv", chunk_rows=0
        )
    loaded = load_model(trained.ws.layout, trained.zips["filtered"])
    X = pl.read_csv(trained.csv).drop("moisture").to_numpy()
    # BLAS may round a 3-row product differently from a 40-row one, never by more than this.
    np.testing.assert_allclose(loaded.predict(X), loaded.predict(X, chunk_rows=3), rtol=1e-12)
    assert not (tmp_path / "o.csv").exists()


def test_a_zip_of_another_engine_is_refused_by_predict(tmp_path):
    from tests.fakes import FakeDataset, FakeEngine

    ws = Workspace.open(tmp_path / "ws")
    report = run_experiment(ws, FakeEngine(), FakeDataset(), {"scales": [1.0]}, session="s")
    entry = save_trained(ws, f"fake/{report.best.folder}", "affine", "filtered")
    with pytest.raises(InputError, match="made by engine 'fake', which does not support predict"):
        load_model(ws.layout, entry.path)


def test_another_pipeline_of_a_pipeline_zip_can_be_chosen(trained, tmp_path):
    from nirs4all_workspace.errors import ArchiveRefused

    other = next(s.handle.folder for s in trained.report.saved if s.handle.folder != trained.best)
    out = tmp_path / "out.csv"
    report = predict_file(trained.ws.layout, trained.zips["pipeline"], trained.csv, out, pipeline=other)
    assert report.pipeline == other
    assert _close(output_predictions(out), train_predictions(trained.ws.layout.pipeline("tiny", other).dir))
    with pytest.raises(ArchiveRefused, match="holds no pipeline 'nope'"):
        predict_file(trained.ws.layout, trained.zips["pipeline"], trained.csv, out, pipeline="nope")
