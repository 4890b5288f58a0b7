"""The built-in demo: a deterministic synthetic NIR set and a grid where preprocessing matters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nirs4all_workspace.engines.sklearn import (
    SklearnEngine,
    SpectraDataset,
    demo_config,
    load_dataset,
    make_demo_dataset,
    write_demo_dataset,
)


@pytest.fixture(scope="module")
def demo() -> SpectraDataset:
    return make_demo_dataset()


def test_demo_dataset_shape(demo: SpectraDataset) -> None:
    assert demo.name == "demo"
    assert demo.task == "regression"
    assert demo.X.shape == (240, 700)
    assert demo.X_test.shape == (60, 700)
    assert demo.feature_names[0] == "1100"
    assert demo.feature_names[-1] == "2498"
    assert demo.test_sample_ids.tolist() == list(range(240, 300))
    assert np.isfinite(demo.X).all()
    assert demo.y.std() > 1


def test_demo_dataset_is_deterministic(demo: SpectraDataset) -> None:
    again = make_demo_dataset()
    assert np.array_equal(again.X, demo.X)
    assert np.array_equal(again.y, demo.y)
    assert np.array_equal(again.X_test, demo.X_test)


def test_demo_grid_has_at_least_60_distinct_variants() -> None:
    specs = SklearnEngine().expand(demo_config())
    assert len(specs) == 78
    assert {s.model for s in specs} == {"PLSRegression", "Ridge"}
    assert len({s.preprocessing for s in specs}) == 6
    assert demo_config() == SklearnEngine().default_config()


def test_preprocessing_beats_raw_spectra(demo: SpectraDataset) -> None:
    engine = SklearnEngine()
    specs = {s.name: s for s in engine.expand(demo_config())}
    raw = engine.execute(specs["pls-6"], demo).metrics
    snv = engine.execute(specs["snv_pls-6"], demo).metrics
    assert snv["val"]["rmse"] < 0.7 * raw["val"]["rmse"]
    assert snv["test"]["rmse"] < 0.85 * raw["test"]["rmse"]
    assert snv["val"]["r2"] > 0.9


def test_write_demo_dataset_round_trips(tmp_path: Path, demo: SpectraDataset) -> None:
    folder = write_demo_dataset(tmp_path / "demo")
    back = load_dataset(folder)
    assert back.name == "demo"
    assert np.array_equal(back.X, demo.X)
    assert np.array_equal(back.y_test, demo.y_test)
