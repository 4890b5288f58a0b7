"""Applying a trained pipeline from a zip (or the library) to new spectra.

``predict_file`` checks the zip completely, loads only the fitted objects of
its pipeline (safely: see :mod:`.safe_objects`), reads the new spectra with
the columns the model was fitted on, predicts in chunks (so a progress bar can
follow a large file) and writes ``sample_id, y_pred[, y_true]`` as one CSV,
atomically. Nothing is written when anything is refused.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..workspace.atomic import atomic_write_text
from ..workspace.layout import WorkspaceLayout
from .contents import TrainedZip, open_trained
from .trained import resolve_zip
from .zip_engine import zip_engine

CHUNK_ROWS = 5000
Progress = Callable[[int, int], None]  # (samples done, samples in all)


@dataclass
class LoadedModel:
    """The fitted steps of one pipeline of a checked zip, ready to predict."""

    trained: TrainedZip
    folder: str
    steps: list[Any]
    notes: list[str] = field(default_factory=list)
    engine: Any = None  # the engine that made the zip: it reads the data and applies the steps

    @property
    def info(self) -> dict[str, Any]:
        return self.trained.predict_info

    def predict(self, X: Any, chunk_rows: int = CHUNK_ROWS, progress: Progress | None = None) -> Any:
        """Predictions for the rows of ``X`` (1-D: floats, or labels for classification)."""
        import numpy as np

        n = len(X)
        parts = []
        for start in range(0, n, chunk_rows):
            stop = min(n, start + chunk_rows)
            parts.append(self.engine.predict_fitted(self.steps, X[start:stop]))
            if progress is not None:
                progress(stop, n)
        return np.concatenate(parts) if parts else np.empty(0)


def _version_notes(trained: TrainedZip, engine: Any) -> list[str]:
    notes = []
    fitted = trained.manifest.get("fitted_with") or {}
    for package in getattr(engine, "packages", ()) or tuple(fitted):
        wanted = fitted.get(package)
        try:
            here = version(package)
        except PackageNotFoundError:
            continue
        if wanted and wanted != here:
            notes.append(f"fitted with {package} {wanted}, running {here}: predictions may differ slightly")
    return notes


def load_model(
    layout: WorkspaceLayout, model: str | Path, *, trust: bool = False, pipeline: str | None = None
) -> LoadedModel:
    """Check the zip (a path or a library name) and load one pipeline's fitted objects.

    Raises ArchiveRefused / TrustRequired (exit status 2) or InputError.
    """
    trained = open_trained(resolve_zip(layout, str(model)))
    engine = zip_engine(trained.label, trained.predict_info.get("engine"), "predict")
    entry = trained.pipeline(pipeline)
    config_notes = trained.require_config_trust(trust)  # a zip is trusted or not, whatever is loaded
    steps, notes = trained.load_steps(entry["folder"], trust=trust)
    return LoadedModel(
        trained, entry["folder"], steps, _version_notes(trained, engine) + config_notes + notes, engine
    )


@dataclass
class PredictionReport:
    """What ``predict_file`` did."""

    model: str
    pipeline: str
    data: str
    output: Path
    n_samples: int
    with_y_true: bool
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "pipeline": self.pipeline,
            "data": self.data,
            "output": str(self.output),
            "n_samples": self.n_samples,
            "y_true": self.with_y_true,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }


def _cell(value: Any) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def predictions_text(ids: list[str], y_pred: Any, y_true: list[str] | None) -> str:
    """The output CSV: ``sample_id, y_pred`` (+ ``y_true``); floats written to read back exactly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sample_id", "y_pred", *(["y_true"] if y_true is not None else [])])
    values = y_pred.tolist()
    if y_true is None:
        writer.writerows((i, _cell(p)) for i, p in zip(ids, values, strict=True))
    else:
        writer.writerows((i, _cell(p), t) for i, p, t in zip(ids, values, y_true, strict=True))
    return out.getvalue()


def predict_file(
    layout: WorkspaceLayout,
    model: str | Path,
    data: Path,
    output: Path,
    *,
    trust: bool = False,
    pipeline: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> PredictionReport:
    """Predict the spectra of ``data`` with ``model`` (zip path or library name) into ``output``.

    ``pipeline`` picks one pipeline of a ``pipeline``/``fullrun`` zip (default: the one saved).

    Raises ArchiveRefused/TrustRequired for an unsafe zip, DatasetError when the
    data's columns do not match the model's (how many missing/extra, the first
    few), InputError otherwise. Writes only ``output``, whole, at the end.
    """
    start = time.perf_counter()
    if chunk_rows < 1:
        raise InputError("the chunk size must be at least 1 row")
    loaded = load_model(layout, model, trust=trust, pipeline=pipeline)
    info = loaded.info
    spectra = loaded.engine.read_predict_data(
        data, info.get("feature_names"), info.get("n_features"), info.get("target")
    )
    y_pred = loaded.predict(spectra.X, chunk_rows, progress)
    atomic_write_text(Path(output), predictions_text(spectra.sample_ids, y_pred, spectra.y_true))
    return PredictionReport(
        model=loaded.trained.label,
        pipeline=loaded.folder,
        data=spectra.source,
        output=Path(output).absolute(),
        n_samples=spectra.n_samples,
        with_y_true=spectra.y_true is not None,
        seconds=time.perf_counter() - start,
        notes=loaded.notes,
    )
