"""nirs4all-workspace: machine-learning experiment results kept on disk, browsable and queryable.

The three areas are :mod:`~nirs4all_workspace.workspace` (runs, manifests,
binaries), :mod:`~nirs4all_workspace.catalog` (split Parquet predictions) and
:mod:`~nirs4all_workspace.library` (reusable and trained pipelines); engines
plug in through :mod:`~nirs4all_workspace.engines`. Heavy dependencies are
imported by the modules that need them, never here.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
