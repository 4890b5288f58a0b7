"""Which separator a CSV uses, and header cells written with a decimal comma.

Spreadsheets in decimal-comma locales export ``1100,5;1101,0;...;protein`` then
``0,5012;0,5031;...``: the header alone has as many commas as semicolons, so
counting on the first line picks ``,`` and splits ``1100,5`` into two columns.
The data line settles it: the separator is the one found as often on both lines.
"""

from __future__ import annotations

SEPARATORS = (",", ";", "\t")


def detect_separator(first: str, second: str) -> str:
    """The separator of a CSV from its first two lines (the most frequent one on the header,
    unless only another one splits the header and the data line into the same number of fields).
    """
    counts = {sep: first.count(sep) for sep in SEPARATORS}
    chosen = max(SEPARATORS, key=counts.__getitem__)
    if not second.strip() or second.count(chosen) == counts[chosen]:
        return chosen
    consistent = [sep for sep in SEPARATORS if counts[sep] and second.count(sep) == counts[sep]]
    return consistent[0] if len(consistent) == 1 else chosen


def decimal_comma_names(columns: list[str]) -> dict[str, str]:
    """Renames for header cells that are decimal-comma numbers (``1100,5`` -> ``1100.5``).

    Only when the dotted name is not already a column, so no two columns get one name.
    """
    renames = {}
    for name in columns:
        text = name.strip()
        dotted = text.replace(",", ".")
        if "," in text and text.count(",") == 1 and "." not in text and _is_float(dotted):
            renames[name] = dotted
    taken = set(columns) - set(renames)
    if len(set(renames.values())) != len(renames) or taken & set(renames.values()):
        return {}
    return renames


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
