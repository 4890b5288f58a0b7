"""The Workspace: one root folder, its storage primitives and its catalog.

It sits above both floors it opens (:mod:`~nirs4all_workspace.workspace` and
:mod:`~nirs4all_workspace.catalog`), so neither imports it.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, IntegrityError
from .version import __version__
from .workspace.artifacts import ArtifactStore
from .workspace.atomic import atomic_write_json
from .workspace.best import BestTracker
from .workspace.layout import FORMAT_VERSION, WorkspaceLayout
from .workspace.manifest import ManifestManager, utc_now
from .workspace.sessions import SessionLog

if TYPE_CHECKING:
    from .catalog.predictions import Predictions
    from .workspace.saver import SimulationSaver

ENV_VAR = "NIRS4ALL_WORKSPACE"


def resolve_root(path: str | Path | None = None) -> Path:
    """``path``, else ``$NIRS4ALL_WORKSPACE``, else ``./workspace``."""
    chosen = path or os.environ.get(ENV_VAR) or "workspace"
    return Path(chosen).expanduser().absolute()


class Workspace:
    """Entry point of the library: ``Workspace.open(path)`` then use its components."""

    def __init__(self, root: str | Path) -> None:
        self.layout = WorkspaceLayout(root)
        self.manifests = ManifestManager(self.layout)
        self.artifacts = ArtifactStore(self.layout)
        self.best = BestTracker(self.layout, self.manifests)
        self.sessions = SessionLog(self.layout)

    @property
    def root(self) -> Path:
        return self.layout.root

    @cached_property
    def saver(self) -> SimulationSaver:
        """The pipeline writer (imported on first use: read-only commands never need it)."""
        from .workspace.saver import SimulationSaver

        return SimulationSaver(self.layout, self.manifests, self.artifacts)

    @cached_property
    def predictions(self) -> Predictions:
        from .catalog.predictions import Predictions

        return Predictions(self.layout)

    @classmethod
    def open(cls, root: str | Path | None = None, create: bool = True) -> Workspace:
        """Open the workspace at ``root`` (see :func:`resolve_root`), creating it if asked.

        Raises InputError if the path is a file or holds a newer format.
        """
        workspace = cls(resolve_root(root))
        marker = workspace.layout.workspace_json
        if workspace.root.exists() and not workspace.root.is_dir():
            raise InputError(f"workspace path {workspace.root} is a file, not a folder")
        if marker.exists():
            workspace._check_format(marker)
        elif create:
            workspace.root.mkdir(parents=True, exist_ok=True)
            atomic_write_json(
                marker,
                {"format_version": FORMAT_VERSION, "created_at": utc_now(), "tool_version": __version__},
            )
        elif not workspace.root.is_dir():
            raise InputError(f"no workspace at {workspace.root}; run 'nirs4all run' to create one")
        return workspace

    @staticmethod
    def _check_format(marker: Path) -> None:
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise IntegrityError(f"{marker} is corrupt ({exc})") from None
        version = int(info.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise InputError(
                f"workspace {marker.parent} has format {version}, newer than this tool's "
                f"{FORMAT_VERSION}; upgrade nirs4all-workspace"
            )

    def datasets(self) -> list[str]:
        return self.manifests.datasets()
