import json
import shutil

import pytest

from nirs4all_workspace.catalog.archive_registry import entry_paths
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.maintenance.archive_pipeline import archive_pipeline
from nirs4all_workspace.maintenance.verify import CRASH_LEFTOVERS, verify
from nirs4all_workspace.workspace.identity import config_hash
from tests.snapshots import lost, snapshot


def _checks(report):
    return sorted({p.check for p in report.problems})


def _repaired_and_sound(workspace):
    report = verify(workspace, repair=True)
    assert report.ok, [p.to_dict() for p in report.remaining]
    assert all(p.action for p in report.problems)
    assert verify(workspace).ok
    return report


def test_a_fresh_workspace_is_sound(filled):
    report = verify(filled)
    assert report.ok and report.problems == []
    assert report.checked["pipelines"] == 20 and report.checked["datasets"] == 1
    assert report.checked["catalog_rows"] == filled.predictions.count()


def test_an_interrupted_pipeline_is_marked_failed_and_catalogued(filled):
    handle = filled.manifests.allocate("fake", config_hash({"x": 1}), "cut", "c", "fake")
    handle.paths.metrics_json.write_text("{}")  # the crash came before pipeline.json
    report = verify(filled)
    assert _checks(report) == ["incomplete-pipeline"]
    _repaired_and_sound(filled)
    record = json.loads(handle.paths.pipeline_json.read_text())
    assert record["status"] == "failed" and record["id"] == handle.pipeline_id
    assert "verify --repair" in handle.paths.error_log.read_text()
    rows = filled.predictions.frame().filter(pipeline_id=handle.pipeline_id)
    assert rows["status"].to_list() == ["failed"]


def test_a_folder_without_manifest_gets_one(filled):
    folder = filled.layout.pipeline("fake", "0021_bare_abcdef").dir
    folder.mkdir()  # a crash right after the folder was created
    (filled.layout.high_water_file("fake")).write_text("21\n")
    _repaired_and_sound(filled)
    assert filled.manifests.read_manifest("fake", folder.name)["number"] == 21


def test_a_truncated_pipeline_json_is_kept_aside_and_marked_failed(filled):
    paths = filled.layout.pipeline("fake", filled.manifests.resolve("fake", "3"))
    original = paths.pipeline_json.read_text()
    paths.pipeline_json.write_text(original[: len(original) // 2])
    assert _checks(verify(filled)) == ["corrupt-file"]
    _repaired_and_sound(filled)
    assert (paths.dir / "pipeline.json.corrupt").read_text() == original[: len(original) // 2]
    assert json.loads(paths.pipeline_json.read_text())["status"] == "failed"


def test_a_lowered_high_water_mark_is_raised(filled, fake_engine, fake_dataset):
    filled.layout.high_water_file("fake").write_text("3\n")
    assert _checks(verify(filled)) == ["numbering"]
    _repaired_and_sound(filled)
    report = run_experiment(filled, fake_engine, fake_dataset, {"scales": [1.0]}, session="c", plots="none")
    assert report.summary.first_number == 21


def test_numbers_of_deleted_pipelines_are_not_reused_even_without_the_mark(filled, fake_engine, fake_dataset):
    for entry in filled.manifests.list_folders("fake"):
        shutil.rmtree(filled.layout.pipeline("fake", entry.folder).dir)
    filled.layout.high_water_file("fake").unlink()
    assert "numbering" in _checks(verify(filled))
    _repaired_and_sound(filled)
    report = run_experiment(filled, fake_engine, fake_dataset, {"scales": [1.0]}, session="c", plots="none")
    assert report.summary.first_number == 21  # the catalog remembers 1-20


def test_two_folders_with_one_number_cannot_be_repaired(filled):
    source = filled.layout.pipeline("fake", filled.manifests.resolve("fake", "2")).dir
    shutil.copytree(source, source.with_name("0002_twin_abcdef"))
    report = verify(filled, repair=True)
    assert [p.check for p in report.remaining] == ["duplicate-number"]
    assert not report.ok


def test_a_modified_binary_is_reported_and_left_alone(filled):
    binary = next(filled.layout.binaries_dir("fake").glob("Affine_*"))
    binary.write_bytes(binary.read_bytes() + b"tampered")
    report = verify(filled, repair=True)
    assert {p.check for p in report.remaining} == {"binary-digest"}
    assert binary.read_bytes().endswith(b"tampered")


@pytest.mark.parametrize("damage", ["extra", "no-state", "edited", "stale"])
def test_best_file_problems_are_repaired(filled, damage):
    best = filled.best.current("fake")
    best_csv = filled.layout.best_csv("fake", best.folder)
    if damage == "extra":
        shutil.copy(best_csv, filled.layout.best_csv("fake", filled.manifests.resolve("fake", "1")))
    elif damage == "no-state":
        filled.layout.best_state_file("fake").unlink()
    elif damage == "edited":
        best_csv.write_text("y_true,y_pred,partition,sample_id,fold\n")
    else:  # best.json names a worse pipeline
        state = json.loads(filled.layout.best_state_file("fake").read_text())
        filled.layout.best_state_file("fake").write_text(json.dumps({**state, "score": 9.0}))
    assert _checks(verify(filled)) == ["best"]
    _repaired_and_sound(filled)
    assert [p.name for p in filled.layout.best_csv_files("fake")] == [f"best_{best.folder}.csv"]


def test_stray_temporaries_and_trash_folders_are_removed(filled):
    stray = filled.layout.dataset_dir("fake") / ".metrics.json.abc123.partial"
    stray.write_text("half")
    trash = filled.layout.trash_dir("fake", "0001x")
    (trash / "sub").mkdir(parents=True)
    assert _checks(verify(filled)) == ["stray-temporary", "trash-folder"]
    _repaired_and_sound(filled)
    assert not stray.exists() and not trash.exists()


def test_a_corrupt_fragment_is_quarantined_and_its_rows_indexed_again(filled):
    count = filled.predictions.count()
    fragment = sorted(filled.layout.catalog_fragments_dir.glob("*.data.parquet"))[0]
    fragment.write_bytes(b"PAR1 not parquet at all PAR1")
    assert {"corrupt-parquet", "dangling-rows"} <= set(_checks(verify(filled)))
    _repaired_and_sound(filled)
    quarantined = sorted(p.name for p in filled.layout.catalog_quarantine_dir.iterdir())
    fragment_id = fragment.name.removesuffix(".data.parquet")
    assert [name.split("_", 1)[1] for name in quarantined] == [
        f"{fragment_id}.data.parquet",
        f"{fragment_id}.meta.parquet",
    ]
    assert filled.predictions.count() == count


def test_a_corrupt_main_file_is_rebuilt_from_the_folders(filled):
    count = filled.predictions.count()
    filled.predictions.compact()
    filled.layout.catalog_meta.write_bytes(b"garbage")
    assert "corrupt-parquet" in _checks(verify(filled))
    _repaired_and_sound(filled)
    assert filled.predictions.count() == count


def test_rows_without_arrays_and_missing_rows_are_repaired(filled):
    count = filled.predictions.count()
    data = sorted(filled.layout.catalog_fragments_dir.glob("*.data.parquet"))[0]
    data.unlink()  # its meta rows now point at nothing
    assert _checks(verify(filled)) == ["dangling-rows"]
    _repaired_and_sound(filled)
    assert filled.predictions.count() == count
    for path in filled.layout.catalog_fragments_dir.glob("*.parquet"):
        path.unlink()  # every row gone: all pipelines miss their rows
    filled.layout.catalog_meta.unlink()
    filled.layout.catalog_data.unlink()
    assert _checks(verify(filled)) == ["missing-rows"]
    _repaired_and_sound(filled)
    assert filled.predictions.count() == count


def test_registry_entries_follow_the_archives(filled):
    report = archive_pipeline(filled, "fake/5")
    entry = entry_paths(filled.layout)[0]
    entry.unlink()  # an archive nobody registered (a crash between the two)
    assert _checks(verify(filled)) == ["unregistered-archive"]
    _repaired_and_sound(filled)
    assert filled.predictions.frame().filter(pipeline_id=report.pipeline_id)["archived"].all()
    filled.layout.absolute(report.archive).unlink()  # an entry whose archive is gone
    assert _checks(verify(filled)) == ["registry"]
    _repaired_and_sound(filled)
    assert not filled.predictions.frame()["archived"].any()


def test_a_damaged_archive_is_reported(filled):
    report = archive_pipeline(filled, "fake/5")
    path = filled.layout.absolute(report.archive)
    path.write_bytes(path.read_bytes()[:100])
    assert [p.check for p in verify(filled, repair=True).remaining] == ["archive"]


def test_crash_leftovers_are_all_repairable():
    assert {"incomplete-pipeline", "stray-temporary", "missing-rows"} <= CRASH_LEFTOVERS
    assert not {"corrupt-parquet", "dangling-rows", "binary-digest"} & CRASH_LEFTOVERS


def test_repair_keeps_every_good_file(filled):
    before = snapshot(filled.root)
    (filled.layout.dataset_dir("fake") / ".x.partial").write_text("")
    assert verify(filled, repair=True).problems[0].action == "removed"
    assert lost(before, snapshot(filled.root)) == []
