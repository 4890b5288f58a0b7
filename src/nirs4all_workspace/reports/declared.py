"""What reports ask of the engine that produced a dataset: criterion, scores, words.

Reports know no engine: the ``engine`` recorded on the catalog rows names it,
and its declaration (imported alone, see ``engines/declaration.py``) answers.
An engine that is not installed leaves what only it knows unknown, and the
report says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engines.declaration import GENERIC_WORDS, EngineDeclaration
from ..engines.registry import find_declaration
from ..errors import InputError


def engine_of(rows: Sequence[Any]) -> str:
    """The engine recorded on the rows (the first one named)."""
    return next((r.engine for r in rows if getattr(r, "engine", "")), "")


def declaration_of(rows: Sequence[Any]) -> EngineDeclaration | None:
    return find_declaration(engine_of(rows)) if rows else None


def task_of(rows: Sequence[Any]) -> str:
    return next((r.task for r in rows if r.task), "")


def default_criterion_of(rows: Sequence[Any]) -> tuple[str, str]:
    """(metric, direction) the engine of ``rows`` ranks their task by; InputError when not installed."""
    declaration = declaration_of(rows)
    if declaration is None:
        name = engine_of(rows) or "unknown"
        dataset = rows[0].dataset if rows else "?"
        raise InputError(
            f"dataset {dataset!r} was produced by engine {name!r}, which is not installed: "
            "its metrics and their directions are unknown (nirs4all engines lists installed engines)"
        )
    return declaration.default_metric(task_of(rows) or None)


def direction_for(rows: Sequence[Any], metric: str) -> str | None:
    declaration = declaration_of(rows)
    return declaration.direction(metric) if declaration else None


def scores_shown(rows: Sequence[Any]) -> tuple[str, ...]:
    declaration = declaration_of(rows)
    return declaration.scores_shown(task_of(rows) or None) if declaration else ()


def comparable_of(rows: Sequence[Any]) -> str | None:
    declaration = declaration_of(rows)
    return declaration.comparable_metric(task_of(rows) or None) if declaration else None


def words_of(rows: Sequence[Any]) -> dict[str, str]:
    """Column -> the word the engine uses for it (``model`` -> ``strategy``)."""
    declaration = declaration_of(rows)
    return {c: declaration.word(c) if declaration else w for c, w in GENERIC_WORDS.items()}


def engine_sections(workspace: Any, rows: Sequence[Any], folder: str) -> list[Any] | None:
    """The report sections the engine declares for pipeline ``folder`` (``figures["session"]``);
    None when it declares none (the report draws its own figures of predictions).

    A section's figures are :class:`.svg.Chart` descriptions (the core draws them: SVG in the
    page, PNG in ``outputs/`` when asked) or, from an engine that draws its own, PNG bytes.
    """
    declaration = declaration_of(rows)
    if declaration is None or "session" not in declaration.figures:
        return None
    return declaration.figure_function("session")(workspace, rows[0].dataset, folder)


def figure_html(figure: Any, alt: str, caption: str | None) -> Any:
    """An engine's figure in the page: a :class:`.svg.Chart` inline, PNG bytes embedded."""
    from . import html, svg

    if isinstance(figure, svg.Chart):
        return html.svg_figure(svg.chart(figure), caption or alt)
    return html.image(figure, alt, caption)


def figure_png(figure: Any) -> bytes:
    """An engine's figure as PNG bytes for ``outputs/`` (a chart is drawn with matplotlib)."""
    from . import plots, svg

    return plots.chart_png(figure) if isinstance(figure, svg.Chart) else figure


def section_html(section: Any, images: bool) -> Any:
    """One engine section as HTML: its figures (when drawn) and its table."""
    from . import html

    parts = [html.paragraph(section.note, "note")] if section.note else []
    if images and section.figures:
        parts.append(
            html.figures(
                figure_html(figure, section.captions.get(n, n), section.captions.get(n))
                for n, figure in section.figures.items()
            )
        )
    if section.columns:
        numeric = [bool(section.rows) and isinstance(v, int | float) for v in (section.rows or [[]])[0]]
        columns = [
            html.Column(c, numeric=numeric[i] if i < len(numeric) else False)
            for i, c in enumerate(section.columns)
        ]
        parts.append(html.table(columns, section.rows, table_id=section.section_id))
    return html.section(section.title, *parts, section_id=section.section_id)
