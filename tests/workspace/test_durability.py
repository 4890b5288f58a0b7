"""NIRS4ALL_FSYNC=1: files and the folders that name them reach the disk (docs/lifecycle.md)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.workspace.atomic import atomic_open, atomic_write_text, atomic_write_with
from tests.fakes import FakeDataset, FakeEngine


@pytest.fixture
def fsyncs(monkeypatch):
    """Every os.fsync call, recorded as ("dir"|"file", path of the fd) at the moment it runs."""
    calls: list[tuple[str, str]] = []
    real = os.fsync

    def recording(fd: int) -> None:
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        calls.append((kind, str(Path(f"/proc/self/fd/{fd}").readlink())))
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    monkeypatch.setenv("NIRS4ALL_FSYNC", "1")
    return calls


def test_each_atomic_write_fsyncs_the_file_then_its_folder(tmp_path, fsyncs):
    atomic_write_text(tmp_path / "a.txt", "x")
    atomic_write_with(tmp_path / "b.txt", lambda p: p.write_text("y"))
    with atomic_open(tmp_path / "c.txt", "w") as handle:
        handle.write("z")
    folder = str(tmp_path)
    assert [kind for kind, _ in fsyncs] == ["file", "dir"] * 3
    assert [path for kind, path in fsyncs if kind == "dir"] == [folder] * 3


def test_a_new_folder_is_fsynced_in_its_parent(tmp_path, fsyncs):
    atomic_write_text(tmp_path / "new" / "deeper" / "a.txt", "x")
    dirs = [path for kind, path in fsyncs if kind == "dir"]
    # The two new folders are named in their parents, then the file in its folder.
    assert str(tmp_path) in dirs and str(tmp_path / "new") in dirs
    assert dirs[-1] == str(tmp_path / "new" / "deeper")


def test_an_allocated_pipeline_folder_is_fsynced_in_the_dataset_folder(tmp_path, fsyncs):
    ws = Workspace.open(tmp_path / "ws")
    ws.manifests.allocate("fake", "ab" * 32, "x", "s", "fake")
    fsyncs.clear()
    handle = ws.manifests.allocate("fake", "cd" * 32, "y", "s", "fake")
    dirs = [path for kind, path in fsyncs if kind == "dir"]
    assert dirs == [str(ws.layout.dataset_dir("fake")), str(handle.paths.dir)]  # mkdir, manifest.yaml


def test_a_saved_pipeline_folder_and_its_files_are_fsynced(tmp_path, fsyncs):
    ws = Workspace.open(tmp_path / "ws")
    from nirs4all_workspace.experiment import run_experiment

    run_experiment(ws, FakeEngine(), FakeDataset(), {"scales": [1.0]}, session="s", plots="none")
    folder = ws.manifests.list_folders("fake")[0].folder
    dirs = [path for kind, path in fsyncs if kind == "dir"]
    dataset_dir = str(ws.layout.dataset_dir("fake"))
    pipeline_dir = str(ws.layout.pipeline("fake", folder).dir)
    assert dataset_dir in dirs  # the mkdir of the pipeline folder
    assert dirs.count(pipeline_dir) >= 3  # manifest.yaml, metrics.json, pipeline.json renamed into it


def test_without_the_variable_nothing_is_fsynced(tmp_path, fsyncs, monkeypatch):
    monkeypatch.delenv("NIRS4ALL_FSYNC")
    atomic_write_text(tmp_path / "x" / "a.txt", "x")
    assert fsyncs == []
