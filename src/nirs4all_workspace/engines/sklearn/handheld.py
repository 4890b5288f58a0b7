"""One spectrum as a handheld scanner exports it, given alone as a dataset: recognised, refused in one line.

Handheld scanners (NeoSpectra, MicroNIR, SCiO-style phone apps...) export one
spectrum per CSV: a metadata block (``Device: ...`` or ``Device,...`` lines),
then a ``Wavelength (nm),Absorbance (AU)`` table, one row per wavelength.
nirs4all-formats reads these like any instrument file, so a folder of them plus
a reference table is a dataset (:mod:`.instruments`). One such file alone has no
target: :func:`handheld_export` recognises it without the extra, and
:func:`refuse_single_export` says what it is and what to do.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...errors import DatasetError

INSTALL_HINT = (
    "reading instrument files needs the optional extra: pip install 'nirs4all-workspace[formats]' "
    "(nirs4all-formats, licensed CeCILL-2.1 or AGPL-3.0)"
)
_AXIS_HEADER = re.compile(r"wave\s*length|wave\s*number|lambda|^\s*(nm|cm-1|x)\s*$", re.IGNORECASE)
_HEAD_BYTES = 64 * 1024  # the metadata block and the table's first rows are near the start
_HEAD_LINES = 60


def handheld_export(path: Path) -> str | None:
    """The table header (``"Wavelength (nm), Absorbance (AU)"``) when ``path`` is one spectrum as a
    handheld scanner exports it; None for anything else (a table of spectra by row, say).

    Recognised: within the first lines, a row of 2 to 4 text fields whose first names the axis
    (wavelength, wavenumber, nm, cm-1), followed by at least two rows of as many numbers.
    Whatever comes before it (the metadata block) is not looked at.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return None
    lines = [line.strip() for line in head.decode("utf-8", errors="replace").splitlines()]
    lines = [line.lstrip("\ufeff") for line in lines if line][:_HEAD_LINES]
    for i, line in enumerate(lines[:-2]):
        separator = max((",", ";", "\t"), key=line.count)
        fields = [f.strip().strip('"') for f in line.split(separator)]
        if not 2 <= len(fields) <= 4 or not _AXIS_HEADER.search(fields[0]):
            continue
        if any(_number(f, separator) for f in fields):
            continue
        rows = [[f.strip().strip('"') for f in row.split(separator)] for row in lines[i + 1 : i + 3]]
        if all(len(row) == len(fields) and all(_number(f, separator) for f in row) for row in rows):
            return ", ".join(fields)
    return None


def refuse_single_export(path: Path, header: str) -> DatasetError:
    """The one line for a handheld export given alone as a dataset (what it is, what to do)."""
    try:
        import nirs4all_formats  # noqa: F401
    except ImportError:
        todo = f"; {INSTALL_HINT}, then put such files in a folder and pass --reference"
    else:
        todo = "; put such files in a folder and pass it as --dataset with --reference"
    return DatasetError(
        f"'{path}' is one spectrum as a handheld scanner exports it (a '{header}' table, "
        f"one row per wavelength), without a target{todo} REF.csv naming each file and its target(s)"
    )


def _number(text: str, separator: str) -> bool:
    if separator != "," and text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # decimal comma
    try:
        float(text)
    except ValueError:
        return False
    return True
