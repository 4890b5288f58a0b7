import dataclasses
import hashlib
import json
import tarfile

import pytest

from nirs4all_workspace.catalog.archive_registry import entries
from nirs4all_workspace.errors import InputError, IntegrityError
from nirs4all_workspace.maintenance.archive_runs import archive_runs, plan_runs_archive
from nirs4all_workspace.maintenance.inventory import dataset_overview
from nirs4all_workspace.maintenance.verify import verify
from nirs4all_workspace.workspace import bundles


def test_a_session_is_tarred_verified_registered_then_deleted(filled):
    originals = {
        f"fake/{p.relative_to(filled.layout.dataset_dir('fake')).as_posix()}": p.read_bytes()
        for p in filled.layout.dataset_dir("fake").rglob("*")
        if p.is_file() and p.parts[-2].startswith("000")
    }
    plan = plan_runs_archive(filled, "fake", session="a")
    assert [p.number for p in plan.pipelines] == list(range(1, 11))
    report = archive_runs(filled, plan, binaries_min_age_s=0)
    tar_path = filled.layout.absolute(report.archive)
    assert tar_path.parent == filled.layout.catalog_archive_dir("runs")
    assert tar_path.name.startswith("fake_a_") and tar_path.name.endswith("Z.tar.gz")
    with tarfile.open(tar_path) as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}
    manifest = json.loads(members.pop("manifest.json"))
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {
        name: hashlib.sha256(data).hexdigest() for name, data in members.items()
    }
    assert {name: members[name] for name in originals} == originals  # every pipeline file, byte for byte
    assert any(name.startswith("fake/_binaries/") for name in members)
    assert "fake/run_summary.json" in members and "fake/best_0005_s1.0-o0.0_8c3d02.csv" in members
    assert [f.number for f in filled.manifests.list_folders("fake")] == list(range(11, 21))
    assert entries(filled.layout)[0].session == "a"
    rows = filled.predictions.frame(fold=None)
    assert rows.filter(rows["pipeline_number"] <= 10)["archived"].all()
    assert not rows.filter(rows["pipeline_number"] > 10)["archived"].any()
    assert dataset_overview(filled, "fake").archived
    assert report.deletion.best_after.startswith("0015")
    assert verify(filled).ok


def test_a_tar_that_does_not_read_back_deletes_nothing(filled, monkeypatch):
    before = [f.folder for f in filled.manifests.list_folders("fake")]
    monkeypatch.setattr(
        bundles, "check_bundle", lambda path: ["member x does not match its size and SHA-256"]
    )
    with pytest.raises(IntegrityError, match="did not read back"):
        archive_runs(filled, plan_runs_archive(filled, "fake"))
    assert [f.folder for f in filled.manifests.list_folders("fake")] == before
    assert not list(filled.layout.catalog_archive_dir("runs").iterdir())
    assert entries(filled.layout) == []


def test_an_empty_selection_is_an_input_error(filled):
    # A session the dataset never had is named as such (issue 12, item 14), with the known ones.
    with pytest.raises(InputError, match="has no session 'zzz'; sessions: a, b"):
        archive_runs(filled, plan_runs_archive(filled, "fake", session="zzz"))
    with pytest.raises(InputError, match="no finished pipeline"):
        archive_runs(filled, dataclasses.replace(plan_runs_archive(filled, "fake"), pipelines=[]))
