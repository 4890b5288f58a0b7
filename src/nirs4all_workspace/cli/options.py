"""Options shared by every command."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder (default: $NIRS4ALL_WORKSPACE, else ./workspace).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Only show what would be done.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w``... (or a bare ``0``) as a timedelta; InputError otherwise."""
    if (text or "").strip() == "0":  # no unit needed for nothing: `gc --min-age 0`
        return timedelta(0)
    match = _DURATION.match(text or "")
    if not match:
        raise InputError(f"age {text!r} is not a duration like 30d, 12h, 2w or 90m")
    try:
        age = timedelta(**{_UNITS[match[2]]: float(match[1])})
        datetime.now(UTC) - age  # the cutoff must be a date too
    except (OverflowError, ValueError):
        raise InputError(f"age {text!r} reaches back before year 1; give a smaller one, e.g. 3650d") from None
    return age
