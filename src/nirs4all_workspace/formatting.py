"""How a value reads in a table: shared by the CLI's tables and the HTML reports."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any


def format_value(value: Any) -> str:
    """A cell's text: 4 significant digits, empty for missing or not finite."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)
