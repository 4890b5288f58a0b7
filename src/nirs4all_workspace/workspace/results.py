"""What an engine returns and what the workspace stores: the value objects of one pipeline.

They sit on the lowest floor so that the writer (``saver``) and the catalog can
take an engine's results without importing the engines layer; the plug-in
interface (:mod:`nirs4all_workspace.engines.base`) re-exports them.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

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
    # The text of predictions.csv when rendered where the pipeline ran (a worker's core, not the
    # writing process's: parallel.execute_group_and_serialize); None: the saver renders it.
    predictions_csv: str | None = None

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


@dataclass(frozen=True)
class DatasetIdentity:
    """What a dataset's scores measure, as its engine defines it.

    ``target``, ``task`` and ``slice`` name the *question* (a target column, or
    for price bars a symbol and a range of bars): a dataset folder answers one
    question, and the workspace refuses a run that asks another under the same
    name. ``digest`` is a SHA-256 of the data as loaded (the *data version*):
    changed content of the same question is a new version. ``source`` is where
    it was read from (recorded, not compared: a file may move). The workspace
    compares these fields; it never interprets them.
    """

    source: str
    target: str | None = None
    task: str | None = None
    digest: str | None = None
    slice: str | None = None

    def question(self) -> dict[str, str | None]:
        """The fields that must match for two runs to share a dataset folder."""
        return {"target": self.target, "task": self.task, "slice": self.slice}

    def to_dict(self) -> dict[str, str | None]:
        return {
            "source": self.source,
            "target": self.target,
            "task": self.task,
            "digest": self.digest,
            "slice": self.slice,
        }
