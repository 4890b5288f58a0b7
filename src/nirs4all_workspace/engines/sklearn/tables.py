"""Reading one table of a dataset (CSV or Parquet) and parsing its cells into numbers or labels.

CSV files are read with every cell as text so that a bad cell can be reported
with its column and line; the separator (``,``, ``;`` or tab) and a decimal
comma are detected from the first two lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ...errors import DatasetError
from .csv_dialect import decimal_comma_names, detect_separator

# Spellings of "no value" found in exported spectra files; they count as missing.
NA_VALUES = ["", "NA", "N/A", "na", "NaN", "nan", "NAN", "null", "NULL", "None", "#N/A"]
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")

Locate = Callable[[int], str]


@dataclass
class Table:
    """A table as read: cells (CSV cells as text), how to name a row in messages, its format."""

    frame: pl.DataFrame
    locate: Locate
    decimal_comma: bool = False
    has_header: bool = True


def read_table(path: Path, header: bool | None = True) -> Table:
    """The table at ``path``, CSV cells as text.

    ``header=None`` guesses: the first line is a header unless all its fields are numbers.
    """
    suffix = path.suffix.lower()
    check_regular_file(path)
    if suffix in PARQUET_SUFFIXES:
        try:
            # An open file, never a path: polars would expand `[`, `*` and `?` in a path as a glob.
            with path.open("rb") as handle:
                frame = pl.read_parquet(handle)
        except Exception as exc:
            raise DatasetError(
                f"cannot read '{path}' as Parquet ({_first_line(exc)}); check the file"
            ) from None
        return Table(frame, lambda i: f"row {i + 1}")
    if suffix not in CSV_SUFFIXES:
        raise DatasetError(
            f"dataset '{path}' has an unknown extension {suffix!r}; use .csv or .parquet, "
            "or a folder with Xcal.csv and Ycal.csv"
        )
    data = csv_bytes(path)
    with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace") as handle:
        first, second = handle.readline(), handle.readline()
    if not first.strip():
        raise DatasetError(f"'{path}' is empty or starts with a blank line; expected a header row")
    separator = detect_separator(first, second)
    if not first.count(separator):
        # One column: any separator works, and ";" leaves "12,5" whole for the decimal-comma check.
        separator = ";"
    decimal_comma = separator != "," and "," in second and "." not in second
    if header is None:
        header = not all(_is_number(field, decimal_comma) for field in first.strip().split(separator))
    try:
        frame = pl.read_csv(
            io.BytesIO(data),  # bytes, never a path: polars would expand `[`, `*` and `?` as a glob
            separator=separator,
            has_header=header,
            infer_schema=False,
            null_values=NA_VALUES,
            encoding="utf8-lossy",
        )
    except Exception as exc:
        raise DatasetError(
            f"cannot parse '{path}' as CSV with separator {separator!r} ({_first_line(exc)}); "
            "check that every line has the same number of fields"
        ) from None
    if header:
        check_unique_columns(first, separator, path)
    # A separator at the end of every line leaves an empty, unnamed column: drop it.
    empty = [name for name in frame.columns if not name.strip() and frame[name].null_count() == len(frame)]
    frame = frame.drop(empty)
    if decimal_comma and header:
        frame = frame.rename(decimal_comma_names(frame.columns))
    offset = 2 if header else 1
    return Table(frame, lambda i: f"line {i + offset}", decimal_comma, header)


def check_regular_file(path: Path) -> None:
    """DatasetError unless ``path`` is a regular file: a FIFO or a device would block or never end."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise DatasetError(f"cannot read dataset '{path}' ({exc.strerror}); check the path") from None
    if not stat.S_ISREG(mode):
        raise DatasetError(
            f"dataset '{path}' is not a regular file (a FIFO, socket or device); "
            "give a CSV or Parquet file, or a folder holding Xcal.csv and Ycal.csv"
        )


# UTF-32 first: its little-endian mark begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def csv_bytes(path: Path) -> bytes:
    """The CSV's bytes as UTF-8: UTF-16/32 with a byte-order mark is decoded, a UTF-8 mark dropped.

    Raises DatasetError for wide text without a byte-order mark (NUL bytes), which
    would otherwise be read as garbage column names.
    """
    raw = path.read_bytes()
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec).encode("utf-8")
            except UnicodeDecodeError as exc:
                raise DatasetError(
                    f"'{path}' starts with a {codec.upper()} byte-order mark but cannot be decoded "
                    f"({exc.reason} at byte {exc.start}); save it as UTF-8 CSV"
                ) from None
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :]
    if b"\x00" in raw[:4096]:
        raise DatasetError(
            f"'{path}' holds NUL bytes: it looks like UTF-16 or UTF-32 text without a byte-order mark, "
            "or a binary file; save it as UTF-8 CSV"
        )
    return raw


def check_unique_columns(header_line: str, separator: str, path: Path) -> None:
    """DatasetError when a header names a column twice (polars would rename it silently)."""
    names = next(csv.reader([header_line.rstrip("\r\n")], delimiter=separator), [])
    seen: set[str] = set()
    for name in names:
        if name.strip() and name in seen:
            raise DatasetError(
                f"'{path}' has a column named {name!r} more than once; "
                "rename or remove the duplicates so each column has one meaning"
            )
        seen.add(name)


def _is_number(text: str, decimal_comma: bool = False) -> bool:
    text = text.strip().strip('"')
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        float(text)
    except ValueError:
        return False
    return True


def _as_float(column: str, dtype: pl.DataType, decimal_comma: bool) -> pl.Expr | None:
    """``column`` parsed to float64 (unparseable text -> null); None if it can never be numeric."""
    expr = pl.col(column)
    if dtype == pl.String:
        expr = expr.str.strip_chars()
        if decimal_comma:
            expr = expr.str.replace(",", ".", literal=True)
        return expr.cast(pl.Float64, strict=False).alias(column)
    if dtype.is_numeric() or dtype == pl.Boolean:
        return expr.cast(pl.Float64).alias(column)
    return None


def numeric_matrix(frame: pl.DataFrame, table: Table, label: str) -> np.ndarray:
    """Spectra as float64, or a DatasetError naming the first text cell or the missing values."""
    if frame.width == 0 or frame.height == 0:
        raise DatasetError(f"dataset {label} has no spectra ({frame.height} rows, {frame.width} columns)")
    exprs = []
    for name, dtype in frame.schema.items():
        expr = _as_float(name, dtype, table.decimal_comma)
        if expr is None:
            raise DatasetError(f"dataset {label}: column {name!r} has type {dtype}; spectra must be numbers")
        exprs.append(expr)
    numbers = frame.select(exprs)
    present = frame.select(pl.all().is_not_null()).to_numpy()
    parsed = numbers.select(pl.all().is_not_null()).to_numpy()
    bad = np.argwhere(present & ~parsed)
    if len(bad):
        row, col = bad[0]
        name = frame.columns[col]
        raise DatasetError(
            f"dataset {label}: column {name!r} is not numeric "
            f"({table.locate(row)}: {frame[name][int(row)]!r}); spectra must be numbers: "
            "remove text columns such as sample ids, or pick the target with --target"
        )
    X = numbers.to_numpy().astype(np.float64, copy=False)
    missing = np.argwhere(~np.isfinite(X))
    if len(missing):
        row, col = missing[0]
        raise DatasetError(
            f"dataset {label} has {len(missing)} missing or infinite value(s) in its spectra "
            f"(first: column {frame.columns[col]!r}, {table.locate(row)}); fill or remove them"
        )
    return np.ascontiguousarray(X)


def parse_target(column: pl.Series, task: str | None, table: Table, label: str) -> tuple[np.ndarray, str]:
    """The target as float64 (regression) or str labels (classification), and the task."""
    name = column.name
    if column.dtype.is_nested():
        raise DatasetError(
            f"dataset {label}: target {name!r} has type {column.dtype}; "
            "a target must be one number or label per row: flatten that column"
        )
    expr = _as_float(name, column.dtype, table.decimal_comma)
    if expr is None:
        numbers = pl.Series(name, [None] * len(column), dtype=pl.Float64)
    else:
        numbers = column.to_frame().select(expr).to_series()
    text = column.cast(pl.String, strict=False).str.strip_chars()
    values = numbers.to_numpy().astype(np.float64)
    parsed = numbers.is_not_null().to_numpy()
    is_missing = (text.is_null() | (text == "")).to_numpy() | (parsed & ~np.isfinite(values))
    if is_missing.any():
        first = int(np.argmax(is_missing))
        raise DatasetError(
            f"dataset {label}: target {name!r} is missing in {int(is_missing.sum())} row(s) "
            f"(first: {table.locate(first)}); remove those rows or fill the target"
        )
    if task is None:
        task = "regression" if parsed.all() else "classification"
    if task == "regression":
        if not parsed.all():
            first = int(np.argmin(parsed))
            raise DatasetError(
                f"dataset {label}: target {name!r} is not numeric ({table.locate(first)}: {text[first]!r}); "
                "use task 'classification' or choose another target column"
            )
        return values, task
    if column.dtype != pl.String and expr is not None:
        return labels_from_numbers(values), task
    return np.array(text.to_list(), dtype=object), task


def labels_from_numbers(y: np.ndarray) -> np.ndarray:
    """Numeric class codes as text labels: ``1.0`` becomes ``"1"``, ``0.5`` stays ``"0.5"``."""
    if y.dtype == object:
        return y
    values = np.asarray(y, dtype=np.float64)
    return np.array([str(int(v)) if float(v).is_integer() else repr(float(v)) for v in values], dtype=object)


def numbers_from_labels(y: np.ndarray, dataset: str, target: str) -> np.ndarray:
    if y.dtype != object:
        return np.asarray(y, dtype=np.float64)
    try:
        return np.array([float(v) for v in y], dtype=np.float64)
    except ValueError:
        raise DatasetError(
            f"dataset {dataset!r}: target {target!r} holds text labels; it cannot be used for regression"
        ) from None


def preview_columns(columns: list[str], limit: int = 6) -> str:
    shown = ", ".join(columns[:limit]) + (", ..." if len(columns) > limit else "")
    return f"{shown} ({len(columns)} columns)"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
