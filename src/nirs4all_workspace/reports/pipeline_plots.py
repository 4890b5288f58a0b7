"""The plots of one pipeline: inline SVG in the session report, PNG in its ``outputs/`` folder.

* ``pred_vs_true.png``: predicted against true values (validation out-of-fold
  and test), the 1:1 line and the scores (regression);
* ``residuals.png``: residuals against the predicted value (regression);
* ``confusion_matrix.png``: one matrix per partition (classification);
* ``coefficients.png``: the fitted model's coefficients over the wavelengths,
  for linear models such as PLS (needs the fitted model from ``_binaries/``).

They are drawn from the catalog's rows (in memory at the end of a run, or read
back from the catalog) so that a pipeline whose folder is gone can still be
drawn in a report. The same figures come as SVG (:mod:`.svg`, for the session
report, no matplotlib) or as PNG (:mod:`.plots`, for ``outputs/``, only when asked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..facade import Workspace
from ..workspace.artifacts import ArtifactRef
from ..workspace.atomic import atomic_write_bytes
from .pipelines import PartitionArrays

PLOT_FILES = ("pred_vs_true.png", "residuals.png", "confusion_matrix.png", "coefficients.png")
SHOWN_PARTITIONS = ("val", "test")  # train predictions of the refit model flatter it: not drawn
SCORE_NAMES = {"regression": ("rmse", "r2"), "classification": ("accuracy", "balanced_accuracy")}


@dataclass
class PipelinePlotInput:
    """What the plots of one pipeline are drawn from."""

    folder: str
    task: str
    classes: list[Any] | None
    arrays: dict[str, PartitionArrays]
    scores: dict[str, dict[str, float]]
    model: Any = None
    feature_names: Sequence[str] | None = None


def pipeline_figures(data: PipelinePlotInput, draw: Any = None) -> dict[str, Any]:
    """The figures by file name (see the module docstring for which plots a pipeline gets).

    ``draw`` is the module that draws them: :mod:`.plots` (PNG bytes, the default) or
    :mod:`.svg` (SVG text); both have the same four functions.
    """
    if draw is None:
        from . import plots as draw
    from .plots import Series

    figures: dict[str, Any] = {}
    shown = [data.arrays[p] for p in SHOWN_PARTITIONS if p in data.arrays]
    if not shown:
        return figures
    if data.task == "classification":
        classes = [str(c) for c in data.classes or sorted({*_labels(shown)})]
        matrices = [(a.partition, confusion_matrix(a.y_true, a.y_pred, classes)) for a in shown]
        figures["confusion_matrix.png"] = draw.confusion_matrices(matrices, classes, data.folder)
    else:
        series = [Series(a.partition, a.y_true, a.y_pred) for a in shown]
        figures["pred_vs_true.png"] = draw.predicted_vs_true(series, data.folder, score_lines(data))
        figures["residuals.png"] = draw.residuals(series, data.folder)
    coefficients = model_coefficients(data.model)
    if coefficients is not None:
        x, xlabel = feature_axis(data.feature_names, coefficients.shape[1])
        labels = [str(c) for c in data.classes or []] if len(coefficients) > 1 else []
        title = f"{type(data.model).__name__} coefficients: {data.folder}"
        figures["coefficients.png"] = draw.coefficients(x, coefficients, labels, xlabel, title)
    return figures


def _labels(arrays: Sequence[PartitionArrays]) -> set[str]:
    return {str(v) for a in arrays for v in (*a.y_true, *a.y_pred)}


def score_lines(data: PipelinePlotInput) -> list[str]:
    """``val   rmse 0.858  r2 0.951``: one line per drawn partition."""
    names = SCORE_NAMES.get(data.task, ("rmse", "r2"))
    lines = []
    for partition in SHOWN_PARTITIONS:
        scores = data.scores.get(partition, {})
        parts = [f"{name} {scores[name]:.4g}" for name in names if scores.get(name) is not None]
        if parts:
            lines.append(f"{partition:<5} " + "  ".join(parts))
    return lines


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Counts with true classes as rows and predicted classes as columns."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for true, pred in zip(y_true, y_pred, strict=True):
        if str(true) in index and str(pred) in index:
            matrix[index[str(true)], index[str(pred)]] += 1
    return matrix


def model_coefficients(model: Any) -> np.ndarray | None:
    """The model's ``coef_`` as (targets or classes) x features, or None if it has none."""
    coef = getattr(model, "coef_", None)
    if coef is None:
        return None
    try:
        values = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    except (TypeError, ValueError):
        return None
    if values.ndim != 2 or values.size == 0 or not np.isfinite(values).all():
        return None
    n_features = getattr(model, "n_features_in_", None)
    if n_features is not None and values.shape[1] != n_features and values.shape[0] == n_features:
        values = values.T  # older PLSRegression: features x targets
    return values


def feature_axis(names: Sequence[str] | None, count: int) -> tuple[np.ndarray, str]:
    """The x axis of a coefficient plot: wavelengths when the feature names are numbers."""
    index = np.arange(count, dtype=np.float64)
    if names is not None and len(names) == count:
        try:
            values = np.asarray([float(n) for n in names])
        except ValueError:
            return index, "feature index"
        # Columns named 0, 1, 2... are positions, not wavelengths.
        return values, "feature index" if np.array_equal(values, index) else "wavelength"
    return index, "feature index"


def load_model(workspace: Workspace, dataset: str, record: dict[str, Any]) -> Any:
    """The fitted model (the last step) of a pipeline record, or None if it has no binaries.

    Raises IntegrityError when the stored file is missing or does not match its digest.
    """
    artifacts = sorted(record.get("artifacts") or [], key=lambda a: a["step"])
    if not artifacts:
        return None
    return workspace.artifacts.load(dataset, ArtifactRef.from_dict(artifacts[-1]))


def write_pipeline_plots(
    workspace: Workspace, dataset: str, folder: str, figures: dict[str, bytes]
) -> list[Path]:
    """Write ``figures`` into the pipeline's ``outputs/`` (each file atomically); returns the paths."""
    outputs = workspace.layout.pipeline(dataset, folder).outputs_dir
    written = []
    for name, png in figures.items():
        path = outputs / name
        atomic_write_bytes(path, png)
        written.append(path)
    return written


def catalog_plot_input(workspace: Workspace, row: Any) -> PipelinePlotInput:
    """Plot data of a pipeline read back from the catalog (a :class:`PipelineRow`).

    The fitted model (for the coefficients) is loaded while the folder exists and its
    file is sound; the wavelengths come from ``_state/dataset.json`` of the row's session.
    """
    from ..errors import IntegrityError
    from ..workspace.dataset_info import dataset_info
    from .pipelines import pipeline_arrays

    model = None
    if workspace.layout.pipeline(row.dataset, row.folder).dir.is_dir():
        try:
            record = workspace.manifests.read_pipeline(row.dataset, row.folder)
            model = load_model(workspace, row.dataset, record)
        except IntegrityError:
            model = None  # the plots of predictions do not need it
    try:
        info = dataset_info(workspace.layout, row.dataset, row.session)
    except IntegrityError:
        info = None
    return PipelinePlotInput(
        folder=row.folder,
        task=row.task,
        classes=row.classes,
        arrays=pipeline_arrays(workspace.predictions, row),
        scores=row.scores,
        model=model,
        feature_names=info.feature_names if info is not None else None,
    )
