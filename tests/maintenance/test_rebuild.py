import numpy as np
import polars as pl
import pytest

from nirs4all_workspace.catalog import generation as generation_module
from nirs4all_workspace.catalog.records import fill_catalog_rows
from nirs4all_workspace.engines.base import PipelineResult, PipelineSpec, PredictionBlock
from nirs4all_workspace.maintenance import rebuild as rebuild_module
from nirs4all_workspace.maintenance.archive_pipeline import archive_pipeline
from nirs4all_workspace.maintenance.archive_runs import archive_runs, plan_runs_archive
from nirs4all_workspace.maintenance.rebuild import (
    blocks_from_files,
    clean_catalog,
    rebuild_catalog,
    rows_from_files,
)
from nirs4all_workspace.maintenance.retention import delete_pipelines, plan_deletion
from nirs4all_workspace.workspace.bundles import PipelineFiles


def _catalog(workspace):
    meta = workspace.predictions.frame(fold=None).drop("archived").sort("prediction_id")  # every row
    return meta, workspace.predictions.arrays(meta["prediction_id"]).sort("prediction_id")


def test_a_rebuild_reproduces_every_row_and_array(filled):
    meta, data = _catalog(filled)
    report = rebuild_catalog(filled)
    assert report.from_folders == 20 and report.dropped == 0 and report.rows == meta.height
    assert filled.predictions.fragment_ids() == []
    new_meta, new_data = _catalog(filled)
    assert new_meta.equals(meta)
    assert new_data.equals(data)


def test_rows_of_deleted_pipelines_come_back_from_the_archives(filled):
    count = filled.predictions.count()
    archive_pipeline(filled, "fake/5")
    archive_runs(filled, plan_runs_archive(filled, "fake", session="b"))
    delete_pipelines(filled, plan_deletion(filled, "fake", session="a"))  # 0005 is archived
    dry = rebuild_catalog(filled, dry_run=True)
    assert filled.predictions.count() == count  # a dry run writes nothing
    assert (dry.from_folders, dry.from_archives) == (0, 11)
    # session a, but for 0005, had no archive: its rows are kept from the old catalog
    assert dry.kept > 0 and dry.dropped == 0 and dry.unrecovered == [] and dry.rows == count
    report = rebuild_catalog(filled)
    frame = filled.predictions.frame(fold=None)
    assert sorted(set(frame["pipeline_number"])) == list(range(1, 21))
    assert frame.filter(pl.col("pipeline_number").is_in([5, *range(11, 21)]))["archived"].all()
    assert not frame.filter(~pl.col("pipeline_number").is_in([5, *range(11, 21)]))["archived"].any()
    assert filled.predictions.count() == report.rows == count
    kept_ids = frame.filter(pl.col("pipeline_number") == 1)["prediction_id"].to_list()
    assert filled.predictions.arrays(kept_ids).height == len(kept_ids)  # with their arrays


def test_a_rebuild_says_what_it_could_not_recover_before_replacing_anything(filled):
    delete_pipelines(filled, plan_deletion(filled, "fake", session="b"))
    fragments = filled.layout.catalog_fragments_dir
    damaged = sorted(fragments.glob("*.meta.parquet"))[0]
    damaged.write_bytes(b"PAR1 not really")
    dry = rebuild_catalog(filled, dry_run=True)
    assert any(filled.layout.relative(damaged) in line for line in dry.unrecovered)
    assert damaged.read_bytes() == b"PAR1 not really"  # nothing replaced by the dry run
    report = rebuild_catalog(filled)
    assert report.unrecovered == dry.unrecovered
    assert filled.predictions.count() == report.rows


def test_a_crash_inside_a_rebuild_never_leaves_rows_without_arrays(filled, monkeypatch):
    count = filled.predictions.count()
    delete_pipelines(filled, plan_deletion(filled, "fake", session="a"), force=True)
    calls = []
    real = generation_module.atomic_write_with

    def write_then_die(target, writer):
        calls.append(target.name)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed between the arrays and the meta file
        real(target, writer)

    monkeypatch.setattr(generation_module, "atomic_write_with", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        rebuild_catalog(filled)
    assert calls == ["predictions_data.parquet", "predictions_meta.parquet"]
    ids = filled.predictions.frame(fold=None)["prediction_id"]
    assert filled.predictions.arrays(ids).height == ids.len()
    monkeypatch.undo()
    rebuild_catalog(filled)
    assert filled.predictions.count() == count  # session a's rows are kept from the old catalog


def test_classification_labels_survive_the_files():
    record = {"status": "completed", "classes": ["cat", "dog", 3]}
    text = "y_true,y_pred,partition,sample_id,fold\ncat,dog,val,1,0\n3,3,val,0,1\ndog,dog,train,0,\n"
    metrics = {
        "val": {"accuracy": 0.5},
        "train": {"accuracy": 1.0},
        "folds": [{"fold": 0, "accuracy": 0.0}, {"fold": 1, "accuracy": 1.0}],
    }
    blocks = {(b.partition, b.fold): b for b in blocks_from_files(record, metrics, text)}
    assert set(blocks) == {("val", 0), ("val", 1), ("train", None), ("val", None)}
    whole = blocks[("val", None)]
    assert whole.sample_ids.tolist() == [0, 1] and whole.y_pred.tolist() == [3, "dog"]
    assert whole.metrics == {"accuracy": 0.5} and blocks[("val", 0)].metrics == {"accuracy": 0.0}


def test_rows_from_files_match_the_savers_rows(workspace, fake_engine, fake_dataset):
    spec: PipelineSpec = fake_engine.expand({"scales": [0.7]})[0]
    result: PipelineResult = fake_engine.execute(spec, fake_dataset)
    saved = fill_catalog_rows(workspace.saver.save("fake", spec, result, session="s", engine="fake"))
    files = rebuild_module.folder_files(workspace, "fake", saved.handle.folder)
    assert isinstance(files, PipelineFiles)
    meta, data = rows_from_files(files)
    key = lambda row: row["prediction_id"]  # noqa: E731
    assert sorted(meta, key=key) == sorted(saved.meta_rows, key=key)
    for mine, theirs in zip(sorted(data, key=key), sorted(saved.data_rows, key=key), strict=True):
        assert mine["prediction_id"] == theirs["prediction_id"]
        assert np.array_equal(mine["y_pred"], theirs["y_pred"])
        assert np.array_equal(mine["sample_indices"], theirs["sample_indices"])
    assert isinstance(result.predictions[0], PredictionBlock)


def test_clean_drops_rows_without_arrays_and_repeats(filled):
    count = filled.predictions.count()
    row = filled.predictions.frame().row(0, named=True)
    filled.predictions.append([row, {**row, "prediction_id": "orphan"}], [])
    assert filled.predictions.count() == count + 2
    report = clean_catalog(filled)
    assert (report.dangling, report.duplicates) == (1, 1)
    assert filled.predictions.count() == count
    assert filled.predictions.fragment_ids() == []


def test_a_rebuild_reads_the_trash_so_a_lost_catalog_keeps_deleted_pipelines_restorable(filled):
    """The catalog files lost, then rebuilt: pipelines in the trash are read from their folders
    there (flagged ``trashed``, out of rankings), so a later restore finds its rows."""
    from nirs4all_workspace.maintenance import trash

    meta, data = _catalog(filled)
    best = filled.predictions.best("fake")
    moved = trash.move_to_trash(filled, "fake", plan_deletion(filled, "fake", session="a").pipelines, "a")
    for path in filled.layout.catalog_dir.rglob("*.parquet"):  # the catalog is lost
        path.unlink()
    report = rebuild_catalog(filled)
    assert (report.from_folders, report.from_trash, report.unrecovered) == (10, 10, [])
    frame = filled.predictions.frame(fold=None)
    assert set(frame.filter(pl.col("trashed"))["pipeline_number"]) == set(range(1, 11))
    assert filled.predictions.best("fake")["pipeline_folder"].startswith("0015")  # not ranked
    trash.restore(filled, trash.plan_restore(filled, "fake", session="a"))
    assert moved.best_before == best["pipeline_folder"]
    assert filled.predictions.best("fake")["prediction_id"] == best["prediction_id"]
    new_meta, new_data = _catalog(filled)
    assert new_meta.drop("trashed").equals(meta.drop("trashed"))
    assert new_data.equals(data)
