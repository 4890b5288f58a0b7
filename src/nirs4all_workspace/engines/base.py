"""The plug-in interface between engines and the workspace.

An engine expands a configuration into concrete pipeline variants and executes
one variant on a dataset. It never writes files: it returns a
:class:`PipelineResult` and the workspace (``ManifestManager``,
``SimulationSaver``, ``Predictions``) does all the storing.

Third-party engines register an object factory under the entry-point group
``nirs4all_workspace.engines`` (see :mod:`nirs4all_workspace.engines.registry`).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:  # numpy is not needed to read the catalog: keep the CLI start-up light
    import numpy as np

Partition = Literal["train", "val", "test"]
Status = Literal["completed", "failed"]

@dataclass
class PipelineSpec:
    """One concrete variant of a configuration, ready to execute.

    ``config`` holds concrete values only (no generators); the workspace hashes
    its canonical JSON for the pipeline's identity. ``params`` is the flat view
    of the values that vary in the grid (``"model.n_components": 8``), used for
    catalog columns and reports.
    """

    config: dict[str, Any]
    name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    preprocessing: str = ""
    index: int = 0


@dataclass
class PredictionBlock:
    """Predictions of one partition (and fold) with their scores.

    ``fold`` is ``None`` for a whole partition: the final model's train and
    test predictions, or the out-of-fold validation predictions of all folds.
    """

    partition: Partition
    y_true: np.ndarray
    y_pred: np.ndarray
    sample_ids: np.ndarray
    metrics: dict[str, float]
    fold: int | None = None


@dataclass
class FittedStep:
    """A fitted object of the final model, by its position in the pipeline."""

    step: int
    operator: str
    obj: Any


@dataclass
class PipelineResult:
    """What executing one pipeline produced.

    ``metrics`` maps a partition to its scores (``{"val": {"rmse": 0.4}}``);
    ``folds`` lists the validation scores of each cross-validation fold.
    ``figures`` maps a file name (``"pred_vs_true.png"``) to its bytes.
    ``files`` maps a file name (``"trades.parquet"``) to bytes the workspace
    writes into the pipeline folder; ``dataset_files`` maps ``_<folder>/<name>``
    (``"_classifiers/vol_30_a1b2.parquet"``) to bytes shared by the pipelines of
    a dataset, written once under ``runs/<dataset>/`` (content-addressed names:
    an existing file is kept). Names are validated by the workspace.
    """

    status: Status
    task: str
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    folds: list[dict[str, float]] = field(default_factory=list)
    predictions: list[PredictionBlock] = field(default_factory=list)
    fitted: list[FittedStep] = field(default_factory=list)
    figures: dict[str, bytes] = field(default_factory=dict)
    classes: list[Any] | None = None
    duration_s: float = 0.0
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    dataset_files: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def failure(cls, exc: BaseException, task: str = "unknown", duration_s: float = 0.0) -> PipelineResult:
        """A failed result carrying the exception's traceback for ``error.log``."""
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(status="failed", task=task, error=text, duration_s=duration_s)


@dataclass(frozen=True)
class StoredPipeline:
    """A finished pipeline as stored, handed to an engine's optional ``summarize``.

    ``record`` is its ``pipeline.json``; ``read(name)`` returns the bytes of one
    of its files (``"trades.parquet"``), so the engine reads through the
    workspace and never opens paths itself.
    """

    record: dict[str, Any]
    read: Callable[[str], bytes]


@dataclass
class ReportSection:
    """A section an engine adds to the session report of its best pipeline (declared in
    ``EngineDeclaration.figures["session"]``): figures (file name -> PNG bytes, also
    written to the pipeline's ``outputs/``) with their captions, and an optional table.
    """

    title: str
    section_id: str
    figures: dict[str, bytes] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""


@runtime_checkable
class DatasetLike(Protocol):
    """What the workspace needs to know of an engine's dataset."""

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
