import json
import shutil
import zipfile

import pytest

from nirs4all_workspace.errors import InputError, PipelineNotFound
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.contents import open_trained
from nirs4all_workspace.library.trained import (
    find_entry,
    import_trained,
    list_trained,
    remove_trained,
    save_trained,
    show_trained,
)


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return sorted(archive.namelist())


def test_the_three_types_hold_what_they_promise(trained):
    filtered, pipeline, fullrun = (_members(trained.zips[k]) for k in ("filtered", "pipeline", "fullrun"))
    best = trained.best
    record = json.loads((trained.best_dir / "pipeline.json").read_text())
    # filtered: the one pipeline's identity and scores, and exactly its fitted objects
    assert [m for m in filtered if m.startswith("pipelines/")] == [
        f"pipelines/{best}/manifest.yaml",
        f"pipelines/{best}/metrics.json",
        f"pipelines/{best}/pipeline.json",
    ]
    objects = [m for m in filtered if m.startswith("binaries/")]
    assert len(objects) == len(record["artifacts"])
    assert sorted(m.split("/")[1].rsplit("_", 1)[0] for m in objects) == sorted(
        a["operator"] for a in record["artifacts"]
    )
    assert all(m.endswith(".skops") for m in objects)
    assert "manifest.json" in filtered and not any(m.startswith("data/") for m in filtered)
    # pipeline: every pipeline of the run, with predictions, objects stored once
    folders = sorted(s.handle.folder for s in trained.report.saved)
    assert sorted({m.split("/")[1] for m in pipeline if m.startswith("pipelines/")}) == folders
    assert all(f"pipelines/{f}/predictions.csv" in pipeline for f in folders)
    manifest = open_trained(trained.zips["pipeline"]).manifest
    steps = [s for p in manifest["pipelines"] for s in p["steps"]]
    assert len({s["file"] for s in steps}) == len({s["workspace_digest"] for s in steps})
    assert not any(m.startswith("data/") for m in pipeline)
    # fullrun: the pipeline zip plus the training data
    assert sorted(set(fullrun) - set(pipeline)) == ["data/Xcal.csv", "data/Ycal.csv"]


def test_the_manifest_records_what_predict_needs(trained):
    manifest = open_trained(trained.zips["filtered"]).manifest
    assert manifest["format"] == "nirs4all-library" and manifest["format_version"] == 1
    assert manifest["type"] == "filtered" and manifest["name"] == "best-filtered"
    assert manifest["source"]["dataset"] == "tiny" and manifest["source"]["pipeline"] == trained.best
    predict = manifest["predict"]
    assert predict["feature_names"][:2] == ["1000", "1030"] and predict["n_features"] == 50
    assert (predict["target"], predict["task"], predict["classes"]) == ("moisture", "regression", None)
    assert set(manifest["fitted_with"]) >= {"python", "scikit-learn", "numpy"}
    assert manifest["fitted_with"]["scikit-learn"]
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in manifest["files"])
    assert manifest["score"]["metric"] == "rmse" and manifest["score"]["value"] == trained.report.best.score


def test_list_show_and_find(trained):
    entries = {e.name: e for e in list_trained(trained.ws.layout)}
    assert set(entries) == {"best-filtered", "best-pipeline", "best-fullrun"}
    assert entries["best-filtered"].source == f"tiny/{trained.best}"
    assert entries["best-pipeline"].pipelines == len(trained.report.saved)
    assert entries["best-filtered"].size < entries["best-pipeline"].size < entries["best-fullrun"].size
    assert find_entry(trained.ws.layout, "best-filtered") == trained.zips["filtered"]
    assert find_entry(trained.ws.layout, "pipeline/best-pipeline") == trained.zips["pipeline"]
    shown = show_trained(trained.ws.layout, str(trained.zips["fullrun"]))
    assert shown.entry.kind == "fullrun" and shown.trust_needs == {}
    with pytest.raises(InputError, match="no library entry 'nope'"):
        find_entry(trained.ws.layout, "nope")


def test_save_refuses_a_taken_name_a_bad_type_and_a_bad_reference(trained):
    with pytest.raises(InputError, match="already exists"):
        save_trained(trained.ws, f"tiny/{trained.best}", "best-pipeline", "filtered")
    with pytest.raises(InputError, match="--type must be one of"):
        save_trained(trained.ws, f"tiny/{trained.best}", "x", "everything")
    with pytest.raises(PipelineNotFound):
        save_trained(trained.ws, "tiny/9999", "x", "filtered")


def test_import_checks_then_copies_and_remove_deletes(trained, tmp_path):
    other = tmp_path / "elsewhere" / "model.zip"
    other.parent.mkdir()
    shutil.copy(trained.zips["filtered"], other)
    layout = Workspace.open(tmp_path / "ws2").layout
    entry = import_trained(layout, other)
    assert entry.name == "best-filtered" and entry.kind == "filtered"
    assert entry.path.read_bytes() == other.read_bytes()
    with pytest.raises(InputError, match="already exists"):
        import_trained(layout, other)
    renamed = import_trained(layout, other, name="copy")
    assert [e.name for e in list_trained(layout)] in (["copy", "best-filtered"], ["best-filtered", "copy"])
    assert remove_trained(layout, "copy", dry_run=True).is_file()
    remove_trained(layout, "copy")
    assert not renamed.path.exists() and [e.name for e in list_trained(layout)] == ["best-filtered"]


def test_an_engine_without_feature_names_saves_with_a_note(tmp_path):
    from nirs4all_workspace.experiment import run_experiment
    from tests.fakes import FakeDataset, FakeEngine

    ws = Workspace.open(tmp_path / "ws")
    report = run_experiment(ws, FakeEngine(), FakeDataset(), {"scales": [1.0]}, session="s")
    entry = save_trained(ws, f"fake/{report.best.folder}", "affine", "filtered")
    assert any("no feature names" in note for note in entry.notes)
    trained = open_trained(entry.path)
    assert trained.trust_needs() == {}  # numpy arrays: trusted by skops
    steps, notes = trained.load_steps()
    assert [s.tolist() for s in steps] == [[5.0], [1.0, 0.0]] and notes == []
    assert trained.predict_info["feature_names"] is None and trained.predict_info["n_features"] == 3
