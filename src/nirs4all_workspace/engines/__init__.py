"""Engines expand configurations into pipelines and execute them (no file I/O)."""

from .base import (
    DatasetLike,
    Engine,
    FittedStep,
    PipelineResult,
    PipelineSpec,
    PredictionBlock,
)
from .declaration import EngineDeclaration
from .registry import available_engines, get_engine

__all__ = [
    "DatasetLike",
    "Engine",
    "EngineDeclaration",
    "FittedStep",
    "PipelineResult",
    "PipelineSpec",
    "PredictionBlock",
    "available_engines",
    "get_engine",
]
