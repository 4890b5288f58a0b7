"""The workspace on disk: layout, identity, fitted objects and the pipeline writer."""

from .artifacts import ArtifactRef, ArtifactStore, SerializedArtifact, serialize
from .best import BestResult, BestTracker
from .layout import PipelinePaths, WorkspaceLayout, validate_name
from .manifest import ManifestManager, PipelineHandle
from .saver import SavedPipeline, SimulationSaver
from .sessions import SessionLog, SessionSummary
from .workspace import Workspace, resolve_root

__all__ = [
    "ArtifactRef",
    "ArtifactStore",
    "BestResult",
    "BestTracker",
    "ManifestManager",
    "PipelineHandle",
    "PipelinePaths",
    "SavedPipeline",
    "SerializedArtifact",
    "SessionLog",
    "SessionSummary",
    "SimulationSaver",
    "Workspace",
    "WorkspaceLayout",
    "resolve_root",
    "serialize",
    "validate_name",
]
