"""Engines hand files to the workspace: pipeline files and dataset-level shared files, names checked."""

from __future__ import annotations

import hashlib
import json

import pytest

from nirs4all_workspace.errors import InvalidNameError
from nirs4all_workspace.experiment import execute_and_serialize
from nirs4all_workspace.stored_results import refresh_summary, stored_pipelines


def _save(workspace, engine, dataset, files=None, dataset_files=None, session="s1"):
    spec = engine.expand({"scales": [0.9], "offsets": [0.1]})[0]
    result, artifacts = execute_and_serialize(engine, spec, dataset)
    result.files = files or {}
    result.dataset_files = dataset_files or {}
    return workspace.saver.save(dataset.name, spec, result, artifacts, session=session, engine="fake")


def test_engine_files_land_in_the_pipeline_folder_with_digests(workspace, fake_engine, fake_dataset):
    saved = _save(workspace, fake_engine, fake_dataset, files={"signals.parquet": b"abc"})
    folder = saved.handle.paths.dir
    assert (folder / "signals.parquet").read_bytes() == b"abc"
    record = json.loads((folder / "pipeline.json").read_text())
    assert record["files"] == {"signals.parquet": {"size": 3, "sha256": hashlib.sha256(b"abc").hexdigest()}}


def test_pipelines_without_engine_files_keep_their_record(workspace, fake_engine, fake_dataset):
    record = _save(workspace, fake_engine, fake_dataset).record
    assert "files" not in record
    assert "dataset_files" not in record


@pytest.mark.parametrize("name", ["pipeline.json", "metrics.json", "../x", "a/b", "_hidden", ".x", ""])
def test_unsafe_or_reserved_file_names_are_refused(workspace, fake_engine, fake_dataset, name):
    with pytest.raises(InvalidNameError):
        _save(workspace, fake_engine, fake_dataset, files={name: b"x"})


def test_dataset_files_are_written_once(workspace, fake_engine, fake_dataset):
    _save(workspace, fake_engine, fake_dataset, dataset_files={"_classifiers/vol_ab12.parquet": b"first"})
    second = _save(
        workspace, fake_engine, fake_dataset, dataset_files={"_classifiers/vol_ab12.parquet": b"second"}
    )
    path = workspace.layout.dataset_dir("fake") / "_classifiers" / "vol_ab12.parquet"
    assert path.read_bytes() == b"first"  # content-addressed names: an existing file is the same
    assert second.record["dataset_files"] == ["_classifiers/vol_ab12.parquet"]
    written = workspace.saver.save_dataset_files(
        "fake", {"_classifiers/vol_ab12.parquet": b"new"}, replace=True
    )
    assert written == ["_classifiers/vol_ab12.parquet"]
    assert path.read_bytes() == b"new"


@pytest.mark.parametrize(
    "name",
    ["_state/high_water", "_binaries/x.joblib", "_trash_1/x", "classifiers/x", "_c/../x", "_c", "_C/x"],
)
def test_dataset_files_stay_in_engine_folders(workspace, fake_engine, fake_dataset, name):
    with pytest.raises(InvalidNameError):
        _save(workspace, fake_engine, fake_dataset, dataset_files={name: b"x"})


class _Summarizing:
    """Wraps the fake engine with a summarize() that counts what it was given."""

    def __init__(self, engine):
        self.engine = engine
        self.name = engine.name

    def summarize(self, dataset, pipelines):
        folders = [p.record["folder"] for p in pipelines]
        first = pipelines[0].read("metrics.json")
        return {"_analytics/seen.json": json.dumps({"folders": folders, "bytes": len(first)}).encode()}


def test_a_summary_sees_the_newest_run_of_each_configuration(workspace, fake_engine, fake_dataset):
    _save(workspace, fake_engine, fake_dataset, session="s1")
    newest = _save(workspace, fake_engine, fake_dataset, session="s2")
    assert [p.record["folder"] for p in stored_pipelines(workspace, "fake", "fake")] == [newest.handle.folder]
    outcome = refresh_summary(workspace, _Summarizing(fake_engine), "fake", fake_dataset)
    assert outcome.error is None
    written = json.loads(outcome.files[0].read_text())
    assert written["folders"] == [newest.handle.folder]
    assert written["bytes"] > 0


def test_a_failing_summary_is_logged_not_raised(workspace, fake_engine, fake_dataset):
    class Broken(_Summarizing):
        def summarize(self, dataset, pipelines):
            raise RuntimeError("no luck")

    _save(workspace, fake_engine, fake_dataset)
    outcome = refresh_summary(workspace, Broken(fake_engine), "fake", fake_dataset)
    assert outcome.error == "RuntimeError: no luck"
    assert "no luck" in workspace.layout.run_log("fake").read_text()
    assert refresh_summary(workspace, fake_engine, "fake", fake_dataset).files == []  # no summarize()
