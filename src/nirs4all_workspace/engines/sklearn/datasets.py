"""Spectral datasets: reading CSV, Parquet and nirs4all folders, and writing them back.

A dataset is either one table (samples x features with a header row, the target
in a named column, default the last) or a folder in the nirs4all convention:
``Xcal.csv``, ``Ycal.csv`` and optionally ``Xval.csv``, ``Yval.csv`` (the
validation pair becomes the test partition). Every problem is reported as one
:class:`DatasetError` line that names the file, the column or line, and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ...engines.base import DatasetIdentity
from ...errors import DatasetError
from .tables import (
    CSV_SUFFIXES,
    labels_from_numbers,
    numbers_from_labels,
    numeric_matrix,
    parse_target,
    preview_columns,
    read_table,
)

TASKS = ("regression", "classification")


@dataclass
class SpectraDataset:
    """Spectra ``X`` (calibration) and target ``y``, with an optional test partition.

    ``y`` is float64 for regression and an object array of ``str`` labels for
    classification. ``sample_ids`` number the calibration samples from 0 and
    ``test_sample_ids`` continue after them, so ids are unique in the dataset.
    """

    name: str
    source: str
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    task: str
    sample_ids: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    test_sample_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise DatasetError(
                f"dataset {self.name!r}: task {self.task!r} is unknown; use one of: {', '.join(TASKS)}"
            )
        target_dtype = np.float64 if self.task == "regression" else object
        self.X = np.asarray(self.X, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=target_dtype)
        self.sample_ids = np.asarray(self.sample_ids)
        if self.X.ndim != 2 or len(self.y) != len(self.X) or len(self.sample_ids) != len(self.X):
            raise DatasetError(
                f"dataset {self.name!r}: X has shape {self.X.shape} but y has {len(self.y)} values "
                f"and sample_ids {len(self.sample_ids)}; they must match row for row"
            )
        if len(self.feature_names) != self.X.shape[1]:
            raise DatasetError(
                f"dataset {self.name!r}: {len(self.feature_names)} feature names "
                f"for {self.X.shape[1]} columns"
            )
        if self.X_test is None:
            return
        self.X_test = np.asarray(self.X_test, dtype=np.float64)
        if self.X_test.ndim != 2 or self.X_test.shape[1] != self.X.shape[1]:
            raise DatasetError(
                f"dataset {self.name!r}: X_test has shape {self.X_test.shape} but X has "
                f"{self.X.shape[1]} columns; both partitions need the same features"
            )
        if self.y_test is None or len(self.y_test) != len(self.X_test):
            raise DatasetError(f"dataset {self.name!r}: y_test must have one value per X_test row")
        self.y_test = np.asarray(self.y_test, dtype=target_dtype)
        if self.test_sample_ids is None:
            self.test_sample_ids = np.arange(len(self.X), len(self.X) + len(self.X_test))
        self.test_sample_ids = np.asarray(self.test_sample_ids)

    @property
    def n_samples(self) -> int:
        """Number of samples, calibration and test together."""
        return self.n_cal + self.n_test

    @property
    def n_cal(self) -> int:
        """Number of calibration samples (the ones cross-validated and trained on)."""
        return int(self.X.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test samples (0 without a test partition)."""
        return 0 if self.X_test is None else int(self.X_test.shape[0])

    @property
    def n_features(self) -> int:
        """Number of features (wavelengths) per spectrum."""
        return int(self.X.shape[1])

    @property
    def has_test(self) -> bool:
        """True when the dataset carries a test partition (``Xval``/``Yval``)."""
        return self.X_test is not None and self.y_test is not None

    @property
    def identity(self) -> DatasetIdentity:
        """Source, target column, task and the data version (:func:`data_digest` of X and y)."""
        return DatasetIdentity(
            source=self.source,
            target=self.target_name,
            task=self.task,
            digest=data_digest(self.X, self.y, self.X_test, self.y_test),
        )

    def with_task(self, task: str) -> SpectraDataset:
        """This dataset treated as ``task``: numeric targets become labels for classification.

        Raises :class:`DatasetError` when regression is asked for text labels.
        """
        if task == self.task:
            return self
        return SpectraDataset(
            name=self.name,
            source=self.source,
            X=self.X,
            y=self._convertparse_target(self.y, task),
            feature_names=self.feature_names,
            target_name=self.target_name,
            task=task,
            sample_ids=self.sample_ids,
            X_test=self.X_test,
            y_test=None if self.y_test is None else self._convertparse_target(self.y_test, task),
            test_sample_ids=self.test_sample_ids,
        )

    def _convertparse_target(self, y: np.ndarray, task: str) -> np.ndarray:
        if task == "classification":
            return labels_from_numbers(y)
        if task == "regression":
            return numbers_from_labels(y, self.name, self.target_name)
        raise DatasetError(f"task {task!r} is unknown; use one of: {', '.join(TASKS)}")

    def write(self, folder: Path | str) -> Path:
        """Write the dataset into ``folder`` as ``Xcal.csv``, ``Ycal.csv`` (+ ``Xval``/``Yval``).

        ``,``-separated with a header row and floats written to round-trip
        exactly, so ``load_dataset(folder)`` gives back identical arrays (pass
        ``task="classification"`` again when labels look like numbers). Creates
        ``folder``; overwrites those four files.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        _write_x(folder / "Xcal.csv", self.X, self.feature_names)
        _write_y(folder / "Ycal.csv", self.y, self.target_name)
        if self.has_test:
            assert self.X_test is not None and self.y_test is not None
            _write_x(folder / "Xval.csv", self.X_test, self.feature_names)
            _write_y(folder / "Yval.csv", self.y_test, self.target_name)
        return folder


def load_dataset(path: Path | str, target: str | None = None, task: str | None = None) -> SpectraDataset:
    """Read a dataset file (CSV, Parquet) or a nirs4all folder (``Xcal.csv``, ``Ycal.csv``...).

    ``target`` names the target column (default: the last one); ``task`` forces
    "regression" or "classification" (default: classification when the target is
    not numeric). Raises :class:`DatasetError` with one line saying what is wrong
    and where (missing file, unknown column, text in the spectra, missing values...).
    """
    path = Path(path)
    if task is not None and task not in TASKS:
        raise DatasetError(f"task {task!r} is unknown; use one of: {', '.join(TASKS)}")
    if not path.exists():
        raise DatasetError(
            f"dataset '{path}' does not exist; give a CSV or Parquet file, "
            "or a folder holding Xcal.csv and Ycal.csv"
        )
    if path.is_dir():
        return _load_folder(path, target, task)
    if path.suffix.lower() in CSV_SUFFIXES and path.is_file():
        from .handheld import handheld_export, refuse_single_export

        header = handheld_export(path)
        if header is not None:
            raise refuse_single_export(path, header)
    table = read_table(path)
    frame = table.frame
    label = f"'{path}'"
    columns = frame.columns
    if len(columns) < 2:
        raise DatasetError(
            f"dataset {label} has {len(columns)} column(s); it needs spectra columns and a target column"
        )
    target_name = columns[-1] if target is None else target
    if target_name not in columns:
        raise DatasetError(
            f"dataset {label} has no column {target_name!r}; columns are: {preview_columns(columns)}"
        )
    features = frame.drop(target_name)
    X = numeric_matrix(features, table, label)
    y, task = parse_target(frame[target_name], task, table, label)
    _check_size(X, label)
    _check_target(y, target_name, list(features.columns), label, given=target is not None)
    return SpectraDataset(
        name=path.stem,
        source=str(path.resolve()),
        X=X,
        y=y,
        feature_names=list(features.columns),
        target_name=target_name,
        task=task,
        sample_ids=np.arange(len(X)),
    )


def _load_folder(path: Path, target: str | None, task: str | None) -> SpectraDataset:
    found = {entry.name.lower(): entry for entry in path.iterdir() if entry.is_file()}
    xcal, ycal = found.get("xcal.csv"), found.get("ycal.csv")
    xval, yval = found.get("xval.csv"), found.get("yval.csv")
    if xcal is None or ycal is None:
        raise DatasetError(
            f"folder '{path}' is not a dataset: it needs Xcal.csv and Ycal.csv "
            "(plus optional Xval.csv, Yval.csv), or give a CSV/Parquet file instead"
        )
    if (xval is None) != (yval is None):
        have, lack = ("Xval.csv", "Yval.csv") if yval is None else ("Yval.csv", "Xval.csv")
        raise DatasetError(f"folder '{path}' has {have} but no {lack}; add it or remove {have}")
    X, names = _read_x(xcal)
    y, target_name, task = _read_y(ycal, target, task)
    _check_rows(xcal, X, ycal, y)
    _check_size(X, f"'{xcal}'")
    _check_target(y, target_name, names, f"'{ycal}'", given=True)
    X_test = y_test = test_ids = None
    if xval is not None and yval is not None:
        X_test, _ = _read_x(xval)
        if X_test.shape[1] != X.shape[1]:
            raise DatasetError(
                f"'{xval}' has {X_test.shape[1]} columns but '{xcal.name}' has {X.shape[1]}; "
                "calibration and validation spectra must have the same wavelengths"
            )
        y_test, _, _ = _read_y(yval, target, task)
        _check_rows(xval, X_test, yval, y_test)
        test_ids = np.arange(len(X), len(X) + len(X_test))
    return SpectraDataset(
        name=path.resolve().name,
        source=str(path.resolve()),
        X=X,
        y=y,
        feature_names=names,
        target_name=target_name,
        task=task,
        sample_ids=np.arange(len(X)),
        X_test=X_test,
        y_test=y_test,
        test_sample_ids=test_ids,
    )


def _read_x(path: Path) -> tuple[np.ndarray, list[str]]:
    table = read_table(path)
    return numeric_matrix(table.frame, table, f"'{path}'"), list(table.frame.columns)


def _read_y(path: Path, target: str | None, task: str | None) -> tuple[np.ndarray, str, str]:
    """The target of a Y file, its name and the task; a headerless file's target is named ``y``."""
    table = read_table(path, header=None)
    frame = table.frame
    label = f"'{path}'"
    if not table.has_header:
        if target is not None and frame.width > 1:
            raise DatasetError(
                f"{label} has no header row, so its column {target!r} cannot be found; add a header line"
            )
        column, name = frame.columns[-1], target or "y"
    else:
        if target is not None and target not in frame.columns:
            raise DatasetError(
                f"{label} has no column {target!r}; columns are: {preview_columns(frame.columns)}"
            )
        column = name = target or frame.columns[-1]
    y, task = parse_target(frame[column].alias(name), task, table, label)
    return y, name, task


def _check_rows(x_path: Path, X: np.ndarray, y_path: Path, y: np.ndarray) -> None:
    if len(X) != len(y):
        raise DatasetError(
            f"'{x_path.name}' has {len(X)} rows but '{y_path.name}' has {len(y)} in '{x_path.parent}'; "
            "spectra and targets must match line for line"
        )


def _check_size(X: np.ndarray, label: str) -> None:
    if len(X) < 2:
        raise DatasetError(
            f"dataset {label} has {len(X)} sample(s); at least 2 are needed to train and validate"
        )


def _check_target(y: np.ndarray, name: str, features: list[str], label: str, given: bool) -> None:
    """DatasetError when the target cannot be what was meant: constant, or a wavelength.

    Without ``--target`` the last column is taken; when its name continues the
    numeric sequence of the spectral column names (``..., 2496, 2498, 2500``), it
    is one more wavelength, not a target, and scores on it would mean nothing.
    """
    values = np.asarray(y).tolist()
    if len(set(values)) == 1:
        raise DatasetError(
            f"dataset {label}: target column {name!r} is constant (every value is {values[0]!r}); "
            "name the real target column with --target COLUMN"
        )
    if given or not _continues_sequence(features, name):
        return
    raise DatasetError(
        f"dataset {label}: the last column {name!r} continues the wavelengths "
        f"({features[0]} ... {features[-1]}), so no target was given; name it with --target COLUMN"
    )


def _continues_sequence(features: list[str], name: str) -> bool:
    """True when every feature name and ``name`` are numbers and ``name`` is the next step."""
    try:
        numbers = [float(f) for f in features[-8:]]
        last = float(name)
    except ValueError:
        return False
    if len(numbers) < 2:
        return False
    steps = np.diff(numbers)
    step = float(np.median(steps))
    if step == 0 or not np.all(np.sign(steps) == np.sign(step)):
        return False
    ahead = (last - numbers[-1]) / step
    return 0 < ahead <= 2.5


def data_digest(*arrays: np.ndarray | None) -> str:
    """SHA-256 of arrays as loaded (shape, then float64 bytes or UTF-8 labels).

    It depends on the values only: the same numbers written ``1.0`` or ``1.000``,
    with another separator or quoting in the file, give the same digest.
    """
    import hashlib

    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"|none")
            continue
        values = np.asarray(array)
        digest.update(f"|{values.shape}".encode())
        if values.dtype.kind in "fiub":
            digest.update(np.ascontiguousarray(values, dtype=np.float64).tobytes())
        else:
            digest.update("\x1f".join(str(v) for v in values.ravel().tolist()).encode("utf-8"))
    return digest.hexdigest()


def _write_x(path: Path, X: np.ndarray, names: list[str]) -> None:
    pl.from_numpy(np.asarray(X, dtype=np.float64), schema=list(names), orient="row").write_csv(path)


def _write_y(path: Path, y: np.ndarray, name: str) -> None:
    values = [str(v) for v in y] if y.dtype == object else np.asarray(y, dtype=np.float64)
    pl.DataFrame({name: values}).write_csv(path)
