"""Finding engines by name: the built-in ones and those of installed packages.

Built-in engines are the sub-packages of ``nirs4all_workspace.engines`` that
have a ``declaration`` module (found without importing the engines); installed
ones are entry points of the group ``nirs4all_workspace.engines``, naming either
an :class:`EngineDeclaration` (light: the catalog can read it) or the engine's
class or factory (then it is imported to learn its declaration). No name of an
engine is written here: the default engine of ``nirs4all run`` is the one whose
declaration says ``default=True``.
"""

from __future__ import annotations

import pkgutil
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ..errors import InputError
from .declaration import EngineDeclaration, declaration_of_engine, load_object

ENTRY_POINT_GROUP = "nirs4all_workspace.engines"
_DECLARATION_MODULE = "declaration"
# Engines registered in this process (name -> module:object), after the installed ones: for
# tests and embedding applications; installed packages use the entry point group.
_BUILTIN: dict[str, str] = {}


@dataclass(frozen=True)
class EngineEntry:
    """Where an engine comes from: ``module:object`` and the distribution that installed it."""

    name: str
    target: str
    distribution: str | None = None


def _builtin_entries() -> dict[str, EngineEntry]:
    here = Path(__file__).parent
    found = {}
    for info in pkgutil.iter_modules([str(here)]):
        if not info.ispkg or not (here / info.name / f"{_DECLARATION_MODULE}.py").is_file():
            continue
        module = f"{__package__}.{info.name}.{_DECLARATION_MODULE}"
        found[info.name] = EngineEntry(info.name, f"{module}:DECLARATION", None)
    return found


def engine_entries() -> dict[str, EngineEntry]:
    """Engine name -> its entry, built-in engines first, then installed packages in order."""
    found = _builtin_entries()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found and ep.value.startswith(f"{__package__}."):
            continue  # a built-in engine registered by this package: its declaration is already known
        dist = getattr(ep, "dist", None)
        found[ep.name] = EngineEntry(ep.name, ep.value, dist.name if dist is not None else None)
    for name, target in _BUILTIN.items():
        found[name] = EngineEntry(name, target, None)
    return found


def available_engines() -> dict[str, str]:
    """Engine name -> ``module:object`` for every engine that can be loaded."""
    return {name: entry.target for name, entry in engine_entries().items()}


@cache
def _declaration(target: str) -> EngineDeclaration:
    obj = load_object(target)
    if isinstance(obj, EngineDeclaration):
        return obj
    return declaration_of_engine(obj(), factory=target)


def find_declaration(name: str | None) -> EngineDeclaration | None:
    """The declaration of the engine registered as ``name``; None when it is not installed."""
    entry = engine_entries().get(name or "")
    if entry is None:
        return None
    return _declaration(entry.target)


def get_declaration(name: str) -> EngineDeclaration:
    """Like :func:`find_declaration`; InputError naming the installed engines when unknown."""
    declaration = find_declaration(name)
    if declaration is None:
        raise InputError(
            f"no engine named {name!r}; installed engines: {', '.join(sorted(engine_entries()))}"
        )
    return declaration


def default_engine_name() -> str:
    """The engine ``nirs4all run`` uses when none is named: the one declared default, else the first."""
    entries = engine_entries()
    if not entries:
        raise InputError("no engine is installed")
    for name in entries:
        if find_declaration(name).default:  # type: ignore[union-attr]
            return name
    return next(iter(entries))


def get_engine(name: str | None = None, **options: Any) -> Any:
    """Instantiate the engine registered as ``name`` (the default engine when None).

    Raises :class:`InputError` naming the installed engines when ``name`` is unknown.
    """
    declaration = get_declaration(name or default_engine_name())
    return declaration.load(**options)


def package_of(name: str) -> tuple[str, str | None]:
    """(distribution, version) that provides engine ``name``."""
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    entry = engine_entries()[name]
    dist = entry.distribution
    if dist is None:
        top = entry.target.split(".", 1)[0].split(":", 1)[0]
        dist = (packages_distributions().get(top) or [top])[0]
    try:
        return dist, version(dist)
    except PackageNotFoundError:
        return dist, None


def describe_engines() -> list[dict[str, Any]]:
    """What ``nirs4all engines --json`` prints: per engine its package, version and declaration.

    An engine whose declaration cannot be loaded is listed with its ``error``.
    """
    described = []
    for name in engine_entries():
        package, version = package_of(name)
        base = {"name": name, "package": package, "version": version}
        try:
            declaration = find_declaration(name)
        except Exception as exc:
            described.append({**base, "error": f"{type(exc).__name__}: {exc}"})
            continue
        described.append({**declaration.to_json(), **base})  # type: ignore[union-attr]
    return described


__all__ = [
    "ENTRY_POINT_GROUP",
    "EngineEntry",
    "available_engines",
    "default_engine_name",
    "describe_engines",
    "find_declaration",
    "get_declaration",
    "get_engine",
    "package_of",
]
