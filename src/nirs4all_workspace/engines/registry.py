"""Finding engines by name: the built-in ones and those of installed packages."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from ..errors import InputError

ENTRY_POINT_GROUP = "nirs4all_workspace.engines"
_BUILTIN = {
    "sklearn": "nirs4all_workspace.engines.sklearn:SklearnEngine",
    "signals": "nirs4all_workspace.engines.signals:SignalsEngine",
}


def available_engines() -> dict[str, str]:
    """Engine name -> ``module:object`` for every engine that can be loaded."""
    found = dict(_BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.value
    return found


def get_engine(name: str = "sklearn", **options: Any) -> Any:
    """Instantiate the engine registered as ``name``.

    Raises :class:`InputError` naming the installed engines when ``name`` is unknown.
    """
    engines = available_engines()
    target = engines.get(name)
    if target is None:
        raise InputError(f"no engine named {name!r}; installed engines: {', '.join(sorted(engines))}")
    module_name, _, attr = target.partition(":")
    factory = getattr(import_module(module_name), attr)
    return factory(**options)
