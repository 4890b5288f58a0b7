"""Engines expand configurations into pipelines and execute them (no file I/O)."""

from .base import (
    METRIC_DIRECTIONS,
    DatasetLike,
    Engine,
    FittedStep,
    PipelineResult,
    PipelineSpec,
    PredictionBlock,
)
from .registry import available_engines, get_engine

__all__ = [
    "METRIC_DIRECTIONS",
    "DatasetLike",
    "Engine",
    "FittedStep",
    "PipelineResult",
    "PipelineSpec",
    "PredictionBlock",
    "available_engines",
    "get_engine",
]
