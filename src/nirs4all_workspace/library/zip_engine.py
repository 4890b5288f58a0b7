"""The engine a zip was made by, asked for what predict, export or a re-run needs.

The library knows no engine: the zip records its engine's name, the registry
finds its declaration, and a capability the engine does not declare (or an
engine that is not installed) is refused with one clear line.
"""

from __future__ import annotations

from typing import Any

from ..engines.registry import default_engine_name, find_declaration
from ..errors import InputError

ACTIONS = {"predict": "predict", "rerun": "re-running its pipelines (run --from-zip)", "export": "export"}


def zip_engine(label: str, name: str | None, capability: str) -> Any:
    """The engine object that made zip ``label`` (older zips name none: the default engine).

    Raises InputError when it is not installed or does not declare ``capability``.
    """
    name = name or default_engine_name()
    declaration = find_declaration(name)
    if declaration is None:
        raise InputError(
            f"{label} was made by engine {name!r}, which is not installed "
            "(nirs4all engines lists those that are)"
        )
    if not declaration.supports(capability):
        raise InputError(f"{label} was made by engine {name!r}, which does not support {ACTIONS[capability]}")
    return declaration.load()
