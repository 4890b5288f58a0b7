"""Property: any pipeline of the built-in operators survives save -> zip -> load with the same predictions."""

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nirs4all_workspace.engines.sklearn import SklearnEngine, load_dataset, predict_with_fitted
from nirs4all_workspace.experiment import execute_and_serialize
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.contents import open_trained
from nirs4all_workspace.library.packing import pack_pipelines
from nirs4all_workspace.workspace.artifacts import ArtifactRef
from nirs4all_workspace.workspace.dataset_info import record_dataset

from .helpers import TINY

ENGINE = SklearnEngine()
DATASET = load_dataset(TINY)
KFOLD = {"class": "kfold", "params": {"n_splits": 3, "shuffle": True, "random_state": 0}}


@st.composite
def savgol(draw):
    window = draw(st.sampled_from([5, 7, 9, 11]))
    order = draw(st.integers(0, min(window - 1, 4)))
    deriv = draw(st.integers(0, min(order, 2)))
    return {"class": "savgol", "params": {"window_length": window, "polyorder": order, "deriv": deriv}}


PREPROCESSING = st.one_of(st.sampled_from(["snv", "msc", "detrend", "standard_scaler"]), savgol())
MODELS = st.one_of(
    st.builds(lambda n: {"class": "pls", "params": {"n_components": n}}, st.integers(1, 5)),
    st.builds(lambda a: {"class": "ridge", "params": {"alpha": a}}, st.floats(1e-4, 100.0)),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(PREPROCESSING, max_size=3), model=MODELS)
def test_save_load_predict_gives_the_same_predictions(steps, model):
    config = {"pipeline": [KFOLD, *steps, {"model": model}]}
    (spec,) = ENGINE.expand(config)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Path(tmp) / "ws")
        record_dataset(ws.layout, DATASET.name, "s", DATASET)
        result, artifacts = execute_and_serialize(ENGINE, spec, DATASET)
        assert result.status == "completed", result.error
        saved = ws.saver.save(
            DATASET.name,
            spec,
            result,
            artifacts,
            session="s",
            engine="sklearn",
            n_features=DATASET.n_features,
        )
        packed = pack_pipelines(ws, f"{DATASET.name}/{saved.handle.number}", "filtered", name="rt")
        loaded, notes = open_trained(packed.data).load_steps()
        original = [
            ws.artifacts.load(DATASET.name, ArtifactRef.from_dict(a)) for a in saved.record["artifacts"]
        ]
    assert notes == []
    assert [type(o) for o in loaded] == [type(o) for o in original]
    for X in (DATASET.X, DATASET.X_test):
        np.testing.assert_array_equal(predict_with_fitted(loaded, X), predict_with_fitted(original, X))
    train = next(b for b in result.predictions if b.partition == "train")
    np.testing.assert_array_equal(predict_with_fitted(loaded, DATASET.X), train.y_pred)
