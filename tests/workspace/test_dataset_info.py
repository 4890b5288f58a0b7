import json

import numpy as np
import pytest

from nirs4all_workspace.engines.sklearn import load_dataset, make_demo_dataset
from nirs4all_workspace.errors import IntegrityError
from nirs4all_workspace.workspace.dataset_info import dataset_info, describe, fingerprint, record_dataset
from tests.fakes import FakeDataset
from tests.library.helpers import TINY


def test_a_description_holds_what_predict_needs():
    info = describe(load_dataset(TINY))
    assert info.name == "tiny_nirs" and info.source == str(TINY.resolve())
    assert info.feature_names[:3] == ["1000", "1030", "1060"] and info.n_features == 50
    assert (info.target, info.task, info.n_cal, info.n_test) == ("moisture", "regression", 40, 12)
    assert len(info.fingerprint) == 64


def test_the_fingerprint_follows_the_data_not_the_object():
    first, second = make_demo_dataset(), make_demo_dataset()
    assert fingerprint(first) == fingerprint(second)
    second.X[0, 0] += 1e-12
    assert fingerprint(first) != fingerprint(second)
    renamed = make_demo_dataset()
    renamed.feature_names[0] = "1100.0"
    assert fingerprint(renamed) != fingerprint(first)
    assert fingerprint(FakeDataset()) is not None  # y only
    assert fingerprint(object()) is None


def test_sessions_map_to_the_data_they_ran_on(workspace):
    tiny = load_dataset(TINY)
    changed = load_dataset(TINY)
    changed.y = changed.y + 1.0
    record_dataset(workspace.layout, "wheat", "a", tiny)
    record_dataset(workspace.layout, "wheat", "b", tiny)
    record_dataset(workspace.layout, "wheat", "c", changed)
    document = json.loads(workspace.layout.dataset_info_file("wheat").read_text())
    assert len(document["datasets"]) == 2 and document["sessions"]["a"] == document["sessions"]["b"]
    assert dataset_info(workspace.layout, "wheat", "c").fingerprint == fingerprint(changed)
    assert dataset_info(workspace.layout, "wheat", "a").fingerprint == fingerprint(tiny)
    assert dataset_info(workspace.layout, "wheat", "unknown") is None
    assert dataset_info(workspace.layout, "other", "a") is None


def test_an_engine_dataset_without_arrays_or_names_is_recorded_too(workspace):
    record_dataset(workspace.layout, "fake", "s", FakeDataset())
    info = dataset_info(workspace.layout, "fake", "s")
    assert info.feature_names is None and info.n_features == 3 and info.target is None


def test_a_corrupt_file_is_an_integrity_error(workspace):
    path = workspace.layout.dataset_info_file("wheat")
    path.parent.mkdir(parents=True)
    path.write_text("{oops")
    with pytest.raises(IntegrityError, match=r"dataset\.json is corrupt"):
        dataset_info(workspace.layout, "wheat", "a")


def test_an_engine_without_identity_gets_one_and_another_question_is_refused(workspace):
    """FakeDataset has no ``identity``: the workspace derives one (task, digest of y) and compares it."""
    from nirs4all_workspace.errors import InputError
    from nirs4all_workspace.experiment import run_experiment
    from nirs4all_workspace.workspace.dataset_info import current_digest, identity_of
    from tests.fakes import FakeEngine
    from tests.snapshots import snapshot

    identity = identity_of(FakeDataset())
    assert (identity.task, identity.target, identity.slice) == ("regression", None, None)
    assert identity.digest == fingerprint(FakeDataset())
    engine, grid = FakeEngine(), {"scales": [1.0, 2.0]}
    run_experiment(workspace, engine, FakeDataset(), grid, session="a", plots="none")
    before = snapshot(workspace.root)
    with pytest.raises(InputError, match=r"'fake' holds .*task 'regression'.*--name"):
        run_experiment(workspace, engine, FakeDataset(task="classification"), grid, session="b", plots="none")
    assert snapshot(workspace.root) == before
    first = current_digest(workspace.layout, "fake")
    changed = FakeDataset(y=np.linspace(0.0, 5.0, 20))
    run_experiment(workspace, engine, changed, grid, session="c", plots="none")
    assert current_digest(workspace.layout, "fake") != first
    best = workspace.best.current("fake")
    assert best is not None and best.data_digest == current_digest(workspace.layout, "fake")
    assert best.number == 3  # the first pipeline of the new version, though version 1 scored the same
