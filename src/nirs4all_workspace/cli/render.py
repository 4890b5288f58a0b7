"""Rendering for the CLI: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..formatting import format_value

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides that reorder
# what a terminal shows: text from a zip or a file must not drive the terminal (ESC sequences, OSC titles).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str) -> str:
    """``text`` with its control characters shown as escapes (``\\x1b``), so printing it is inert.

    Tab and newline are kept. Every console of the CLI applies it to the strings
    it prints and :func:`table` to every cell, so text from a zip or a file
    (names, manifests, error messages quoting them) never reaches the terminal raw.
    """
    return _CONTROLS.sub(_escape_control, text)


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class SafeConsole(Console):
    """A rich console that makes every string it prints safe (:func:`safe_text`).

    Strings are printed as they are, not as rich markup (a dataset ``a[b]`` stays
    ``a[b]``); a caller that styles passes ``markup=True`` and escapes
    (:func:`rich.markup.escape`) every value it interpolates.
    """

    def print(self, *objects: Any, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        super().print(*(safe_text(o) if isinstance(o, str) else o for o in objects), **kwargs)


def console() -> Console:
    """Standard output; when it is not a terminal (a pipe, a log), wide enough not to wrap tables."""
    out = SafeConsole(soft_wrap=False)
    if not out.is_terminal:
        out = SafeConsole(soft_wrap=False, width=160)
    return out


def error_console() -> Console:
    return SafeConsole(stderr=True, soft_wrap=True, highlight=False)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(payload: Any) -> None:
    """Print JSON to standard output (no colours, no wrapping), for scripts."""
    text = json.dumps(payload, default=_plain, indent=2, allow_nan=False)
    print(text)  # noqa: T201 - plain stdout is the point: rich would wrap and colour it


def rows_json(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


format_cell = format_value  # one definition for the CLI and the reports


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A table in the CLI's one light style."""
    # Text, not str: rich would read a cell or a title like "a[b]" as markup.
    shown = Text(safe_text(title)) if title is not None else None
    result = Table(title=shown, header_style="bold cyan", title_justify="left", expand=False)
    for column in columns:
        numeric = column in {"#", "rmse", "mae", "r2", "rpd", "accuracy", "balanced_accuracy", "f1"}
        result.add_column(Text(safe_text(column)), justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        result.add_row(*(Text(safe_text(format_cell(v))) for v in row))
    return result


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def print_engine_output(output: Any, json_output: bool) -> None:
    """What an engine's analytics command returned (``EngineOutput``): its data as JSON (rows of a
    table made plain), or its lines and tables in order, in the engine's words."""
    if json_output:
        data = output.data
        if isinstance(data, list) and all(isinstance(row, dict) for row in data):
            data = rows_json(data)
        print_json(data)
        return
    out = console()
    for block in output.blocks:
        out.print(block if isinstance(block, str) else table(block.title, block.columns, block.rows))
