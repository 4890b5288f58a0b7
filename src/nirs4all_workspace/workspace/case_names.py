"""Dataset names that differ only by case: one folder on macOS and Windows, two on Linux.

``runs/Base`` and ``runs/base`` are the same folder on a case-insensitive file
system, so a run on ``Base`` would mix its scores into ``base`` there and split
them apart elsewhere. Such a name is refused everywhere, the same way.
"""

from __future__ import annotations

from ..errors import InvalidNameError
from .layout import WorkspaceLayout


def case_twin(layout: WorkspaceLayout, name: str) -> str | None:
    """The existing dataset folder whose name equals ``name`` but for case, if any."""
    try:
        entries = [entry.name for entry in layout.runs_dir.iterdir() if entry.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return None
    if name in entries:
        return None
    folded = name.casefold()
    return next((entry for entry in sorted(entries) if entry.casefold() == folded), None)


def refuse_case_twin(layout: WorkspaceLayout, name: str) -> None:
    """InvalidNameError when dataset ``name`` differs only by case from an existing dataset."""
    twin = case_twin(layout, name)
    if twin is not None:
        raise InvalidNameError(
            f"dataset {name!r} differs only by case from the existing dataset {twin!r} "
            "(one folder on case-insensitive file systems); "
            f"use --name {twin} to add to it, or --name with another name"
        )
