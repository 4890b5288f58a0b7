"""A folder of instrument files (JCAMP-DX, SPC, OPUS, ASD...) plus a reference table, as a dataset.

``nirs4all run --dataset FOLDER --reference REF.csv`` reads every file of the
folder with ``nirs4all-formats`` (the optional ``[formats]`` extra: its licence
is CeCILL-2.1 or AGPL-3.0, so it is never required), one or more spectra per
file. The reference table's first column names each spectrum, by file name
(with or without extension) or by the sample id inside the file; its other
columns are targets (``--target`` picks one, default the last). Samples follow
the reference table's order. Spectra on different axes are refused, naming two
files, unless ``resample`` interpolates them onto the axis of the first file
(cut to the range every file covers).

Handheld scanners' CSV exports (a metadata block, then a wavelength/absorbance
table) are instrument files too; one of them alone is refused by :mod:`.handheld`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DatasetError
from .datasets import SpectraDataset
from .handheld import INSTALL_HINT
from .tables import parse_target, preview_columns, read_table

_ID_KEYS = ("sample_id", "sample", "sample_name", "title", "name")
_SHOWN = 5


@dataclass
class _Spectrum:
    file: Path
    key: str  # what the reference table's first column names it by
    axis: np.ndarray
    values: np.ndarray


def load_instrument_folder(
    folder: Path | str,
    reference: Path | str,
    target: str | None = None,
    task: str | None = None,
    resample: bool = False,
) -> SpectraDataset:
    """The dataset of the instrument files in ``folder`` named by ``reference`` (see the module doc).

    Raises :class:`DatasetError` (one line) without nirs4all-formats, for an
    unreadable file, a spectrum or a reference row without its match, or axes
    that differ (without ``resample``).
    """
    folder, reference = Path(folder), Path(reference)
    try:
        import nirs4all_formats
    except ImportError:
        raise DatasetError(f"folder '{folder}': {INSTALL_HINT}") from None
    if not folder.is_dir():
        raise DatasetError(
            f"--reference needs a folder of instrument files as --dataset; '{folder}' is not one"
        )
    if not reference.is_file():
        raise DatasetError(f"reference table '{reference}' does not exist; give a CSV naming each file")
    spectra = _read_folder(nirs4all_formats, folder, reference)
    table = read_table(reference)
    frame = table.frame
    label = f"'{reference}'"
    if frame.width < 2:
        raise DatasetError(f"reference table {label} needs a name column and at least one target column")
    key_column = frame.columns[0]
    target_name = target or frame.columns[-1]
    if target_name not in frame.columns[1:]:
        raise DatasetError(
            f"reference table {label} has no target column {target_name!r}; columns are: "
            f"{preview_columns(frame.columns)}"
        )
    keys = [str(k).strip() if k is not None else "" for k in frame[key_column].to_list()]
    by_key = _index(spectra, folder)
    missing = [k for k in keys if _lookup(by_key, k) is None]
    if missing:
        raise DatasetError(
            f"reference table {label} names {len(missing)} spectra not found in '{folder}' "
            f"(first: {', '.join(missing[:_SHOWN])}); name each file (with or without extension) or sample id"
        )
    chosen = [_lookup(by_key, k) for k in keys]
    used = {id(s) for s in chosen}
    unnamed = [s.key for s in spectra if id(s) not in used]
    if unnamed:
        raise DatasetError(
            f"{len(unnamed)} spectra of '{folder}' have no row in {label} "
            f"(first: {', '.join(unnamed[:_SHOWN])}); "
            "add them to the reference table or remove the files"
        )
    axis, X = _matrix([s for s in chosen if s is not None], resample)
    y, task = parse_target(frame[target_name], task, table, label)
    if len(X) < 2:
        raise DatasetError(f"dataset '{folder}' has {len(X)} sample(s); at least 2 are needed")
    return SpectraDataset(
        name=folder.resolve().name,
        source=str(folder.resolve()),
        X=X,
        y=y,
        feature_names=[_axis_name(v) for v in axis],
        target_name=target_name,
        task=task,
        sample_ids=np.arange(len(X)),
    )


def _read_folder(formats: Any, folder: Path, reference: Path) -> list[_Spectrum]:
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.resolve() != reference.resolve()
    )
    if not files:
        raise DatasetError(f"folder '{folder}' holds no instrument files")
    spectra: list[_Spectrum] = []
    for path in files:
        try:
            records = formats.open_records(path)
        except Exception as exc:  # any reader failure is the file's problem: name it
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatasetError(f"cannot read instrument file '{path}' ({first})") from None
        found = [_spectrum(path, record, len(records)) for record in records]
        spectra += [s for s in found if s is not None]
    return spectra


def _spectrum(path: Path, record: dict[str, Any], n_records: int) -> _Spectrum | None:
    for signal in (record.get("signals") or {}).values():
        if not isinstance(signal, dict) or len(signal.get("shape") or []) != 1:
            continue
        axis = np.asarray((signal.get("axis") or {}).get("values") or [], dtype=np.float64)
        values = np.asarray(signal.get("values") or [], dtype=np.float64)
        if len(axis) != len(values) or not len(values):
            continue
        key = path.name if n_records == 1 else (_record_id(record) or f"{path.name}#{id(record)}")
        return _Spectrum(path, key, axis, values)
    return None


def _record_id(record: dict[str, Any]) -> str | None:
    for key in _ID_KEYS:
        if record.get(key):
            return str(record[key])
    for block in (record.get("metadata") or {}).values():
        if isinstance(block, dict):
            for key in _ID_KEYS:
                if block.get(key):
                    return str(block[key])
    return None


def _index(spectra: list[_Spectrum], folder: Path) -> dict[str, _Spectrum]:
    by_key: dict[str, _Spectrum] = {}
    for s in spectra:
        names = {s.key, Path(s.key).stem} if s.key == s.file.name else {s.key}
        for name in names:
            if name in by_key and by_key[name] is not s:
                raise DatasetError(f"two spectra of '{folder}' are both named {name!r}; rename one file")
            by_key[name] = s
    return by_key


def _lookup(by_key: dict[str, _Spectrum], key: str) -> _Spectrum | None:
    return by_key.get(key) or by_key.get(Path(key).stem if Path(key).suffix else key)


def _matrix(spectra: list[_Spectrum], resample: bool) -> tuple[np.ndarray, np.ndarray]:
    first = spectra[0]
    odd = next((s for s in spectra if not np.array_equal(s.axis, first.axis)), None)
    if odd is None:
        return first.axis, np.vstack([s.values for s in spectra])
    if not resample:
        raise DatasetError(
            f"spectra are on different axes: '{first.file.name}' has {len(first.axis)} points "
            f"({first.axis.min():g}-{first.axis.max():g}) but '{odd.file.name}' has {len(odd.axis)} "
            f"({odd.axis.min():g}-{odd.axis.max():g}); pass --resample to interpolate them onto one axis"
        )
    low = max(float(s.axis.min()) for s in spectra)
    high = min(float(s.axis.max()) for s in spectra)
    axis = first.axis[(first.axis >= low) & (first.axis <= high)]
    if len(axis) < 2:
        raise DatasetError("the spectra's axes do not overlap; they cannot be resampled onto one axis")
    rows = []
    for s in spectra:
        order = np.argsort(s.axis)
        rows.append(np.interp(axis, s.axis[order], s.values[order]))
    return axis, np.vstack(rows)


def _axis_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
