import pandas as pd
import polars as pl
import pytest

from nirs4all_workspace.catalog.predictions import Predictions
from nirs4all_workspace.errors import InputError, IntegrityError
from nirs4all_workspace.experiment import run_experiment


@pytest.fixture
def filled(workspace, fake_engine, fake_dataset):
    config = {"scales": [0.5, 0.8, 1.0, 1.3], "offsets": [0.0, 0.5], "fail_on": [1.3]}
    run_experiment(workspace, fake_engine, fake_dataset, config, session="s1")
    return workspace


def test_every_finished_pipeline_has_rows(filled):
    frame = filled.predictions.frame()
    assert frame["pipeline_number"].unique().sort().to_list() == list(range(1, 9))
    # 6 completed x (val + train) + 2 failed rows; per-fold rows are separate.
    assert frame.height == 6 * 2 + 2
    assert filled.predictions.frame(fold=True).height == 6 * 2
    assert filled.predictions.count() == 6 * 4 + 2


def test_top_and_best_follow_the_metric_direction(filled):
    best = filled.predictions.best("fake")
    assert best["rmse"] == 0.0 and best["model"] == "Affine"
    top = filled.predictions.top(3, metric="rmse")
    assert top["rmse"].to_list() == sorted(top["rmse"].to_list())
    top_r2 = filled.predictions.top(3, metric="r2")
    assert top_r2["r2"].to_list() == sorted(top_r2["r2"].to_list(), reverse=True)
    with pytest.raises(InputError, match="unknown metric 'nope'"):
        filled.predictions.top(3, metric="nope")


def test_arrays_are_loaded_for_the_ids_asked_for(filled):
    best = filled.predictions.best("fake")
    arrays = filled.predictions.arrays([best["prediction_id"]])
    assert arrays.height == 1
    row = arrays.row(0, named=True)
    assert row["y_true"] == pytest.approx(row["y_pred"])
    assert len(row["sample_indices"]) == best["n_samples"]


def test_sql_counts_every_row_and_bad_sql_is_an_input_error(filled):
    assert (
        filled.predictions.query("SELECT count(*) AS n FROM predictions")["n"][0]
        + filled.predictions.query("SELECT count(*) AS n FROM folds")["n"][0]
        == filled.predictions.count()
    )
    with pytest.raises(InputError, match="bad SQL"):
        filled.predictions.query("SELECT nope FROM predictions")


def test_append_never_touches_the_main_files(filled):
    filled.predictions.compact()
    before = filled.layout.catalog_meta.read_bytes(), filled.layout.catalog_data.read_bytes()
    row = filled.predictions.frame().row(0, named=True)
    filled.predictions.append(
        [{**row, "prediction_id": "extra"}],
        [
            {
                "prediction_id": "extra",
                "partition": "val",
                "y_true": [1.0],
                "y_pred": [2.0],
                "sample_indices": [0],
            }
        ],
    )
    assert (filled.layout.catalog_meta.read_bytes(), filled.layout.catalog_data.read_bytes()) == before
    assert filled.predictions.arrays(["extra"])["y_pred"].to_list() == [[2.0]]


def test_compaction_keeps_every_row_once_and_files_open_in_pandas(filled):
    count = filled.predictions.count()
    report = filled.predictions.compact()
    assert report.meta_rows_total == count
    assert filled.predictions.fragment_ids() == []
    assert not any(filled.layout.catalog_fragments_dir.iterdir())
    assert pd.read_parquet(filled.layout.catalog_meta).shape[0] == count
    assert pl.read_parquet(filled.layout.catalog_data).height == count
    assert filled.predictions.compact().fragments == 0


def test_a_crash_between_data_and_meta_compaction_duplicates_nothing(filled):
    predictions = filled.predictions
    count = predictions.count()
    predictions._fold("data")  # the crash happens before meta is folded
    assert predictions.count() == count
    ids = predictions.frame(fold=None)["prediction_id"].to_list()
    assert predictions.arrays(ids).height == len(ids)
    predictions.compact()
    assert predictions.count() == count
    assert pl.read_parquet(filled.layout.catalog_data).height == count


def test_a_corrupt_fragment_is_named_in_the_error(filled):
    fragment = next(filled.layout.catalog_fragments_dir.glob("*.meta.parquet"))
    fragment.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(IntegrityError, match="catalog"):
        filled.predictions.count()


def test_an_empty_catalog_answers_queries(workspace):
    predictions = Predictions(workspace.layout)
    assert predictions.count() == 0
    assert predictions.best("nothing") is None
    assert predictions.arrays(["x"]).height == 0


def _rows(filled, pipeline_id):
    """One pipeline's rows (meta and data), copied from the catalog under a new pipeline id."""
    meta = filled.predictions.frame(fold=None).filter(pl.col("pipeline_number") == 1).to_dicts()
    ids = {row["prediction_id"] for row in meta}
    data = filled.predictions.arrays(sorted(ids)).to_dicts()
    for rows in (meta, data):
        for row in rows:
            row["prediction_id"] = row["prediction_id"].replace(meta[0]["pipeline_id"], pipeline_id)
    for row in meta:
        row["pipeline_id"] = pipeline_id
        row.pop("trashed", None)
    return meta, data


def test_append_new_reads_no_fragment_it_wrote_itself_for_new_pipelines(filled, monkeypatch):
    """A run's batches hold new pipelines: the fragments of its earlier batches cannot hold them,
    so the duplicate check reads only what others wrote (it stays flat over a long run)."""
    from nirs4all_workspace.catalog import generation

    predictions = Predictions(filled.layout)
    written = [predictions.append_new(*_rows(filled, f"p{i:031d}")) for i in range(4)]
    new_rows = _rows(filled, "q" * 32)
    opened = []
    real_open = generation.open_generation

    def recording(*args, **kwargs):
        files = real_open(*args, **kwargs)
        opened.extend(path.name for path, _ in files)
        return files

    monkeypatch.setattr(generation, "open_generation", recording)
    monkeypatch.setattr("nirs4all_workspace.catalog.predictions.open_generation", recording)
    predictions.append_new(*new_rows)
    assert opened  # what others wrote (the run's fragment) is still read
    assert not [name for name in opened if any(name.startswith(f) for f in written)]
    assert filled.predictions.frame(fold=None).filter(pl.col("pipeline_id") == "q" * 32).height > 0


def test_append_new_still_finds_rows_it_appended_itself_when_asked_again(filled):
    predictions = Predictions(filled.layout)
    rows = _rows(filled, "r" * 32)
    assert predictions.append_new(*rows)
    count = filled.predictions.count()
    assert predictions.append_new(*rows) == ""  # the same rows again: nothing appended
    assert Predictions(filled.layout).append_new(*rows) == ""  # nor by another writer
    assert filled.predictions.count() == count


def _data_frame_row_by_row(rows):
    """The data frame as it was built before (one list value per row): the reference."""
    import numpy as np

    from nirs4all_workspace.catalog.schema import DATA_SCHEMA

    columns = []
    for name, dtype in DATA_SCHEMA.items():
        values = [row[name] for row in rows]
        if isinstance(dtype, pl.List):
            kind = np.int64 if dtype.inner == pl.Int64 else np.float64
            values = [np.asarray(v, dtype=kind) for v in values]
        columns.append(pl.Series(name, values, dtype=dtype))
    return pl.DataFrame(columns)


def test_the_data_rows_of_a_batch_are_stored_as_row_by_row_construction_stores_them():
    import numpy as np

    from nirs4all_workspace.catalog.predictions import _data_frame

    rng = np.random.default_rng(3)
    rows = []
    for i, n in enumerate([240, 48, 0, 60, 1, 48, 0]):  # a failed pipeline's row has empty arrays
        rows.append(
            {
                "prediction_id": f"p{i}",
                "partition": None if n == 0 else "val",
                "y_true": rng.normal(size=n) if i % 2 else list(rng.normal(size=n)),
                "y_pred": np.append(rng.normal(size=n - 1), np.nan) if n else [],
                "sample_indices": np.arange(n, dtype=np.int32) if i % 3 else list(range(n)),
            }
        )
    built = _data_frame(rows)
    assert built.schema == _data_frame_row_by_row(rows).schema
    assert built.equals(_data_frame_row_by_row(rows), null_equal=True)
    assert built["y_true"].list.len().to_list() == [240, 48, 0, 60, 1, 48, 0]
    assert _data_frame([]).equals(_data_frame_row_by_row([]))
