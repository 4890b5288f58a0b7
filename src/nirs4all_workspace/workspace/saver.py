"""SimulationSaver: the only writer of a pipeline's results.

For one executed pipeline it allocates the folder (through ManifestManager),
stores the fitted objects in ``_binaries/``, then writes ``metrics.json``,
``predictions.csv``, figures, the engine's own files (``result.files``), the
dataset-level files it shares (``result.dataset_files``, under
``runs/<dataset>/_<folder>/``, kept if already there), ``error.log`` for a failure and, last,
``pipeline.json`` with the final status: a folder whose ``pipeline.json`` is
missing or not finished is incomplete and never shown as a result. Every file
is written to a temporary and renamed.
"""

from __future__ import annotations

import hashlib
import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidNameError
from .artifacts import ArtifactRef, ArtifactStore, SerializedArtifact
from .atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from .identity import config_hash
from .layout import WorkspaceLayout, validate_name
from .manifest import ManifestManager, PipelineHandle, utc_now
from .predictions_csv import predictions_csv_text
from .results import PipelineResult, PipelineSpec, PredictionBlock
from .schema import SCHEMA_KEY, SCHEMA_VERSION


@dataclass
class SavedPipeline:
    """What was written for one pipeline.

    ``meta_rows`` and ``data_rows`` are its catalog rows, filled by the caller that
    appends them to the catalog (the catalog floor owns their schema, not the writer).
    """

    handle: PipelineHandle
    status: str
    record: dict[str, Any]
    metrics: dict[str, Any]
    blocks: list[PredictionBlock] = field(default_factory=list)
    meta_rows: list[dict[str, Any]] = field(default_factory=list)
    data_rows: list[dict[str, Any]] = field(default_factory=list)
    predictions_text: str = ""

    def score(self, metric: str, partition: str = "val") -> float | None:
        """The pipeline's ``metric`` on ``partition``, or None if absent or not finite."""
        value = self.metrics.get(partition, {}).get(metric)
        if value is None:
            return None
        value = float(value)
        return value if math.isfinite(value) else None


def metrics_document(result: PipelineResult) -> dict[str, Any]:
    """The content of ``metrics.json``: scores per partition and per fold.

    With folds it holds ``cv`` too (per metric: mean, std, min, max over the folds,
    see :func:`cv_summary`); ``samples`` counts the predictions of each whole partition.
    """
    document: dict[str, Any] = {SCHEMA_KEY: SCHEMA_VERSION, "task": result.task}
    document.update({partition: _finite(scores) for partition, scores in result.metrics.items()})
    if result.folds:
        document["folds"] = [{"fold": i, **_finite(scores)} for i, scores in enumerate(result.folds)]
        document["cv"] = cv_summary(document["folds"])
    samples = {b.partition: len(b.y_true) for b in result.predictions if b.fold is None}
    if samples:
        document["samples"] = dict(sorted(samples.items()))
    return document


def cv_summary(folds: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float | int]]:
    """Per metric, the ``mean``, ``std`` (population, ddof 0), ``min``, ``max`` and number of
    ``folds`` of the finite per-fold scores. Also used to read a ``metrics.json`` written
    before ``cv`` was recorded."""
    values: dict[str, list[float]] = {}
    for fold in folds:
        for metric, value in fold.items():
            if metric == "fold" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                values.setdefault(metric, []).append(float(value))
    summary: dict[str, dict[str, float | int]] = {}
    for metric, scores in sorted(values.items()):
        mean = math.fsum(scores) / len(scores)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in scores) / len(scores))
        summary[metric] = {
            "mean": mean,
            "std": std,
            "min": min(scores),
            "max": max(scores),
            "folds": len(scores),
        }
    return summary


def _finite(scores: dict[str, Any]) -> dict[str, Any]:
    """Scores with NaN and infinities as null: ``metrics.json`` stays strict JSON."""
    return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in scores.items()}


class SimulationSaver:
    """Writes pipeline folders; see the module docstring for the order of writes."""

    def __init__(self, layout: WorkspaceLayout, manifests: ManifestManager, artifacts: ArtifactStore) -> None:
        self.layout = layout
        self.manifests = manifests
        self.artifacts = artifacts

    def save(
        self,
        dataset: str,
        spec: PipelineSpec,
        result: PipelineResult,
        artifacts: Sequence[SerializedArtifact] = (),
        *,
        session: str,
        engine: str,
        n_samples: int | None = None,
        n_features: int | None = None,
        versions: dict[str, str] | None = None,
        target: str | None = None,
        data_digest: str | None = None,
    ) -> SavedPipeline:
        """Write everything of one executed pipeline; returns what was written.

        ``artifacts`` are the serialized fitted objects of ``result`` (serialized
        where the pipeline ran, so only bytes cross process boundaries).
        ``target`` and ``data_digest`` (the dataset's question and data version)
        go into ``pipeline.json`` and the catalog rows.
        """
        validate_name(dataset)
        if result.status not in ("completed", "failed"):
            raise InvalidNameError(f"pipeline status must be completed or failed, not {result.status!r}")
        handle = self.manifests.allocate(
            dataset, config_hash(spec.config), spec.name, session, engine, versions
        )
        try:
            return self._write(
                handle,
                dataset,
                spec,
                result,
                artifacts,
                session,
                engine,
                n_samples,
                n_features,
                target,
                data_digest,
            )
        except KeyboardInterrupt:
            # Ctrl-C: the user stopped the run, the folder need not wait for 'verify --repair'.
            # Its number stays used (the high-water mark has it); shared binaries stay for gc.
            shutil.rmtree(handle.paths.dir, ignore_errors=True)
            raise

    def _write(
        self,
        handle: PipelineHandle,
        dataset: str,
        spec: PipelineSpec,
        result: PipelineResult,
        artifacts: Sequence[SerializedArtifact],
        session: str,
        engine: str,
        n_samples: int | None,
        n_features: int | None,
        target: str | None,
        data_digest: str | None,
    ) -> SavedPipeline:
        refs: list[ArtifactRef] = [self.artifacts.put(dataset, a) for a in artifacts]
        paths = handle.paths
        metrics = metrics_document(result)
        atomic_write_json(paths.metrics_json, metrics)
        text = ""
        if result.predictions:
            text = result.predictions_csv
            if text is None:
                text = predictions_csv_text(result.predictions)
            atomic_write_text(paths.predictions_csv, text)
        for name, image in result.figures.items():
            atomic_write_bytes(paths.outputs_dir / validate_name(name, "figure"), image)
        for name, content in result.files.items():
            atomic_write_bytes(paths.engine_file(name), content)
        self.save_dataset_files(dataset, result.dataset_files)
        if result.status == "failed":
            atomic_write_text(paths.error_log, result.error or "failed without a message\n")
        record = {
            SCHEMA_KEY: SCHEMA_VERSION,
            "id": handle.pipeline_id,
            "number": handle.number,
            "folder": handle.folder,
            "name": handle.name,
            "hash": handle.full_hash,
            "dataset": dataset,
            "session": session,
            "engine": engine,
            "status": result.status,
            "task": result.task,
            "model": spec.model,
            "preprocessing": spec.preprocessing,
            "params": spec.params,
            "config": spec.config,
            "artifacts": [r.to_dict() for r in refs],
            "classes": result.classes,
            "n_samples": n_samples,
            "n_features": n_features,
            "path": self.layout.relative(paths.dir),
            "timings": {
                "created_at": handle.created_at,
                "finished_at": utc_now(),
                "duration_s": round(result.duration_s, 6),
            },
            "error": _last_line(result.error) if result.error else None,
            "info": result.info,
        }
        if target is not None or data_digest is not None:
            record["target"], record["data_digest"] = target, data_digest
        if result.files:  # engine files, with digests (only for engines that add some)
            record["files"] = {
                name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                for name, data in sorted(result.files.items())
            }
        if result.dataset_files:
            record["dataset_files"] = sorted(result.dataset_files)
        self.manifests.write_pipeline(handle, record)
        blocks = list(result.predictions)
        return SavedPipeline(handle, result.status, record, metrics, blocks, predictions_text=text)

    def save_dataset_files(
        self, dataset: str, files: Mapping[str, bytes], *, replace: bool = False
    ) -> list[str]:
        """Write dataset-level files (``"_classifiers/x.parquet"`` -> bytes) under ``runs/<dataset>/``.

        Without ``replace`` an existing file is kept: engines name shared files by
        their content, so it is the same. Returns the names written. Raises
        InvalidNameError for a name outside an engine's ``_folder/name`` (see layout).
        """
        written = []
        for name, content in files.items():
            path = self.layout.dataset_shared_file(dataset, name)
            if replace or not path.exists():
                atomic_write_bytes(path, content)
                written.append(name)
        return written


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text
