"""SklearnEngine: the shared engine contract, then what is specific to scikit-learn."""

from __future__ import annotations

import multiprocessing
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nirs4all_workspace.engines import get_engine
from nirs4all_workspace.engines.base import PipelineResult
from nirs4all_workspace.engines.sklearn import (
    SklearnEngine,
    SpectraDataset,
    load_dataset,
    predict_with_fitted,
    score,
)
from nirs4all_workspace.engines.sklearn.execution import default_splitter
from nirs4all_workspace.errors import ConfigError, DatasetError

from .contract import EngineContractTests, result_numbers
from .paths import DATA

SRC = Path(__file__).resolve().parents[2] / "src"


def _coffee_subset() -> SpectraDataset:
    """Every third wavelength of the real coffee spectra: same classes, quicker models."""
    coffee = load_dataset(DATA / "coffee.csv")
    keep = slice(0, None, 3)
    return SpectraDataset(
        name=coffee.name,
        source=coffee.source,
        X=coffee.X[:, keep],
        y=coffee.y,
        feature_names=coffee.feature_names[keep],
        target_name=coffee.target_name,
        task=coffee.task,
        sample_ids=coffee.sample_ids,
    )


class TestSklearnEngineRegressionContract(EngineContractTests):
    @pytest.fixture
    def engine(self) -> SklearnEngine:
        return SklearnEngine()

    @pytest.fixture
    def dataset(self) -> SpectraDataset:
        return load_dataset(DATA / "tiny_nirs")

    @pytest.fixture
    def config(self) -> dict[str, Any]:
        return {
            "pipeline": [
                {"_or_": [None, "snv"]},
                {"model": {"class": "pls", "params": {"n_components": {"_range_": [2, 3]}}}},
            ]
        }


class TestSklearnEngineClassificationContract(EngineContractTests):
    @pytest.fixture
    def engine(self) -> SklearnEngine:
        return SklearnEngine()

    @pytest.fixture
    def dataset(self) -> SpectraDataset:
        return _coffee_subset()

    @pytest.fixture
    def config(self) -> list[Any]:
        return ["snv", {"_or_": ["lda", {"class": "knn", "params": {"n_neighbors": 3}}]}]


@pytest.fixture
def engine() -> SklearnEngine:
    return SklearnEngine()


@pytest.fixture
def tiny() -> SpectraDataset:
    return load_dataset(DATA / "tiny_nirs")


def _run(engine: SklearnEngine, config: Any, dataset: SpectraDataset) -> PipelineResult:
    (spec,) = engine.expand(config)
    return engine.execute(spec, dataset)


def test_regression_blocks_cover_folds_oof_train_and_test(
    engine: SklearnEngine, tiny: SpectraDataset
) -> None:
    result = _run(engine, ["snv", {"class": "pls", "params": {"n_components": 3}}], tiny)
    layout = [(b.partition, b.fold) for b in result.predictions]
    assert layout == [("train", None)] + [("val", k) for k in range(5)] + [("val", None), ("test", None)]
    assert set(result.metrics) == {"train", "val", "test"}
    assert len(result.folds) == 5
    oof = result.predictions[-2]
    assert sorted(oof.sample_ids.tolist()) == tiny.sample_ids.tolist()
    # each fold's predictions reappear unchanged in the out-of-fold block
    by_id = dict(zip(oof.sample_ids.tolist(), oof.y_pred.tolist(), strict=True))
    for block in result.predictions[1:6]:
        assert [by_id[i] for i in block.sample_ids.tolist()] == block.y_pred.tolist()
    assert result.metrics["val"] == score("regression", oof.y_true, oof.y_pred)
    test = result.predictions[-1]
    assert test.sample_ids.tolist() == tiny.test_sample_ids.tolist()
    assert np.array_equal(test.y_true, tiny.y_test)
    assert result.metrics["val"]["r2"] > 0.5
    assert result.task == "regression"
    assert result.classes is None
    assert result.info["n_folds"] == 5
    assert result.info["n_components"] == 3


def test_fitted_steps_follow_the_config_pipeline(engine: SklearnEngine, tiny: SpectraDataset) -> None:
    (spec,) = engine.expand(["kfold", "snv", {"class": "savgol", "params": {"deriv": 1}}, "pls"])
    result = engine.execute(spec, tiny)
    assert [(f.step, f.operator) for f in result.fitted] == [
        (1, "StandardNormalVariate"),
        (2, "SavitzkyGolay"),
        (3, "PLSRegression"),
    ]
    classes = [spec.config["pipeline"][f.step] for f in result.fitted]
    assert classes[-1]["model"]["class"] == "sklearn.cross_decomposition.PLSRegression"
    assert result.info["cv"].startswith("KFold(")


def test_predict_with_fitted_reproduces_train_predictions(
    engine: SklearnEngine, tiny: SpectraDataset
) -> None:
    result = _run(engine, ["msc", {"class": "savgol", "params": {"deriv": 1}}, "pls"], tiny)
    train = result.predictions[0]
    assert train.partition == "train"
    predicted = predict_with_fitted(result.fitted, tiny.X)
    np.testing.assert_allclose(predicted, train.y_pred, rtol=0, atol=1e-12)
    # unpickled objects (as stored by the workspace) predict the same
    restored = pickle.loads(pickle.dumps(result.fitted))
    np.testing.assert_allclose(predict_with_fitted(restored, tiny.X), train.y_pred, rtol=0, atol=1e-12)
    test = result.predictions[-1]
    np.testing.assert_allclose(predict_with_fitted(result.fitted, tiny.X_test), test.y_pred, atol=1e-12)


def test_classification_keeps_labels_and_stratifies(engine: SklearnEngine) -> None:
    coffee = _coffee_subset()
    result = _run(engine, ["snv", "lda"], coffee)
    assert result.task == "classification"
    assert result.classes == ["Brasil", "Ethiopia", "Vietnam"]
    assert set(result.metrics) == {"train", "val"}
    assert result.metrics["val"]["accuracy"] > 0.8
    folds = [b for b in result.predictions if b.fold is not None]
    assert len(folds) == 5
    for block in folds:
        # stratified: every origin is in every validation fold
        assert set(block.y_true.tolist()) == {"Brasil", "Ethiopia", "Vietnam"}
        assert set(block.y_pred.tolist()) <= {"Brasil", "Ethiopia", "Vietnam"}
    assert engine.default_metric("classification") == ("accuracy", "max")
    train = result.predictions[0]
    assert predict_with_fitted(result.fitted, coffee.X).tolist() == train.y_pred.tolist()


def test_config_task_turns_numeric_codes_into_classes(engine: SklearnEngine, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 6))
    y = (X[:, 0] > 0).astype(int)
    lines = ["a,b,c,d,e,f,label"] + [",".join(map(str, [*row, code])) for row, code in zip(X, y, strict=True)]
    path = tmp_path / "codes.csv"
    path.write_text("\n".join(lines) + "\n")
    dataset = load_dataset(path)
    assert dataset.task == "regression"
    result = _run(engine, {"task": "classification", "pipeline": ["logreg"]}, dataset)
    assert result.task == "classification"
    assert result.classes == ["0", "1"]
    assert result.metrics["val"]["accuracy"] > 0.8


def test_regression_task_on_text_labels_is_a_dataset_error(engine: SklearnEngine) -> None:
    (spec,) = engine.expand({"task": "regression", "pipeline": ["pls"]})
    with pytest.raises(DatasetError, match="'origin' holds text labels"):
        engine.execute(spec, _coffee_subset())


def test_single_file_has_no_test_partition(engine: SklearnEngine) -> None:
    result = _run(engine, ["snv", {"class": "knn", "params": {"n_neighbors": 3}}], _coffee_subset())
    assert "test" not in result.metrics
    assert {b.partition for b in result.predictions} == {"train", "val"}


def test_repeated_cv_averages_out_of_fold_predictions(engine: SklearnEngine, tiny: SpectraDataset) -> None:
    config = [{"class": "repeated_kfold", "params": {"n_splits": 4, "n_repeats": 2}}, "pls"]
    result = _run(engine, config, tiny)
    assert len(result.folds) == 8
    oof = next(b for b in result.predictions if b.partition == "val" and b.fold is None)
    assert len(oof.sample_ids) == tiny.n_cal
    sample = int(oof.sample_ids[0])
    seen = [
        float(b.y_pred[b.sample_ids.tolist().index(sample)])
        for b in result.predictions
        if b.fold is not None and sample in b.sample_ids.tolist()
    ]
    assert len(seen) == 2
    assert oof.y_pred[0] == pytest.approx(np.mean(seen))


def test_shuffle_split_validates_only_held_out_samples(engine: SklearnEngine, tiny: SpectraDataset) -> None:
    config = [{"class": "shuffle_split", "params": {"n_splits": 1, "test_size": 0.25}}, "pls"]
    result = _run(engine, config, tiny)
    oof = next(b for b in result.predictions if b.partition == "val" and b.fold is None)
    assert len(oof.y_true) == 10
    (fold,) = result.folds
    # same samples, other order: equal up to rounding
    assert fold == pytest.approx(oof.metrics, rel=1e-12)


def test_unseeded_random_models_are_reproducible(engine: SklearnEngine, tiny: SpectraDataset) -> None:
    config = [{"class": "rf", "params": {"n_estimators": 5, "max_depth": 3}}]
    first, second = _run(engine, config, tiny), _run(engine, config, tiny)
    assert result_numbers(first) == result_numbers(second)
    assert first.fitted[-1].obj.random_state == 42


def _execute_in_child(engine: SklearnEngine, spec: Any, dataset: SpectraDataset) -> dict[str, Any]:
    return result_numbers(engine.execute(spec, dataset))


def test_results_are_identical_in_another_process(engine: SklearnEngine, tiny: SpectraDataset) -> None:
    (spec,) = engine.expand(["snv", {"class": "rf", "params": {"n_estimators": 5, "max_depth": 3}}])
    here = result_numbers(engine.execute(spec, tiny))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        there = pool.submit(_execute_in_child, engine, spec, tiny).result(timeout=120)
    assert there == here


def test_a_failing_step_raises(engine: SklearnEngine, tiny: SpectraDataset) -> None:
    (spec,) = engine.expand([{"class": "savgol", "params": {"window_length": 101}}, "pls"])
    with pytest.raises(
        ValueError, match=r"window_length \(101\) is larger than the number of wavelengths \(50\)"
    ):
        engine.execute(spec, tiny)


def test_default_splitter_shrinks_for_rare_classes() -> None:
    y = np.array(["a"] * 10 + ["b"] * 3, dtype=object)
    splitter = default_splitter("classification", y)
    assert type(splitter).__name__ == "StratifiedKFold"
    assert splitter.get_n_splits() == 3
    singleton = np.array(["a"] * 10 + ["b"], dtype=object)
    assert type(default_splitter("classification", singleton)).__name__ == "KFold"
    assert default_splitter("regression", np.arange(3.0)).get_n_splits() == 3


def test_engine_options(engine: SklearnEngine, data_dir: Path) -> None:
    assert engine.default_metric("regression") == ("rmse", "min")
    dataset = engine.load_dataset(data_dir / "tiny_nirs", target="moisture")
    assert dataset.target_name == "moisture"
    with pytest.raises(DatasetError, match=r"unknown dataset option.*sep.*options are: target, task"):
        engine.load_dataset(data_dir / "tiny_nirs", sep=";")
    with pytest.raises(ConfigError, match="no model step"):
        engine.expand(["kfold"])


def test_registry_finds_the_builtin_engine() -> None:
    assert isinstance(get_engine("sklearn"), SklearnEngine)


def test_importing_the_engine_does_not_import_matplotlib() -> None:
    code = "import sys, nirs4all_workspace.engines.sklearn; print('matplotlib' in sys.modules)"
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_engine_module_imports_scikit_learn_only_when_a_pipeline_runs(tmp_path: Path) -> None:
    """Reading a big data file overlaps with importing scikit-learn (in a thread that has ended
    when load_dataset returns); the engine's import itself stays light."""
    import polars as pl

    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 1200))
    names = [str(1000 + i) for i in range(X.shape[1])]
    path = tmp_path / "big.parquet"
    pl.from_numpy(X, schema=names, orient="row").with_columns(pl.Series("y", X[:, 7] * 2)).write_parquet(path)
    assert path.stat().st_size > 4 * 2**20
    code = (
        "import sys, threading\n"
        "from nirs4all_workspace.engines.sklearn.engine import SklearnEngine\n"
        "assert 'sklearn.base' not in sys.modules, 'imported with the engine'\n"
        f"data = SklearnEngine().load_dataset({str(path)!r})\n"
        "assert {'sklearn.base', 'nirs4all_workspace.engines.sklearn.groups'} <= set(sys.modules)\n"
        "assert [t.name for t in threading.enumerate()] == ['MainThread'], threading.enumerate()\n"
        "print(data.X.shape, float(data.X[5, 9]))\n"
    )
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["(600,", "1200)", repr(float(X[5, 9]))]
