import hashlib
import json
import zipfile

import pytest

from nirs4all_workspace.catalog.archive_registry import entries
from nirs4all_workspace.errors import IntegrityError, PipelineNotFound
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.maintenance.archive_pipeline import archive_pipeline


@pytest.fixture
def ran(workspace, fake_engine, fake_dataset):
    config = {"scales": [0.5, 1.0, 2.0], "fail_on": [2.0]}
    run_experiment(workspace, fake_engine, fake_dataset, config, session="s", plots="none")
    return workspace


def test_a_pipeline_is_copied_zipped_and_registered(ran):
    ran.predictions.compact()
    main = ran.layout.catalog_meta.read_bytes(), ran.layout.catalog_data.read_bytes()
    report = archive_pipeline(ran, "fake/2")
    paths = ran.layout.pipeline("fake", report.folder)
    assert report.archive == f"catalog/archives/pipeline/fake_{report.folder}.zip"
    csv = ran.layout.absolute(report.predictions)
    assert csv.name == f"fake_0002_{report.folder[-6:]}.csv"
    assert csv.read_bytes() == paths.predictions_csv.read_bytes()
    with zipfile.ZipFile(ran.layout.absolute(report.archive)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for member in manifest["files"]:
            assert hashlib.sha256(archive.read(member["name"])).hexdigest() == member["sha256"]
        names = {m["name"] for m in manifest["files"]}
    record = json.loads(paths.pipeline_json.read_text())
    assert {f"fake/{report.folder}/pipeline.json", f"fake/{report.folder}/predictions.csv"} <= names
    assert {f"fake/_binaries/{a['file']}" for a in record["artifacts"]} <= names
    assert manifest["pipelines"][0]["id"] == record["id"]
    rows = ran.predictions.frame(fold=None)
    assert rows.filter(pipeline_id=record["id"])["archived"].all()
    assert rows.filter(rows["pipeline_id"] != record["id"])["archived"].sum() == 0
    sql = ran.predictions.query("SELECT count(*) AS n FROM predictions WHERE archived")
    assert sql["n"][0] == 2  # val and train (its two folds are in the table folds)
    assert (ran.layout.catalog_meta.read_bytes(), ran.layout.catalog_data.read_bytes()) == main


def test_archiving_again_replaces_the_copies(ran):
    first = archive_pipeline(ran, "fake/2")
    second = archive_pipeline(ran, "fake/2")
    assert first.archive == second.archive and len(entries(ran.layout)) == 1


def test_a_failed_pipeline_has_no_predictions_to_copy(ran):
    report = archive_pipeline(ran, "fake/3")
    assert report.predictions is None and ran.layout.absolute(report.archive).is_file()


def test_incomplete_and_unknown_pipelines_are_refused(ran):
    handle = ran.manifests.allocate("fake", "cd" * 32, None, "s", "fake")
    with pytest.raises(IntegrityError, match="incomplete"):
        archive_pipeline(ran, f"fake/{handle.folder}")
    with pytest.raises(PipelineNotFound):
        archive_pipeline(ran, "fake/99")
    assert not ran.layout.catalog_archive_dir("pipeline").exists()
