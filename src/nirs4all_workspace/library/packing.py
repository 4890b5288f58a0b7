"""Building a library zip from pipelines of the workspace: ``filtered``, ``pipeline`` or ``fullrun``.

- ``filtered``: one pipeline (its ``pipeline.json``, ``metrics.json``,
  ``manifest.yaml``) and exactly the fitted objects it references: for production.
- ``pipeline``: every completed pipeline of the session (the run) that produced
  the chosen one, with their ``predictions.csv``; fitted objects stored once.
- ``fullrun``: the above plus the training data (``data/Xcal.csv``...,
  written by the engine's ``SpectraDataset.write``), so the run can be reproduced.

Fitted objects are read from ``_binaries/`` (their digest checked) and
re-serialized with skops (see :mod:`.safe_objects`). Nothing is written here:
the result is bytes.
"""

from __future__ import annotations

import json
import platform
import tempfile
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import InputError, IntegrityError
from ..facade import Workspace
from ..version import __version__
from ..workspace.artifacts import DIGEST_CHARS_IN_NAME, ArtifactRef
from ..workspace.dataset_info import DatasetInfo, dataset_info, fingerprint
from ..workspace.layout import TRAINED_TYPES
from ..workspace.manifest import split_reference, utc_now
from .safe_objects import pack
from .zipformat import FORMAT_NAME, FORMAT_VERSION, ZipBuilder


@dataclass
class PackedZip:
    """A zip in memory, its manifest (without ``files``) and notes for the user."""

    data: bytes
    manifest: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _completed(ws: Workspace, dataset: str, folder: str) -> dict[str, Any]:
    record = ws.manifests.read_pipeline(dataset, folder)
    if record.get("status") != "completed":
        raise InputError(
            f"pipeline {dataset}/{folder} has status {record.get('status')!r}; only completed "
            "pipelines can be saved or exported"
        )
    if not record.get("artifacts"):
        raise InputError(f"pipeline {dataset}/{folder} has no fitted objects to save")
    return record


def session_records(ws: Workspace, dataset: str, session: str) -> list[dict[str, Any]]:
    """The completed pipelines of ``session`` on ``dataset``, by number."""
    records = []
    for entry in ws.manifests.list_folders(dataset):
        if ws.manifests.status(dataset, entry.folder) != "completed":
            continue
        record = ws.manifests.read_pipeline(dataset, entry.folder)
        if record.get("session") == session and record.get("artifacts"):
            records.append(record)
    return records


class _Packer:
    """Adds pipelines to a :class:`ZipBuilder`, each fitted object once."""

    def __init__(self, ws: Workspace, dataset: str) -> None:
        self.ws = ws
        self.dataset = dataset
        self.builder = ZipBuilder()
        self.objects: dict[str, dict[str, Any]] = {}  # workspace digest -> step entry
        self.notes: list[str] = []

    def add_pipeline(self, record: dict[str, Any], with_predictions: bool) -> dict[str, Any]:
        folder = record["folder"]
        paths = self.ws.layout.pipeline(self.dataset, folder)
        files = [paths.pipeline_json, paths.metrics_json, paths.manifest_yaml]
        if with_predictions and paths.predictions_csv.is_file():
            files.append(paths.predictions_csv)
        for path in files:
            try:
                self.builder.add(f"pipelines/{folder}/{path.name}", path.read_bytes())
            except FileNotFoundError:
                raise IntegrityError(f"{path} is missing; run 'nirs4all workspace verify'") from None
        steps = [self._add_object(ArtifactRef.from_dict(a)) for a in record["artifacts"]]
        return {
            "folder": folder,
            "number": record.get("number"),
            "hash": record.get("hash"),
            "name": record.get("name"),
            "session": record.get("session"),
            "model": record.get("model"),
            "preprocessing": record.get("preprocessing"),
            "task": record.get("task"),
            "classes": record.get("classes"),
            "engine": record.get("engine"),
            "metrics": _read_json(paths.metrics_json),
            "steps": sorted(steps, key=lambda s: s["step"]),
        }

    def _add_object(self, ref: ArtifactRef) -> dict[str, Any]:
        if ref.digest not in self.objects:
            packed = pack(self.ws.artifacts.load(self.dataset, ref))  # digest checked before unpickling
            # Named like its _binaries/ file (skops bytes embed object ids, so they differ per save).
            member = f"binaries/{ref.operator}_{ref.digest[:DIGEST_CHARS_IN_NAME]}.{packed.extension}"
            self.builder.add(member, packed.data)
            if packed.untrusted:
                self.notes.append(
                    f"{member} ({ref.operator}) needs {', '.join(packed.untrusted)}: loading this zip "
                    "will need --trust"
                )
            self.objects[ref.digest] = {
                "file": member,
                "format": packed.format,
                "untrusted": list(packed.untrusted),
                "workspace_digest": ref.digest,
            }
        return {"step": ref.step, "operator": ref.operator, **self.objects[ref.digest]}

    def add_training_data(self, record: dict[str, Any], info: DatasetInfo | None, data: Path | None) -> dict:
        """Write the data ``record`` was fitted on into ``data/``; checks its fingerprint."""
        from ..engines.registry import get_engine

        where = f"{self.dataset}/{record['folder']}"
        if info is None or info.fingerprint is None:
            raise InputError(
                f"the training data of {where} was not recorded when it ran; re-run it with this "
                "version of nirs4all to save a fullrun"
            )
        engine = get_engine(record.get("engine") or None)  # records older than the column: the default
        if data is None and str(getattr(engine.demo_dataset(), "source", "")) == info.source:
            dataset = engine.demo_dataset()
        else:
            source = Path(data) if data is not None else Path(info.source)
            dataset = engine.load_dataset(source, target=info.target, task=info.task)
        if fingerprint(dataset) != info.fingerprint:
            raise InputError(
                f"the data at '{data or info.source}' is not the data {where} was fitted on (it changed "
                "since the run); pass --data with the original data to save a fullrun"
            )
        if not hasattr(dataset, "write"):
            raise InputError(f"engine {engine.name!r} cannot write its datasets: fullrun is not available")
        names = []
        with tempfile.TemporaryDirectory(prefix="nirs4all-fullrun-") as tmp:
            dataset.write(Path(tmp))
            for path in sorted(Path(tmp).iterdir()):
                names.append(self.builder.add(f"data/{path.name}", path.read_bytes()))
        return {
            "files": names,
            "name": self.dataset,
            "fingerprint": info.fingerprint,
            "target": info.target,
            "task": info.task,
            "n_cal": info.n_cal,
            "n_test": info.n_test,
        }


def _predict_section(record: dict[str, Any], info: DatasetInfo | None, notes: list[str]) -> dict[str, Any]:
    n_features = record.get("n_features")
    names = info.feature_names if info is not None else None
    if names is not None and n_features is not None and len(names) != n_features:
        raise IntegrityError(
            f"runs/{record['dataset']}/_state/dataset.json records {len(names)} features but "
            f"{record['folder']} was fitted on {n_features}; re-run the pipeline"
        )
    if names is None:
        notes.append(
            "no feature names are recorded for the data of this run (an engine without them, or a run "
            "older than _state/dataset.json): predict will only check the number of columns"
        )
    return {
        "engine": record.get("engine"),
        "feature_names": names,
        "n_features": n_features if n_features is not None else (len(names) if names else None),
        "target": info.target if info is not None else None,
        "task": record.get("task"),
        "classes": record.get("classes"),
        "dataset_fingerprint": info.fingerprint if info is not None else None,
    }


def _score(ws: Workspace, dataset: str, metrics: dict[str, Any]) -> dict[str, Any]:
    best = ws.best.current(dataset)
    metric = best.metric if best else ws.predictions.default_metric(dataset)
    partition = best.partition if best else "val"
    return {"metric": metric, "partition": partition, "value": metrics.get(partition, {}).get(metric)}


def pack_pipelines(
    ws: Workspace, reference: str, kind: str, *, name: str, data: Path | None = None, single: bool = False
) -> PackedZip:
    """The zip of ``kind`` for ``DATASET/PIPELINE`` (folder name, number or hash).

    ``pipeline`` and ``fullrun`` zips hold every pipeline of its session, unless
    ``single`` (``nirs4all export --include-data``: that pipeline and its data only).

    Raises PipelineNotFound, InputError (failed pipeline, unknown kind, fullrun
    without its data) or IntegrityError (a binary that does not match its digest).
    """
    if kind not in TRAINED_TYPES:
        raise InputError(f"--type must be one of {', '.join(TRAINED_TYPES)}, not {kind!r}")
    dataset, ref = split_reference(reference)
    folder = ws.manifests.resolve(dataset, ref)
    record = _completed(ws, dataset, folder)
    records = [record] if kind == "filtered" or single else session_records(ws, dataset, record["session"])
    info = dataset_info(ws.layout, dataset, record.get("session"))
    packer = _Packer(ws, dataset)
    # The data first: a fullrun whose data changed is refused before any object is converted.
    training_data = packer.add_training_data(record, info, data) if kind == "fullrun" else None
    pipelines = [packer.add_pipeline(r, with_predictions=kind != "filtered") for r in records]
    metrics = next(p["metrics"] for p in pipelines if p["folder"] == folder)
    versions = ws.manifests.read_manifest(dataset, folder).get("versions", {})
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "tool_version": __version__,
        "created_at": utc_now(),
        "type": kind,
        "name": name,
        "source": {
            "workspace": str(ws.root),
            "dataset": dataset,
            "pipeline": folder,
            "pipeline_id": record.get("id"),
            "hash": record.get("hash"),
            "session": record.get("session"),
        },
        "default_pipeline": folder,
        "score": _score(ws, dataset, metrics),
        "fitted_with": {
            "python": versions.get("python"),
            "scikit-learn": versions.get("scikit-learn"),
            "numpy": versions.get("numpy"),
            "nirs4all_workspace": versions.get("nirs4all_workspace"),
        },
        "written_with": {
            "python": platform.python_version(),
            "nirs4all_workspace": __version__,
            "skops": _package_version("skops"),
        },
        "predict": _predict_section(record, info, packer.notes),
        "pipelines": pipelines,
        "data": training_data,
    }
    return PackedZip(packer.builder.build(manifest), manifest, packer.notes)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError) as exc:
        raise IntegrityError(f"{path} is unreadable ({exc}); run 'nirs4all workspace verify'") from None
