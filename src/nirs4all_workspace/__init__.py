"""nirs4all-workspace: machine-learning experiment results kept on disk, browsable and queryable.

The three areas are :mod:`~nirs4all_workspace.workspace` (runs, manifests,
binaries), :mod:`~nirs4all_workspace.catalog` (split Parquet predictions) and
:mod:`~nirs4all_workspace.library` (reusable and trained pipelines); engines
plug in through :mod:`~nirs4all_workspace.engines`. Heavy dependencies are
imported by the modules that need them, never here.
"""

from typing import Any

from .version import __version__

__all__ = ["Workspace", "__version__", "resolve_root"]


def __getattr__(name: str) -> Any:
    """``Workspace`` and ``resolve_root`` on first use (PEP 562): the package import stays light."""
    if name in ("Workspace", "resolve_root"):
        from . import facade

        return getattr(facade, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
