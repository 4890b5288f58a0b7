"""Reading and writing spectral datasets: files, folders, and every way they can be wrong."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nirs4all_workspace.engines.sklearn import SpectraDataset, load_dataset
from nirs4all_workspace.errors import DatasetError

from .paths import DATA


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_same(a: SpectraDataset, b: SpectraDataset) -> None:
    assert np.array_equal(a.X, b.X)
    assert a.y.dtype == b.y.dtype
    assert np.array_equal(a.y, b.y)
    assert a.feature_names == b.feature_names
    assert a.target_name == b.target_name
    assert a.task == b.task
    assert np.array_equal(a.sample_ids, b.sample_ids)
    assert a.has_test == b.has_test
    if a.has_test:
        assert np.array_equal(a.X_test, b.X_test)
        assert np.array_equal(a.y_test, b.y_test)
        assert np.array_equal(a.test_sample_ids, b.test_sample_ids)


# reading --------------------------------------------------------------------


def test_coffee_csv_is_a_classification_dataset() -> None:
    coffee = load_dataset(DATA / "coffee.csv")
    assert coffee.name == "coffee"
    assert coffee.X.shape == (60, 1841)
    assert coffee.X.dtype == np.float64
    assert coffee.task == "classification"
    assert coffee.target_name == "origin"
    assert coffee.y.dtype == object
    assert sorted(set(coffee.y.tolist())) == ["Brasil", "Ethiopia", "Vietnam"]
    assert coffee.feature_names[:3] == ["0", "1", "2"]
    assert coffee.sample_ids.tolist() == list(range(60))
    assert not coffee.has_test
    assert (coffee.n_samples, coffee.n_features, coffee.n_test) == (60, 1841, 0)
    assert coffee.source == str((DATA / "coffee.csv").resolve())


def test_folder_convention_gives_a_test_partition() -> None:
    tiny = load_dataset(DATA / "tiny_nirs")
    assert tiny.name == "tiny_nirs"
    assert tiny.X.shape == (40, 50)
    assert tiny.X_test.shape == (12, 50)
    assert tiny.task == "regression"
    assert tiny.y.dtype == np.float64
    assert tiny.target_name == "moisture"
    assert tiny.feature_names[0] == "1000"
    assert tiny.sample_ids.tolist() == list(range(40))
    assert tiny.test_sample_ids.tolist() == list(range(40, 52))
    assert tiny.n_samples == 52
    assert tiny.y[0] == pytest.approx(14.0192)


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_separators_are_detected(tmp_path: Path, separator: str) -> None:
    path = write_lines(
        tmp_path / "wheat.csv",
        separator.join(["1100", "1102", "1104", "protein"]),
        separator.join(["0.1", "0.2", "0.3", "11.5"]),
        separator.join(["0.4", "0.5", "0.6", "12.5"]),
    )
    wheat = load_dataset(path)
    assert wheat.name == "wheat"
    assert wheat.feature_names == ["1100", "1102", "1104"]
    assert np.array_equal(wheat.X, [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    assert np.array_equal(wheat.y, [11.5, 12.5])


def test_decimal_commas_with_semicolons(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "fr.csv", "a;b;y", "0,5;1,25;10,5", "1,5;2;11")
    data = load_dataset(path)
    assert np.array_equal(data.X, [[0.5, 1.25], [1.5, 2.0]])
    assert np.array_equal(data.y, [10.5, 11.0])


def test_trailing_separators_and_bom_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffa;b;y;\n1;2;3;\n4;5;6;\n".encode())
    data = load_dataset(path)
    assert data.feature_names == ["a", "b"]
    assert data.target_name == "y"


def test_target_by_name_anywhere(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "mid.csv", "a,protein,b,c", "1,10,2,3", "4,11,5,6", "7,12,8,9")
    data = load_dataset(path, target="protein")
    assert data.feature_names == ["a", "b", "c"]
    assert np.array_equal(data.X[0], [1, 2, 3])
    assert np.array_equal(data.y, [10, 11, 12])


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    tiny = load_dataset(DATA / "tiny_nirs")
    frame = pl.from_numpy(tiny.X, schema=tiny.feature_names, orient="row").with_columns(
        pl.Series("moisture", tiny.y)
    )
    frame.write_parquet(tmp_path / "tiny.parquet")
    data = load_dataset(tmp_path / "tiny.parquet")
    assert data.name == "tiny"
    assert np.array_equal(data.X, tiny.X)
    assert np.array_equal(data.y, tiny.y)
    assert data.task == "regression"


def test_task_classification_turns_codes_into_labels(tmp_path: Path) -> None:
    pl.DataFrame({"a": [0.1, 0.2, 0.3], "b": [1.0, 2.0, 3.0], "kind": [1.0, 2.0, 1.0]}).write_parquet(
        tmp_path / "codes.parquet"
    )
    data = load_dataset(tmp_path / "codes.parquet", task="classification")
    assert data.task == "classification"
    assert data.y.tolist() == ["1", "2", "1"]
    csv = write_lines(tmp_path / "codes.csv", "a,b,kind", "1,2,1", "3,4,2")
    assert load_dataset(csv, task="classification").y.tolist() == ["1", "2"]


def test_y_file_without_header(tmp_path: Path) -> None:
    folder = tmp_path / "noheader"
    folder.mkdir()
    write_lines(folder / "Xcal.csv", "w1;w2", "1;2", "3;4", "5;6")
    write_lines(folder / "Ycal.csv", "0.5", "0.7", "0.9")
    data = load_dataset(folder)
    assert data.target_name == "y"
    assert np.array_equal(data.y, [0.5, 0.7, 0.9])
    assert data.X.shape == (3, 2)


def test_with_task_converts_targets() -> None:
    tiny = load_dataset(DATA / "tiny_nirs")
    assert tiny.with_task("regression") is tiny
    labels = tiny.with_task("classification")
    assert labels.y.dtype == object
    assert labels.y_test.dtype == object
    assert labels.y[0] == "14.0192"
    with pytest.raises(DatasetError, match="holds text labels"):
        load_dataset(DATA / "coffee.csv").with_task("regression")


# writing --------------------------------------------------------------------


def test_write_round_trips_a_folder_dataset(tmp_path: Path) -> None:
    tiny = load_dataset(DATA / "tiny_nirs")
    folder = tiny.write(tmp_path / "tiny_nirs")
    assert sorted(p.name for p in folder.iterdir()) == ["Xcal.csv", "Xval.csv", "Ycal.csv", "Yval.csv"]
    assert_same(load_dataset(folder), tiny)


def test_write_round_trips_a_classification_file(tmp_path: Path) -> None:
    coffee = load_dataset(DATA / "coffee.csv")
    assert_same(load_dataset(coffee.write(tmp_path / "coffee")), coffee)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(2, 6), st.integers(1, 5)),
        elements=st.floats(allow_nan=False, allow_infinity=False, width=64),
    ),
    data=st.data(),
)
def test_write_round_trips_any_finite_floats(tmp_path: Path, X: np.ndarray, data: st.DataObject) -> None:
    # distinct values: a constant target is refused (test_a_constant_or_wavelength_target_is_refused)
    y = data.draw(arrays(np.float64, (X.shape[0],), elements=st.floats(-1e12, 1e12), unique=True))
    dataset = SpectraDataset(
        name="h",
        source="memory",
        X=X,
        y=y,
        feature_names=[f"w{j}" for j in range(X.shape[1])],
        target_name="target",
        task="regression",
        sample_ids=np.arange(X.shape[0]),
    )
    folder = dataset.write(tmp_path / "h")
    assert_same(load_dataset(folder), dataset)


# errors ---------------------------------------------------------------------


def _error(path: Path, **options: str) -> str:
    with pytest.raises(DatasetError) as info:
        load_dataset(path, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_path(tmp_path: Path) -> None:
    message = _error(tmp_path / "nope.csv")
    assert f"dataset '{tmp_path / 'nope.csv'}' does not exist" in message
    assert "Xcal.csv and Ycal.csv" in message


def test_unparseable_file() -> None:
    message = _error(DATA / "bad" / "ragged.csv")
    assert message.startswith(f"cannot parse '{DATA / 'bad' / 'ragged.csv'}' as CSV with separator ','")
    assert "same number of fields" in message


def test_unknown_extension_and_empty_file(tmp_path: Path) -> None:
    assert "unknown extension '.xlsx'" in _error(write_lines(tmp_path / "d.xlsx", "x"))
    (tmp_path / "empty.csv").write_text("")
    assert "is empty" in _error(tmp_path / "empty.csv")


def test_unknown_target_column_lists_the_columns() -> None:
    message = _error(DATA / "coffee.csv", target="protein")
    assert message == (
        f"dataset '{DATA / 'coffee.csv'}' has no column 'protein'; "
        "columns are: 0, 1, 2, 3, 4, 5, ... (1842 columns)"
    )


def test_text_in_the_spectra_names_column_and_line() -> None:
    message = _error(DATA / "bad" / "text_in_spectra.csv")
    assert re.search(r"column '1102' is not numeric \(line 4: 'abc'\)", message)


def test_missing_target_values_are_counted() -> None:
    message = _error(DATA / "bad" / "missing_target.csv")
    assert "target 'protein' is missing in 2 row(s) (first: line 3)" in message


def test_missing_values_in_the_spectra() -> None:
    message = _error(DATA / "bad" / "missing_values.csv")
    assert "2 missing or infinite value(s) in its spectra (first: column '1102', line 3)" in message


def test_x_and_y_row_counts_must_match() -> None:
    message = _error(DATA / "bad" / "rows_mismatch")
    assert "'Xcal.csv' has 5 rows but 'Ycal.csv' has 4" in message


def test_fewer_than_two_samples(tmp_path: Path) -> None:
    message = _error(write_lines(tmp_path / "one.csv", "a,b,y", "1,2,3"))
    assert "has 1 sample(s); at least 2 are needed" in message


def test_regression_on_text_target() -> None:
    message = _error(DATA / "coffee.csv", task="regression")
    assert "target 'origin' is not numeric (line 2: 'Ethiopia'); use task 'classification'" in message


def test_folder_errors(tmp_path: Path) -> None:
    assert "is not a dataset: it needs Xcal.csv and Ycal.csv" in _error(tmp_path)
    folder = tmp_path / "half"
    folder.mkdir()
    write_lines(folder / "Xcal.csv", "a,b", "1,2", "3,4")
    write_lines(folder / "Ycal.csv", "y", "1", "2")
    write_lines(folder / "Xval.csv", "a,b", "1,2")
    assert "has Xval.csv but no Yval.csv" in _error(folder)
    write_lines(folder / "Yval.csv", "y", "1")
    write_lines(folder / "Xval.csv", "a,b,c", "1,2,3")
    assert "has 3 columns but 'Xcal.csv' has 2" in _error(folder)


def test_single_column_file_and_bad_task(tmp_path: Path) -> None:
    assert "has 1 column(s)" in _error(write_lines(tmp_path / "y.csv", "y", "1", "2"))
    assert "task 'clustering' is unknown" in _error(DATA / "coffee.csv", task="clustering")


def test_headerless_y_cannot_be_searched_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "multi"
    folder.mkdir()
    write_lines(folder / "Xcal.csv", "a", "1", "2")
    write_lines(folder / "Ycal.csv", "1,2", "3,4")
    assert "has no header row, so its column 'fat' cannot be found" in _error(folder, target="fat")


def test_datasets_built_in_code_are_checked_and_coerced() -> None:
    data = SpectraDataset(
        name="mem",
        source="memory",
        X=[[1, 2], [3, 4]],
        y=[1, 2],
        feature_names=["a", "b"],
        target_name="y",
        task="regression",
        sample_ids=[0, 1],
        X_test=[[5, 6]],
        y_test=[3],
    )
    assert data.X.dtype == np.float64
    assert data.y_test.dtype == np.float64
    assert data.test_sample_ids.tolist() == [2]
    with pytest.raises(DatasetError, match="X_test has shape \\(1, 3\\) but X has 2 columns"):
        SpectraDataset(
            "mem",
            "memory",
            np.ones((2, 2)),
            np.ones(2),
            ["a", "b"],
            "y",
            "regression",
            np.arange(2),
            X_test=np.ones((1, 3)),
            y_test=np.ones(1),
        )
    with pytest.raises(DatasetError, match="y has 3 values"):
        SpectraDataset(
            "mem", "memory", np.ones((2, 2)), np.ones(3), ["a", "b"], "y", "regression", np.arange(2)
        )


# identity --------------------------------------------------------------------


def _wavelength_table(path: Path, last: str, values: list[float]) -> Path:
    rng = np.random.default_rng(0)
    columns = {str(900 + 2 * i): rng.normal(size=6) for i in range(5)}
    pl.DataFrame({**columns, last: values}).write_csv(path)
    return path


def test_a_constant_or_wavelength_target_is_refused(tmp_path: Path) -> None:
    constant = _wavelength_table(tmp_path / "flat.csv", "protein", [1.5] * 6)
    message = _error(constant)
    assert "'protein' is constant" in message and "--target" in message
    assert "'protein' is constant" in _error(constant, target="protein")

    wavelength = _wavelength_table(tmp_path / "wl.csv", "910", [0.1, 0.2, 0.1, 0.3, 0.2, 0.4])
    message = _error(wavelength)
    assert "'910' continues the wavelengths" in message and "--target" in message
    # named on purpose, a numeric column is accepted; a real target after the spectra too
    assert load_dataset(wavelength, target="910").target_name == "910"
    real = _wavelength_table(tmp_path / "ok.csv", "protein", [0.1, 0.2, 0.1, 0.3, 0.2, 0.4])
    assert load_dataset(real).target_name == "protein"
    far = _wavelength_table(tmp_path / "far.csv", "5", [0.1, 0.2, 0.1, 0.3, 0.2, 0.4])
    assert load_dataset(far).target_name == "5"  # does not continue 900..908


def test_identity_digest_depends_on_values_not_formatting(tmp_path: Path) -> None:
    first = _wavelength_table(tmp_path / "a.csv", "protein", [0.1, 0.2, 0.1, 0.3, 0.2, 0.4])
    frame = pl.read_csv(first)
    frame.write_csv(tmp_path / "b.csv", separator=";")
    frame.write_parquet(tmp_path / "c.parquet")
    identities = [load_dataset(p).identity for p in (first, tmp_path / "b.csv", tmp_path / "c.parquet")]
    assert len({i.digest for i in identities}) == 1
    assert identities[0].target == "protein" and identities[0].task == "regression"
    assert identities[0].slice is None
    changed = frame.with_columns(protein=pl.col("protein") + 1.0)
    changed.write_csv(tmp_path / "d.csv")
    assert load_dataset(tmp_path / "d.csv").identity.digest != identities[0].digest
    other_target = load_dataset(first, target="900").identity
    assert other_target.question() != identities[0].question()
