"""``catalog query``: SQL over the catalog's own tables, and nothing else.

Two tables, from one generation of the catalog: ``predictions`` (one row per
pipeline and partition: the whole out-of-fold validation block, train, test,
and the one row of a failed pipeline) and ``folds`` (one row per fold of a
cross-validated partition). polars SQL can read any file or URL through its
table functions (``read_csv``, ``read_parquet``, ``read_ipc``, ``read_json``);
those, any other function used as a table, and URLs are refused before the
query runs, so a query never reads anything but the catalog.
"""

from __future__ import annotations

import re

import polars as pl

from ..errors import InputError

TABLES = ("predictions", "folds")
# Strings, quoted identifiers and comments, so that words inside them are not taken for SQL.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
_FILE_FUNCTION = re.compile(r"\b(read_\w*|scan_\w*)\s*\(", re.IGNORECASE)
_TABLE_FUNCTION = re.compile(r"\b(?:from|join)\s*,?\s*([A-Za-z_]\w*)\s*\(", re.IGNORECASE)
_URL = re.compile(r"^'\s*[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_COUNT_STAR = re.compile(r"\bcount\s*\(\s*\*\s*\)", re.IGNORECASE)
_LEN = re.compile(r"\blen\b", re.IGNORECASE)
_WRITING = re.compile(
    r"^[\s(]*(drop|create|insert|update|delete|truncate|alter|replace|merge)\b", re.IGNORECASE
)


def _code(sql: str) -> tuple[str, list[str]]:
    """The SQL with strings and comments blanked out, and its string literals."""
    literals: list[str] = []

    def blank(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith("'"):
            literals.append(text)
            return "''"
        if text.startswith('"'):  # a quoted name: kept as a bare word, so "read_csv"(...) is seen
            return " " + re.sub(r"\W", "_", text[1:-1]) + " "
        return " "

    return _TOKEN.sub(blank, sql), literals


def check_sql(sql: str) -> None:
    """InputError if ``sql`` would read anything but the catalog's tables, or is not a reading statement."""
    code, literals = _code(sql)
    refused = _FILE_FUNCTION.search(code) or _TABLE_FUNCTION.search(code)
    if refused:
        raise InputError(
            f"catalog query refuses {refused.group(1)}(...): it reads only the tables "
            f"{' and '.join(TABLES)}, never files or URLs"
        )
    for literal in literals:
        if _URL.match(literal):
            raise InputError(
                f"catalog query refuses the URL {literal[:60]}: it reads only the tables "
                f"{' and '.join(TABLES)}, never files or URLs"
            )
    writing = _WRITING.match(code)
    if writing:  # polars would apply it to its in-memory copy and print nothing: a false success
        raise InputError(
            f"catalog query is read-only: {writing.group(1).upper()} changes nothing in the catalog; "
            "give a SELECT (or WITH ... SELECT, SHOW TABLES)"
        )


def run_query(meta: pl.LazyFrame, sql: str) -> pl.DataFrame:
    """Run checked polars SQL over ``predictions`` and ``folds`` (both from ``meta``).

    ``count(*)`` comes back named ``count`` (polars names it ``len``).
    Raises InputError for refused or bad SQL; polars errors propagate to the caller.
    """
    check_sql(sql)
    context = pl.SQLContext(
        {
            "predictions": meta.filter(pl.col("fold").is_null()),
            "folds": meta.filter(pl.col("fold").is_not_null()),
        },
        eager=False,
    )
    frame = context.execute(sql).collect()
    code, _ = _code(sql)
    if (
        "len" in frame.columns
        and "count" not in frame.columns
        and _COUNT_STAR.search(code)
        and not _LEN.search(_COUNT_STAR.sub(" ", code))
    ):
        frame = frame.rename({"len": "count"})
    return frame
