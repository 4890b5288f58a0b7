"""The catalog explorer: every pipeline in one table, filtered, sorted, ticked and compared in the page.

The global performance page and each dataset's history page carry an explorer:
one row per pipeline (dataset, number and folder, model, preprocessing, params,
the chosen metric on each partition, session, date, status), embedded as JSON
and driven by a small script (``explorer.js``, no library, no network): a text
filter, a range on the chosen metric, sortable columns, and ticks. Tick 2 to 10
pipelines and *compare* shows, in the page, the params that differ and the
scores side by side with the best of each row marked: the rules of
:mod:`nirs4all_workspace.comparison` (``nirs4all compare``), run in the browser
on the embedded rows so that any ticked pipelines can be compared.

Each metric's direction comes from the declarations of the engines on the rows
(embedded per engine, as ``direction_of`` reads them). Names are untrusted: the
JSON is escaped so that no string can end its ``<script>`` element, and the
script inserts every value as text.

A page stays usable for large catalogs: it embeds at most ``per_dataset`` rows
of each dataset (the best by its default metric, then the unscored ones) and
says how many it left out; the table draws at most :data:`SHOWN_ROWS` rows of
those that match the filter.
"""

from __future__ import annotations

import math
import shlex
from collections import Counter
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

from ..engines.registry import find_declaration
from ..formatting import format_value
from . import html
from .pipelines import PipelineRow

GLOBAL_ROWS_PER_DATASET = 100  # the global performance page
HISTORY_ROWS = 5000  # a dataset's history page
SHOWN_ROWS = 500  # rows drawn at once, of those matching the filter
KNOWN_PARTITIONS = ("train", "val", "test")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def ranked(rows: Sequence[PipelineRow], metric: str, partition: str, direction: str) -> list[PipelineRow]:
    """Completed rows with a score, best first (ties by number), then every other row by number."""
    scored = [r for r in rows if r.status == "completed" and r.score(metric, partition) is not None]
    ids = {r.pipeline_id for r in scored}
    sign = -1.0 if direction == "max" else 1.0
    scored.sort(key=lambda r: (sign * (r.score(metric, partition) or 0.0), r.number))
    rest = sorted((r for r in rows if r.pipeline_id not in ids), key=lambda r: r.number)
    return scored + rest


def _plain(value: Any) -> Any:
    """``value`` as strict JSON: a float that is not finite becomes its text ('nan', 'inf')."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def explorer_row(row: PipelineRow, href: str | None) -> dict[str, Any]:
    """One row as the page embeds it."""
    return {
        "id": row.pipeline_id,
        "reference": f"{row.dataset}/{row.folder}",
        "dataset": row.dataset,
        "number": row.number,
        "folder": row.folder,
        "href": href,
        "model": row.model,
        "preprocessing": row.preprocessing,
        "params": _plain(row.params),
        "scores": row.scores,  # finite values only (PipelineRow)
        "session": row.session,
        "date": format_value(row.created_at),
        "status": row.status,
        "engine": row.engine,
    }


def engine_directions(rows: Sequence[PipelineRow]) -> dict[str, dict[str, str]]:
    """Engine -> metric -> ``min``/``max``, for the installed engines named on the rows."""
    directions = {}
    for engine in sorted({r.engine for r in rows if r.engine}):
        declaration = find_declaration(engine)
        if declaration is not None:
            directions[engine] = dict(declaration.metrics)
    return directions


def partitions_of(rows: Sequence[PipelineRow]) -> list[str]:
    """train, val, test (those present), then the other partitions by name."""
    present = {p for r in rows for p in r.scores}
    return [p for p in KNOWN_PARTITIONS if p in present] + sorted(present - set(KNOWN_PARTITIONS))


def most_common(metrics: Sequence[str]) -> str | None:
    """The metric named most often (ties: the first by name)."""
    counts = Counter(metrics)
    return min(counts, key=lambda m: (-counts[m], m)) if counts else None


def explorer_section(
    rows: Sequence[PipelineRow],
    *,
    metric: str | None,
    href: Callable[[PipelineRow], str | None],
    partition: str = "val",
    note: str | None = None,
) -> html.Markup:
    """The explorer over ``rows`` (in the order given), the range filter on ``metric`` first.

    ``href`` gives the relative link to a row's folder (None: no link); ``note``
    says what was left out, if anything.
    """
    metrics = sorted({m for r in rows for scores in r.scores.values() for m in scores})
    partitions = partitions_of(rows) or list(KNOWN_PARTITIONS)
    data = {
        "rows": [explorer_row(r, href(r)) for r in rows],
        "metrics": metrics,
        "metric": metric if metric in metrics else (metrics[0] if metrics else ""),
        "partitions": partitions,
        "partition": partition if partition in partitions else partitions[0],
        "directions": engine_directions(rows),
        "show": SHOWN_ROWS,
    }
    script = _asset("explorer.js")
    if "</script" in script.lower():  # would end the element early
        raise ValueError("explorer.js must not contain '</script'")
    parts = [
        html.paragraph(
            "Filter by text (every word must match) and by a range of the chosen metric, sort on a "
            "column header, tick 2 to 10 pipelines and press compare.",
            "note",
        )
    ]
    if note:
        parts.append(html.Markup(f'<p class="note" id="explorer-left-out">{html.escape(note)}</p>'))
    parts += [
        html.Markup(f"<style>{_asset('explorer.css')}</style>"),
        html.Markup(_CONTROLS),
        html.Markup('<p class="note" id="explorer-shown"></p>'),
        html.Markup(
            '<div class="table-wrap"><table id="explorer-table" class="explorer">'
            "<thead><tr></tr></thead><tbody></tbody></table></div>"
            "<noscript><p>The explorer needs JavaScript.</p></noscript>"
        ),
        html.Markup('<section id="explorer-comparison" hidden></section>'),
        html.json_data(data, "explorer-data"),
        html.Markup(f"<script>{script}</script>"),
    ]
    return html.section(f"Explorer ({len(rows)} pipelines)", *parts, section_id="explorer")


_CONTROLS = """<div class="explorer-controls">
<label>text <input type="search" id="explorer-text" placeholder="dataset, model, param=value..."></label>
<label>metric <select id="explorer-metric"></select></label>
<label>on <select id="explorer-partition"></select></label>
<label>from <input type="number" step="any" id="explorer-min"></label>
<label>to <input type="number" step="any" id="explorer-max"></label>
<button type="button" id="explorer-compare" disabled>compare</button>
<button type="button" id="explorer-clear">untick all</button>
<span class="note" id="explorer-count"></span>
</div>"""


def catalog_explorer(
    datasets: Sequence[Any], per_dataset: int, href: Callable[[PipelineRow], str | None], criteria: str
) -> html.Markup:
    """The explorer of catalog pages: the best ``per_dataset`` pipelines of each dataset.

    ``datasets`` are the catalog reports' summaries (``name``, ``rows``, ``criterion``);
    ``criteria`` says how each task is ranked. A note says how many pipelines were left
    out and where to see them all: the history pages, or, on a history page (one
    dataset), the ``nirs4all catalog list`` command that lists them.
    """
    kept: list[PipelineRow] = []
    for d in datasets:
        c = d.criterion
        kept += ranked(d.rows, c.metric, c.partition, c.direction)[:per_dataset]
    total = sum(len(d.rows) for d in datasets)
    note = None
    if len(kept) < total and len(datasets) == 1:
        d = datasets[0]
        note = (
            f"{total - len(kept)} of {total} pipelines left out: this table holds the best "
            f"{per_dataset} by {d.criterion.label}. All of them: nirs4all catalog list "
            f"--dataset {shlex.quote(d.name)} --sort {d.criterion.metric} --top {total} --all-versions"
        )
    elif len(kept) < total:
        note = (
            f"{total - len(kept)} of {total} pipelines left out: this table holds the best "
            f"{per_dataset} of each dataset by its criterion ({criteria}); "
            "the history page of each dataset holds all of its pipelines."
        )
    # the range filter starts on the metric most rows are ranked by
    metric = most_common([d.criterion.metric for d in datasets for _ in d.rows])
    return explorer_section(kept, metric=metric, href=href, note=note)
