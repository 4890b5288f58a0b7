"""Metric directions and default metrics, asked of the engines recorded on catalog rows.

Each catalog row names the engine that produced it (column ``engine``); its
:class:`~nirs4all_workspace.engines.declaration.EngineDeclaration` says which way
each metric is better and which metric ranks each task. Only declarations are
imported (no engine, no numpy). An engine that is not installed is named in the
error: its directions are unknown, and nothing guesses them.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..engines.declaration import GENERIC_WORDS, EngineDeclaration

__all__ = ["GENERIC_WORDS", "default_metric_of", "direction_of", "words_for"]
from ..engines.registry import engine_entries, find_declaration
from ..errors import InputError


def _declarations(engines: Iterable[str] | None) -> tuple[list[EngineDeclaration], list[str]]:
    """(declarations found, names of engines not installed); every installed engine when None."""
    names = list(engine_entries()) if engines is None else sorted({e for e in engines if e})
    found, missing = [], []
    for name in names:
        declaration = find_declaration(name)
        if declaration is None:
            missing.append(name)
        else:
            found.append(declaration)
    return found, missing


def _not_installed(missing: list[str]) -> str:
    quoted = ", ".join(f"'{m}'" for m in missing)
    verb = "is" if len(missing) == 1 else "are"
    return f"engine {quoted} {verb} not installed (nirs4all engines lists those that are)"


def direction_of(metric: str, engines: Iterable[str] | None = None) -> str:
    """``min`` or ``max`` for ``metric`` as the given engines (default: all installed) declare it.

    InputError when no engine declares it (naming an engine that is not installed,
    if one is the reason) or when two engines declare opposite directions.
    """
    found, missing = _declarations(engines)
    directions = {d.metrics[metric] for d in found if metric in d.metrics}
    if len(directions) == 1:
        return directions.pop()
    if len(directions) > 1:
        by = ", ".join(f"{d.name}: {d.metrics[metric]}" for d in found if metric in d.metrics)
        raise InputError(f"engines disagree on the direction of metric {metric!r} ({by}); rank one dataset")
    if missing:
        raise InputError(f"the direction of metric {metric!r} is unknown: {_not_installed(missing)}")
    known = sorted({m for d in found for m in d.metrics})
    raise InputError(f"unknown metric {metric!r}; known metrics: {', '.join(known)}")


def default_metric_of(engines: Iterable[str], tasks: Iterable[str], where: str) -> str:
    """The metric that ranks rows of these engines and tasks by default.

    InputError naming ``where`` (e.g. "dataset 'wheat'") when the engines are not
    installed or their rows would rank by different metrics.
    """
    found, missing = _declarations(engines)
    if missing:
        raise InputError(
            f"{where}: {_not_installed(missing)}, so its default metric is unknown; give --metric"
        )
    tasks = sorted({t for t in tasks if t})
    metrics = {d.default_metric(t)[0] for d in found for t in (tasks or d.tasks[:1]) if t in d.tasks} or {
        d.default_metric()[0] for d in found
    }
    if len(metrics) == 1:
        return metrics.pop()
    if not metrics:
        raise InputError(f"{where} has no prediction yet; give --metric")
    raise InputError(f"{where} mixes tasks ranked by {', '.join(sorted(metrics))}; give --metric")


def words_for(engines: Iterable[str]) -> dict[str, str]:
    """Column -> word for rows of these engines: the engine's own words when there is one
    (``model`` -> ``strategy``), the generic ones for a mix or an engine not installed."""
    found, missing = _declarations(engines)
    if len(found) == 1 and not missing:
        return {c: found[0].word(c) for c in GENERIC_WORDS}
    return dict(GENERIC_WORDS)
