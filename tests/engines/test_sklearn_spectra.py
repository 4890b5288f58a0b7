import numpy as np
import polars as pl
import pytest

from nirs4all_workspace.engines.sklearn import load_dataset, make_demo_dataset
from nirs4all_workspace.engines.sklearn.spectra import dataset_from_files, match_columns, read_spectra
from nirs4all_workspace.errors import DatasetError
from nirs4all_workspace.workspace.dataset_info import fingerprint

from .paths import DATA

TINY = DATA / "tiny_nirs"
NAMES = [str(w) for w in range(1000, 2500, 30)]


def test_columns_match_by_name_in_any_order_or_by_value():
    assert match_columns(list(reversed(NAMES)), NAMES, "x") == NAMES
    assert match_columns([f"{n}.0" for n in NAMES], NAMES, "x") == [f"{n}.0" for n in NAMES]


def test_a_mismatch_counts_and_names_the_first_few():
    columns = [*NAMES[4:], "a", "b"]
    with pytest.raises(DatasetError) as caught:
        match_columns(columns, NAMES, "'new.csv'")
    assert str(caught.value) == (
        "data 'new.csv' does not match the 50 features the model was fitted on: "
        "4 missing (1000, 1030, 1060, 1090) and 2 extra (a, b); give the same wavelength columns"
    )
    with pytest.raises(DatasetError, match=r"30 missing \(1000, 1030, 1060, 1090, 1120, \.\.\.\)"):
        match_columns(NAMES[30:], NAMES, "x")


def test_a_folder_gives_calibration_then_validation_with_targets():
    spectra = read_spectra(TINY, NAMES, 50, "moisture")
    dataset = load_dataset(TINY)
    np.testing.assert_array_equal(spectra.X, np.vstack([dataset.X, dataset.X_test]))
    assert spectra.sample_ids == [str(i) for i in range(52)]
    assert [float(v) for v in spectra.y_true] == [*dataset.y.tolist(), *dataset.y_test.tolist()]


def test_unknown_names_fall_back_to_the_count(tmp_path):
    frame = pl.read_csv(TINY / "Xcal.csv", separator=";")
    frame.write_csv(tmp_path / "x.csv")
    assert read_spectra(tmp_path / "x.csv", None, 50, None).y_true is None
    with_target = frame.with_columns(pl.lit(1.5).alias("anything"))
    with_target.write_csv(tmp_path / "xy.csv")
    assert read_spectra(tmp_path / "xy.csv", None, 50, None).y_true == ["1.5"] * 40
    with pytest.raises(DatasetError, match="has 49 feature columns but the model was fitted on 50"):
        frame.drop("1000").write_csv(tmp_path / "short.csv")
        read_spectra(tmp_path / "short.csv", None, 50, None)


def test_missing_data_and_text_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        read_spectra(tmp_path / "nope.csv", NAMES, 50, None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"has no Xcal\.csv"):
        read_spectra(tmp_path / "empty", NAMES, 50, None)
    frame = pl.read_csv(TINY / "Xcal.csv", separator=";", infer_schema=False)
    frame.with_columns(pl.lit("abc").alias("1000")).write_csv(tmp_path / "text.csv")
    with pytest.raises(DatasetError, match="column '1000' is not numeric"):
        read_spectra(tmp_path / "text.csv", NAMES, 50, None)


def test_written_training_data_reads_back_identical_from_memory(tmp_path):
    demo = make_demo_dataset()
    demo.write(tmp_path / "demo")
    files = {p.name: p.read_bytes() for p in (tmp_path / "demo").iterdir()}
    again = dataset_from_files("demo", "memory", files, "protein", "regression")
    assert fingerprint(again) == fingerprint(demo)
    with pytest.raises(DatasetError, match=r"holds no Ycal\.csv"):
        dataset_from_files("demo", "memory", {"Xcal.csv": files["Xcal.csv"]}, None, None)
