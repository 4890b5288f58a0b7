"""Spectra to predict: the columns a model was fitted on, matched by name, and the target if present.

``nirs4all predict`` reads the same formats as ``nirs4all run`` (a CSV or
Parquet table, or a nirs4all folder with ``Xcal.csv`` and optional ``Xval.csv``,
``Ycal.csv``, ``Yval.csv``), but the target is optional: when the table has the
model's target column (or the folder has Y files) its values are kept, as
text, for the ``y_true`` column of the output. A ``sample_id`` column, when it
is not a feature, names the samples; otherwise they are numbered like
``load_dataset`` numbers them (calibration from 0, then validation).

Feature columns are matched to the model's by name (in any order; names that
are numbers match by value, so ``1100.0`` is ``1100``). Anything else is one
:class:`DatasetError` saying how many columns are missing and extra.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ...errors import DatasetError
from .datasets import SpectraDataset
from .tables import Table, numeric_matrix, read_table

SAMPLE_ID = "sample_id"
_SHOWN = 5


@dataclass
class NewSpectra:
    """Spectra ready for a model: ``X`` in the model's column order, ids, optional y_true."""

    X: np.ndarray
    sample_ids: list[str]
    y_true: list[str] | None
    source: str

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])


def _first(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (", ..." if len(names) > _SHOWN else "")


def _as_number(name: str) -> float | None:
    try:
        return float(name)
    except ValueError:
        return None


def match_columns(columns: list[str], features: list[str], label: str) -> list[str]:
    """The data's column for each model feature, in the model's order; DatasetError if they differ."""
    present = set(columns)
    if present == set(features) and len(columns) == len(features):
        return list(features)
    by_value = {_as_number(c): c for c in columns}
    wanted = [_as_number(f) for f in features]
    if (
        None not in by_value
        and None not in wanted
        and set(by_value) == set(wanted)
        and len(by_value) == len(columns)
    ):
        return [by_value[w] for w in wanted]
    missing = [f for f in features if f not in present]
    extra = [c for c in columns if c not in set(features)]
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing ({_first(missing)})")
    if extra:
        parts.append(f"{len(extra)} extra ({_first(extra)})")
    raise DatasetError(
        f"data {label} does not match the {len(features)} features the model was fitted on: "
        f"{' and '.join(parts) or 'repeated column names'}; give the same wavelength columns"
    )


def _text(column: pl.Series) -> list[str]:
    values = column.cast(pl.String, strict=False).str.strip_chars()
    return ["" if v is None else v for v in values.to_list()]


def _spectra_table(
    table: Table, label: str, features: list[str] | None, n_features: int | None, target: str | None
) -> tuple[np.ndarray, list[str] | None, list[str] | None]:
    """X, the ``sample_id`` column and the target column of one table."""
    frame = table.frame
    reserved = {c for c in (target, SAMPLE_ID) if c is not None and c not in (features or [])}
    columns = [c for c in frame.columns if c not in reserved]
    y_true = _text(frame[target]) if target is not None and target in frame.columns else None
    ids = _text(frame[SAMPLE_ID]) if SAMPLE_ID in reserved and SAMPLE_ID in frame.columns else None
    if features is not None:
        order = match_columns(columns, features, label)
    elif n_features is not None and len(columns) == n_features:
        order = columns
    elif n_features is not None and y_true is None and len(columns) == n_features + 1:
        order, y_true = columns[:-1], _text(frame[columns[-1]])  # the last column is the target
    else:
        raise DatasetError(
            f"data {label} has {len(columns)} feature columns but the model was fitted on {n_features}; "
            "give the same wavelength columns"
        )
    X = numeric_matrix(frame.select(order), table, label)
    return X, ids, y_true


def _read_y(path: Path, target: str | None) -> list[str]:
    table = read_table(path, header=None)
    frame = table.frame
    column = target if table.has_header and target in frame.columns else frame.columns[-1]
    return _text(frame[column])


def read_spectra(
    path: Path | str, features: list[str] | None, n_features: int | None, target: str | None
) -> NewSpectra:
    """Read spectra to predict from a file or a nirs4all folder (see the module docstring).

    Raises :class:`DatasetError` for unreadable data or columns that do not match.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"data '{path}' does not exist; give a CSV or Parquet file or a nirs4all folder")
    if not path.is_dir():
        X, ids, y_true = _spectra_table(read_table(path), f"'{path}'", features, n_features, target)
        return NewSpectra(X, ids or [str(i) for i in range(len(X))], y_true, str(path.resolve()))
    found = {entry.name.lower(): entry for entry in path.iterdir() if entry.is_file()}
    if "xcal.csv" not in found:
        raise DatasetError(
            f"folder '{path}' has no Xcal.csv; give a CSV or Parquet file, or a folder in the nirs4all "
            "convention (Xcal.csv, optional Xval.csv, Ycal.csv, Yval.csv)"
        )
    blocks, ids, targets = [], [], []
    for x_name, y_name in (("xcal.csv", "ycal.csv"), ("xval.csv", "yval.csv")):
        if x_name not in found:
            continue
        x_path = found[x_name]
        X, _, _ = _spectra_table(read_table(x_path), f"'{x_path}'", features, n_features, None)
        start = sum(len(b) for b in blocks)
        blocks.append(X)
        ids += [str(i) for i in range(start, start + len(X))]
        y = _read_y(found[y_name], target) if y_name in found else None
        if y is not None and len(y) != len(X):
            raise DatasetError(f"'{x_path.name}' has {len(X)} rows but '{y_name}' has {len(y)} in '{path}'")
        targets.append(y)
    y_true = None if any(t is None for t in targets) else [v for t in targets for v in t]
    return NewSpectra(np.vstack(blocks), ids, y_true, str(path.resolve()))


def dataset_from_files(
    name: str, source: str, files: dict[str, bytes], target: str | None, task: str | None
) -> SpectraDataset:
    """A dataset from the bytes of ``Xcal.csv``, ``Ycal.csv`` (+ ``Xval``, ``Yval``) written by
    :meth:`SpectraDataset.write`, read in memory (used for the training data inside a zip).
    """

    def x_table(file: str) -> tuple[np.ndarray, list[str]]:
        frame = pl.read_csv(io.BytesIO(files[file]), infer_schema=False)
        table = Table(frame, lambda i: f"line {i + 2}")
        return numeric_matrix(frame, table, f"'{file}' of {source}"), list(frame.columns)

    def y_column(file: str) -> np.ndarray:
        frame = pl.read_csv(io.BytesIO(files[file]), infer_schema=False)
        column = frame[target] if target in frame.columns else frame[frame.columns[-1]]
        values = _text(column)
        if task == "classification":
            return np.array(values, dtype=object)
        return np.array([float(v) for v in values], dtype=np.float64)

    missing = [f for f in ("Xcal.csv", "Ycal.csv") if f not in files]
    if missing:
        raise DatasetError(f"{source} holds no {', '.join(missing)}: it carries no training data")
    try:
        X, names = x_table("Xcal.csv")
        y = y_column("Ycal.csv")
        X_test = y_test = None
        if "Xval.csv" in files and "Yval.csv" in files:
            X_test, _ = x_table("Xval.csv")
            y_test = y_column("Yval.csv")
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise DatasetError(f"the training data in {source} cannot be read ({exc})") from None
    return SpectraDataset(
        name=name,
        source=source,
        X=X,
        y=y,
        feature_names=names,
        target_name=target or "y",
        task=task or "regression",
        sample_ids=np.arange(len(X)),
        X_test=X_test,
        y_test=y_test,
    )
