"""Self-contained HTML pages: our one small template engine.

A report is one file that opens offline from a file manager: the style sheet
and the table-sorting script are inline, images are embedded as base64 PNG,
and links are relative (or ``#``), so a page makes no network request. The
look follows the CLI's rich tables: bold cyan headers, plain rows, numbers
right-aligned.

Everything user-provided goes through :func:`escape`; only :class:`Markup`
(built here) is inserted as it is.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

from ..formatting import format_value


class Markup(str):
    """Text that is already HTML (built by this module): inserted without escaping."""


def escape(value: Any) -> Markup:
    """``value`` as HTML text (``Markup`` is passed through)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def relative_href(target: Path, page: Path, folder: bool = False) -> str:
    """A relative, URL-quoted link from the page ``page`` to ``target`` (opens offline)."""
    relative = Path(os.path.relpath(Path(target).absolute(), Path(page).absolute().parent)).as_posix()
    return quote(relative) + ("/" if folder else "")


@dataclass(frozen=True)
class Link:
    """A table cell (or inline text) that links somewhere: relative paths or ``#anchors`` only."""

    href: str
    text: str
    title: str | None = None

    def html(self) -> Markup:
        return Markup(f"<a{_attributes(href=self.href, title=self.title)}>{escape(self.text)}</a>")


@dataclass(frozen=True)
class Column:
    """A table column; ``numeric`` columns are right-aligned and sort as numbers."""

    name: str
    numeric: bool = False
    title: str | None = None
    wrap: bool = False  # long text (errors) wraps; other cells stay on one line


def _attributes(**values: str | None) -> str:
    """`` name="value"`` pairs for the values that are set."""
    return "".join(f' {name}="{escape(value)}"' for name, value in values.items() if value is not None)


def _header(column: Column, sortable: bool) -> str:
    attributes = _attributes(
        **{"class": "num" if column.numeric else None},
        title=column.title,
        tabindex="0" if sortable else None,
    )
    return f"<th{attributes}>{escape(column.name)}</th>"


def _cell(value: Any, column: Column) -> str:
    wrap = _attributes(**{"class": "wrap" if column.wrap else None})
    if isinstance(value, Link):
        return f"<td{wrap}{_attributes(**{'data-sort': value.text})}>{value.html()}</td>"
    if isinstance(value, Markup):
        return f"<td{wrap}>{value}</td>"
    if column.numeric:
        raw = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        key = "" if raw is None or (isinstance(raw, float) and not math.isfinite(raw)) else repr(raw)
        return f'<td class="num" data-sort="{key}">{escape(format_value(value))}</td>'
    return f"<td{wrap}>{escape(format_value(value))}</td>"


def table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    table_id: str | None = None,
    sortable: bool = True,
    row_classes: Sequence[str] | None = None,
) -> Markup:
    """A ``<table>``; a sortable one sorts on a header click (numbers numerically)."""
    attributes = _attributes(**{"class": "sortable" if sortable else "plain"}, id=table_id)
    head = "".join(_header(c, sortable) for c in columns)
    body = []
    for index, row in enumerate(rows):
        row_attr = _attributes(**{"class": (row_classes[index] or None) if row_classes else None})
        cells = "".join(_cell(v, c) for v, c in zip(row, columns, strict=True))
        body.append(f"<tr{row_attr}>{cells}</tr>")
    return Markup(
        f'<div class="table-wrap"><table{attributes}>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def key_values(pairs: Iterable[tuple[str, Any]]) -> Markup:
    """A two-column table of labels and values (a summary)."""
    rows = []
    for label, value in pairs:
        shown = value.html() if isinstance(value, Link) else escape(format_value(value))
        rows.append(f"<tr><th>{escape(label)}</th><td>{shown}</td></tr>")
    return Markup(f'<table class="summary">{"".join(rows)}</table>')


def image(png: bytes, alt: str, caption: str | None = None) -> Markup:
    """A PNG embedded as a base64 ``data:`` URI, with an optional caption."""
    data = base64.b64encode(png).decode("ascii")
    text = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Markup(f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}">{text}</figure>')


def svg_figure(svg: str, caption: str | None = None) -> Markup:
    """An inline SVG figure (built by ``reports/svg.py``, which escapes its texts), with a caption."""
    text = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Markup(f"<figure>{svg}{text}</figure>")


def figures(items: Iterable[Markup]) -> Markup:
    """Images side by side, wrapping on narrow screens."""
    return Markup(f'<div class="figures">{"".join(items)}</div>')


def paragraph(text: Any, css: str | None = None) -> Markup:
    return Markup(f"<p{_attributes(**{'class': css})}>{escape(text)}</p>")


def section(title: str, *parts: Markup, section_id: str | None = None) -> Markup:
    return Markup(f"<section{_attributes(id=section_id)}><h2>{escape(title)}</h2>{''.join(parts)}</section>")


def pre(text: str) -> Markup:
    return Markup(f"<pre>{escape(text)}</pre>")


def json_data(value: Any, element_id: str) -> Markup:
    """``value`` as JSON in a ``<script type="application/json">`` a page's script reads.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``... (JSON.parse reads them back), so no
    string, such as an untrusted name holding ``</script>`` or ``<!--``, can end the element
    early. ValueError for a float that is not finite (strict JSON has none).
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for character, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(character, code)
    return Markup(f'<script type="application/json"{_attributes(id=element_id)}>{text}</script>')


STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 14px; line-height: 1.4; color: #1f2328; background: #fff;
  max-width: 1360px; margin: 0 auto; padding: 16px 24px 48px; }
header { border-bottom: 2px solid #007a7a; margin-bottom: 8px; }
h1 { font-size: 20px; margin: 4px 0; }
header p { margin: 2px 0 8px; color: #57606a; }
h2 { font-size: 16px; color: #007a7a; margin: 24px 0 8px; }
nav a { margin-right: 12px; }
a { color: #0550ae; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { font-weight: bold; color: #007a7a; text-align: left; white-space: nowrap;
  padding: 4px 10px; border-bottom: 2px solid #d0d7de; }
td { padding: 3px 10px; border-bottom: 1px solid #eaeef2; vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; min-width: 24em; }
.num { text-align: right; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th:hover { background: #f0fafa; }
table.sortable th[aria-sort=ascending]::after { content: " \\25B2"; }
table.sortable th[aria-sort=descending]::after { content: " \\25BC"; }
tbody tr:hover td { background: #f6f8fa; }
tr.best td { background: #e6f6f6; font-weight: bold; }
tr.current td { background: #e6f6f6; }
tr.failed td { color: #b42318; }
table.summary th { border: 0; padding: 2px 16px 2px 0; }
table.summary td { border: 0; padding: 2px 0; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
figure { margin: 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; display: block; }
figcaption { color: #57606a; font-size: 12px; margin-top: 2px; }
pre { background: #f6f8fa; padding: 6px 8px; white-space: pre-wrap; margin: 0; font-size: 12px; }
.note { color: #57606a; }
footer { margin-top: 32px; color: #57606a; font-size: 12px; }
"""

# Sorts a table.sortable on a header click (or Enter); numeric columns compare as
# numbers (cells carry the raw value in data-sort); empty cells go last.
SORT_SCRIPT = """
(function () {
  function key(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var value = cell.getAttribute("data-sort");
    return value === null ? cell.textContent.trim() : value;
  }
  function sortBy(table, th, index) {
    var numeric = th.classList.contains("num");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = key(r1, index), b = key(r2, index);
      if (a === "" || b === "") { return a === b ? 0 : (a === "" ? 1 : -1); }
      var d = numeric ? parseFloat(a) - parseFloat(b)
                      : a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
      return ascending ? d : -d;
    });
    for (var j = 0; j < rows.length; j++) { body.appendChild(rows[j]); }
  }
  var tables = document.querySelectorAll("table.sortable");
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var heads = table.tHead.rows[0].cells;
      for (var h = 0; h < heads.length; h++) {
        (function (th, index) {
          th.addEventListener("click", function () { sortBy(table, th, index); });
          th.addEventListener("keydown", function (event) {
            if (event.key === "Enter") { sortBy(table, th, index); }
          });
        })(heads[h], h);
      }
    })(tables[t]);
  }
})();
"""

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nirs4all-workspace">
<link rel="icon" href="data:,">
<title>$title</title>
<style>$style</style>
</head>
<body>
<header><h1>$title</h1><p>$subtitle</p>$nav</header>
$body
<footer>$footer</footer>
<script>$script</script>
</body>
</html>
""")


def page(
    title: str,
    subtitle: str,
    sections: Iterable[Markup],
    *,
    nav: Sequence[Link] = (),
    footer: str = "",
) -> str:
    """A whole HTML document: inline style and sorting script, no external resource."""
    nav_html = f"<nav>{''.join(link.html() for link in nav)}</nav>" if nav else ""
    return _PAGE.substitute(
        title=escape(title),
        subtitle=escape(subtitle),
        nav=nav_html,
        body="\n".join(sections),
        footer=escape(footer),
        style=STYLE,
        script=SORT_SCRIPT,
    )
