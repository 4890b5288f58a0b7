"""The plug-in interface between engines and the workspace.

An engine expands a configuration into concrete pipeline variants and executes
one variant on a dataset. It never writes files: it returns a
:class:`PipelineResult` and the workspace (``ManifestManager``,
``SimulationSaver``, ``Predictions``) does all the storing.

Third-party engines register an object factory under the entry-point group
``nirs4all_workspace.engines`` (see :mod:`nirs4all_workspace.engines.registry`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..workspace.results import (
    DatasetIdentity,
    FittedStep,
    Partition,
    PipelineResult,
    PipelineSpec,
    PredictionBlock,
    Status,
    StoredPipeline,
)

__all__ = [
    "DatasetIdentity",
    "DatasetLike",
    "Engine",
    "FittedStep",
    "Partition",
    "PipelineResult",
    "PipelineSpec",
    "PredictionBlock",
    "ReportSection",
    "Status",
    "StoredPipeline",
]

@dataclass
class ReportSection:
    """A section an engine adds to the session report of its best pipeline (declared in
    ``EngineDeclaration.figures["session"]``): figures (file name -> a ``reports.svg.Chart``
    that the core draws, inline SVG in the page and PNG in the pipeline's ``outputs/`` when
    asked; or PNG bytes the engine drew itself) with their captions, and an optional table.
    """

    title: str
    section_id: str
    figures: dict[str, Any] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""


@runtime_checkable
class DatasetLike(Protocol):
    """What the workspace needs to know of an engine's dataset.

    A dataset may also expose ``identity`` (a :class:`DatasetIdentity`); without
    it the workspace derives one from ``source``, ``target_name``, ``task`` and a
    digest of the arrays it finds (see ``workspace.dataset_info.identity_of``).
    """

    name: str
    source: str

    @property
    def n_samples(self) -> int: ...

    @property
    def n_features(self) -> int: ...


@runtime_checkable
class Engine(Protocol):
    """An engine: ``expand`` a configuration, ``execute`` one variant.

    ``load_dataset``, ``demo_dataset`` and ``default_config`` (the grid used when
    the user gives none, for a dataset's task) let the generic ``nirs4all run``
    work with any engine; ``default_metric`` names the score
    that decides the best pipeline for a task (e.g. ``("rmse", "min")``).
    ``nirs4all run`` calls ``load_dataset(path, target=..., task=...)`` (options the
    user left out are None) and ``default_config(task=...)`` with the dataset's
    ``task`` (else the engine's first declared task): see docs/engines.md.
    """

    name: str

    def expand(self, config: Mapping[str, Any]) -> list[PipelineSpec]: ...

    def execute(self, spec: PipelineSpec, dataset: Any) -> PipelineResult: ...

    def load_dataset(self, source: Path, **options: Any) -> DatasetLike: ...

    def demo_dataset(self) -> DatasetLike: ...

    def default_config(self, task: str) -> dict[str, Any]: ...

    def default_metric(self, task: str) -> tuple[str, str]: ...


def execute_group(engine: Any, specs: list[PipelineSpec], dataset: Any) -> list[PipelineResult]:
    """Execute specs the engine groups together (optional ``group_key``/``execute_group``).

    An engine may declare ``group_key(spec)`` (consecutive specs with equal keys
    run together) and ``execute_group(specs, dataset) -> list[PipelineResult]``
    (one result per spec, in order), e.g. to share work between variants. The
    default executes each spec; exceptions propagate.
    """
    run = getattr(engine, "execute_group", None)
    if callable(run) and len(specs) > 1:
        return list(run(specs, dataset))
    return [engine.execute(spec, dataset) for spec in specs]


def group_specs(engine: Any, specs: list[PipelineSpec]) -> list[list[PipelineSpec]]:
    """Consecutive specs with equal ``engine.group_key`` (one spec per group without it), in order."""
    key = getattr(engine, "group_key", None)
    groups: list[list[PipelineSpec]] = []
    last: Any = object()
    for spec in specs:
        current = key(spec) if callable(key) else object()
        if groups and current == last:
            groups[-1].append(spec)
        else:
            groups.append([spec])
        last = current
    return groups
