import json

import numpy as np

from nirs4all_workspace.catalog.records import fill_catalog_rows
from nirs4all_workspace.experiment import execute_and_serialize
from nirs4all_workspace.workspace.artifacts import ArtifactRef
from nirs4all_workspace.workspace.predictions_csv import read_predictions_csv


def _save(workspace, engine, dataset, config):
    spec = engine.expand(config)[0]
    result, artifacts = execute_and_serialize(engine, spec, dataset)
    return (
        spec,
        result,
        workspace.saver.save(dataset.name, spec, result, artifacts, session="s1", engine="fake"),
    )


def test_a_completed_pipeline_has_all_its_files(workspace, fake_engine, fake_dataset):
    spec, result, saved = _save(workspace, fake_engine, fake_dataset, {"scales": [0.9], "offsets": [0.1]})
    paths = saved.handle.paths
    for path in (paths.pipeline_json, paths.manifest_yaml, paths.metrics_json, paths.predictions_csv):
        assert path.is_file()
    assert not paths.error_log.exists()
    record = json.loads(paths.pipeline_json.read_text())
    assert record["status"] == "completed"
    assert record["config"] == spec.config
    assert record["params"] == {"model.scale": 0.9, "model.offset": 0.1}
    for artifact in record["artifacts"]:
        ref = ArtifactRef.from_dict(artifact)
        assert len(ref.digest) == 64
        assert workspace.artifacts.load("fake", ref) is not None
    metrics = json.loads(paths.metrics_json.read_text())
    assert metrics["val"]["rmse"] == result.metrics["val"]["rmse"]
    assert [f["fold"] for f in metrics["folds"]] == [0, 1]


def test_predictions_csv_reads_back_bit_for_bit(workspace, fake_engine, fake_dataset):
    _spec, result, saved = _save(workspace, fake_engine, fake_dataset, {"scales": [1 / 3], "offsets": [0.1]})
    groups = read_predictions_csv(saved.handle.paths.predictions_csv)
    assert set(groups) == {("val", 0), ("val", 1), ("train", None)}
    train = next(b for b in result.predictions if b.partition == "train")
    assert np.array_equal(np.array(groups[("train", None)]["y_pred"]), train.y_pred)
    # Validation rows are written once, by fold.
    assert sum(len(g["y_true"]) for (p, _), g in groups.items() if p == "val") == fake_dataset.n_samples


def test_a_failed_pipeline_keeps_its_error_log(workspace, fake_engine, fake_dataset):
    _spec, _result, saved = _save(workspace, fake_engine, fake_dataset, {"scales": [2.0], "fail_on": [2.0]})
    paths = saved.handle.paths
    assert saved.status == "failed"
    assert "scale 2.0 is not allowed" in paths.error_log.read_text()
    record = json.loads(paths.pipeline_json.read_text())
    assert record["status"] == "failed" and record["error"].startswith("RuntimeError")
    assert saved.meta_rows == []  # the writer leaves catalog rows to the catalog floor
    fill_catalog_rows(saved)
    assert len(saved.meta_rows) == 1 and saved.meta_rows[0]["status"] == "failed"


def test_shared_fitted_objects_are_stored_once(workspace, fake_engine, fake_dataset):
    for scale in (0.5, 1.0, 1.5):
        _save(workspace, fake_engine, fake_dataset, {"scales": [scale]})
    files = workspace.artifacts.files("fake")
    # One shared "Center" object plus one "Affine" per pipeline: 4 files for 6 fitted steps.
    assert len(files) == 4
    assert sum(f.startswith("Center_") for f in files) == 1


def test_ctrl_c_while_saving_leaves_no_half_written_folder(workspace, fake_engine, fake_dataset, monkeypatch):
    import pytest

    from nirs4all_workspace.workspace import saver

    _save(workspace, fake_engine, fake_dataset, {"scales": [0.9], "offsets": [0.1]})

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(saver, "atomic_write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _save(workspace, fake_engine, fake_dataset, {"scales": [0.5], "offsets": [0.1]})
    monkeypatch.undo()
    folders = sorted(p.name for p in (workspace.layout.root / "runs" / fake_dataset.name).glob("0*"))
    assert len(folders) == 1 and folders[0].startswith("0001_"), folders
    _, _, saved = _save(workspace, fake_engine, fake_dataset, {"scales": [0.5], "offsets": [0.1]})
    assert saved.handle.number == 3  # the interrupted number is not reused
