"""Versioned files and `nirs4all workspace migrate`, proven on a workspace written by format 1."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.errors import InputError
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.maintenance import migrate
from nirs4all_workspace.maintenance.migrate import migrate as run_migration
from nirs4all_workspace.maintenance.verify import verify
from nirs4all_workspace.workspace.layout import FORMAT_VERSION
from nirs4all_workspace.workspace.schema import PARQUET_SCHEMA_KEY
from tests.fakes import FakeDataset, FakeEngine
from tests.snapshots import snapshot

FIXTURE_V1 = Path(__file__).parents[1] / "data" / "workspace_v1"


@pytest.fixture
def v1(tmp_path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURE_V1, root)
    return root


def _versioned_files(root: Path) -> list[Path]:
    names = ("pipeline.json", "metrics.json", "manifest.yaml")
    pipelines = [p for name in names for p in (root / "runs").glob(f"*/0*/{name}")]
    exports = [p for name in names for p in (root / "exports").glob(f"*/{name}")]
    return sorted(pipelines + exports)


def _schema_version(path: Path) -> int | None:
    if path.suffix == ".yaml":
        first = path.read_text(encoding="utf-8").splitlines()[0]
        return int(first.split(":")[1]) if first.startswith("schema_version:") else None
    return json.loads(path.read_text(encoding="utf-8")).get("schema_version")


def _parquet_files(root: Path) -> list[Path]:
    return sorted((root / "catalog").glob("**/*.parquet"))


def _parquet_version(path: Path) -> str | None:
    value = (pq.ParquetFile(path).metadata.metadata or {}).get(PARQUET_SCHEMA_KEY.encode())
    return value.decode() if value else None


def test_the_fixture_is_format_1(v1):
    assert json.loads((v1 / "workspace.json").read_text())["format_version"] == 1
    assert {_schema_version(p) for p in _versioned_files(v1)} == {None}
    assert {_parquet_version(p) for p in _parquet_files(v1)} == {None}


def test_migrate_upgrades_a_format_1_workspace_in_place(v1):
    ws = Workspace.open(v1, create=False)
    rows_before = ws.predictions.collect(ws.predictions.scan()).sort("prediction_id")
    report = run_migration(ws)
    assert report.steps == ["1 -> 2"]
    assert report.counts() == {"manifest.yaml": 5, "metrics.json": 5, "parquet": 4, "pipeline.json": 5}
    assert json.loads((v1 / "workspace.json").read_text())["format_version"] == FORMAT_VERSION == 2
    assert {_schema_version(p) for p in _versioned_files(v1)} == {2}
    assert {_parquet_version(p) for p in _parquet_files(v1)} == {"2"}
    ws = Workspace.open(v1, create=False)
    rows_after = ws.predictions.collect(ws.predictions.scan()).sort("prediction_id")
    assert rows_after.equals(rows_before)  # the catalog reads the same rows
    assert verify(ws).problems == []
    record = ws.manifests.read_pipeline("tiny_nirs", "0008_pls-3_58eff5")
    assert record["number"] == 8 and record["status"] == "completed"
    # Done: a second migration has nothing to do and changes nothing.
    before = snapshot(v1)
    assert run_migration(ws).steps == []
    assert snapshot(v1) == before


def test_a_migrated_workspace_keeps_working(v1):
    run_migration(Workspace.open(v1, create=False))
    ws = Workspace.open(v1)
    report = run_experiment(ws, FakeEngine(), FakeDataset(name="tiny_nirs"), {"scales": [1.0]}, session="new")
    assert [s.handle.number for s in report.saved] == [9]  # numbering continues
    assert verify(ws).problems == []


def test_a_dry_run_changes_nothing(v1):
    before = snapshot(v1)
    report = run_migration(Workspace.open(v1, create=False), dry_run=True)
    assert report.dry_run and len(report.files) == 19
    assert snapshot(v1) == before


def test_an_interrupted_migration_is_finished_by_running_it_again(v1, monkeypatch):
    done = []
    real = migrate._json_upgrade

    def dies_after_six(path):
        if len(done) == 6:
            raise KeyboardInterrupt  # the user pressed Ctrl-C (or the process was killed)
        real(path)
        done.append(path)

    monkeypatch.setattr(migrate, "_json_upgrade", dies_after_six)
    with pytest.raises(KeyboardInterrupt):
        run_migration(Workspace.open(v1, create=False))
    versions = [_schema_version(p) for p in _versioned_files(v1)]
    assert versions.count(2) == 9  # 3 folders of 3 files; each file old or new, never half-written
    assert json.loads((v1 / "workspace.json").read_text())["format_version"] == 1  # not marked done
    assert not list(v1.rglob("*.partial"))
    monkeypatch.setattr(migrate, "_json_upgrade", real)
    report = run_migration(Workspace.open(v1, create=False))
    assert len(report.files) == 19 - 9  # only what was left
    assert {_schema_version(p) for p in _versioned_files(v1)} == {2}
    assert json.loads((v1 / "workspace.json").read_text())["format_version"] == 2
    assert verify(Workspace.open(v1, create=False)).problems == []


def test_a_newer_workspace_is_refused(v1):
    marker = v1 / "workspace.json"
    marker.write_text(json.dumps({"format_version": FORMAT_VERSION + 1}))
    with pytest.raises(InputError, match="newer than this tool"):
        Workspace.open(v1)
    done = subprocess.run(
        [sys.executable, "-m", "nirs4all_workspace.cli", "workspace", "migrate", "--workspace", str(v1)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "newer" in done.stderr


def test_new_files_record_their_schema_version(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    run_experiment(ws, FakeEngine(), FakeDataset(), {"scales": [1.0]}, session="s", plots="none")
    assert json.loads(ws.layout.workspace_json.read_text())["format_version"] == 2
    assert {_schema_version(p) for p in _versioned_files(ws.root)} == {2}
    assert _parquet_files(ws.root) and {_parquet_version(p) for p in _parquet_files(ws.root)} == {"2"}
    ws.predictions.compact()
    assert {_parquet_version(p) for p in _parquet_files(ws.root)} == {"2"}
    assert run_migration(ws).steps == []
