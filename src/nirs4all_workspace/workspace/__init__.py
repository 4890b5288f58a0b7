"""The workspace on disk: layout, identity, fitted objects and the pipeline writer.

This is the lowest floor: it imports neither the catalog nor anything above it.
The ``Workspace`` that opens these components with the catalog is
:class:`nirs4all_workspace.Workspace`. Names are imported on first use (PEP 562),
so a read-only command never loads the writer's dependencies.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ArtifactRef": "artifacts",
    "ArtifactStore": "artifacts",
    "SerializedArtifact": "artifacts",
    "serialize": "artifacts",
    "BestResult": "best",
    "BestTracker": "best",
    "PipelinePaths": "layout",
    "WorkspaceLayout": "layout",
    "validate_name": "layout",
    "ManifestManager": "manifest",
    "PipelineHandle": "manifest",
    "SavedPipeline": "saver",
    "SimulationSaver": "saver",
    "SessionLog": "sessions",
    "SessionSummary": "sessions",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - names resolved by __getattr__


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
