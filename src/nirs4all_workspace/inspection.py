"""One pipeline, everything about it: ``nirs4all runs show DATASET/PIPELINE``.

:func:`describe_pipeline` reads a pipeline folder (``pipeline.json``,
``manifest.yaml``, ``metrics.json``, ``predictions.csv``), its fitted objects in
``_binaries/``, the dataset's best, the archives and the library, and returns a
:class:`PipelineView`: identity, configuration and params, scores per partition
with the cross-validation mean and spread, files and sizes, where else it is
kept, and the commands that reproduce or export it. It only reads.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from typing import Any

from .errors import IntegrityError, WorkspaceError
from .facade import Workspace
from .workspace.manifest import split_reference
from .workspace.predictions_csv import parse_predictions_csv
from .workspace.saver import cv_summary
from .workspace.schema import SCHEMA_KEY

# keys of metrics.json that are not partitions
_NOT_PARTITIONS = {SCHEMA_KEY, "task", "folds", "cv", "samples"}


@dataclass
class PipelineView:
    """What ``runs show DATASET/PIPELINE`` shows; :meth:`to_dict` is its ``--json``."""

    dataset: str
    folder: str
    number: int
    hash: str
    short_hash: str
    name: str | None
    session: str | None
    data_version: str | None
    engine: str | None
    status: str
    task: str | None
    model: str | None
    preprocessing: str | None
    created_at: str | None
    duration_s: float | None
    error: str | None
    config: Any
    params: dict[str, Any]
    scores: dict[str, dict[str, Any]]
    samples: dict[str, int]
    cv: dict[str, dict[str, Any]]
    folds: list[dict[str, Any]]
    files: list[dict[str, Any]]
    objects: list[dict[str, Any]]
    size_bytes: int
    is_best: bool
    best: dict[str, Any] | None
    archived: bool
    library: list[str] = field(default_factory=list)
    commands: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def reference(self) -> str:
        return f"{self.dataset}/{self.folder}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "folder": self.folder,
            "path": self.path,
            "identity": {
                "number": self.number,
                "hash": self.hash,
                "short_hash": self.short_hash,
                "name": self.name,
                "session": self.session,
                "data_version": self.data_version,
                "engine": self.engine,
                "status": self.status,
                "task": self.task,
                "created_at": self.created_at,
                "duration_s": self.duration_s,
            },
            "error": self.error,
            "model": self.model,
            "preprocessing": self.preprocessing,
            "config": self.config,
            "params": self.params,
            "scores": self.scores,
            "samples": self.samples,
            "cv": self.cv,
            "folds": self.folds,
            "files": self.files,
            "objects": self.objects,
            "size_bytes": self.size_bytes,
            "is_best": self.is_best,
            "best": self.best,
            "archived": self.archived,
            "library": self.library,
            "commands": self.commands,
        }


def describe_pipeline(workspace: Workspace, reference: str) -> PipelineView:
    """The view of ``DATASET/PIPELINE`` (folder name, number or hash prefix).

    Raises PipelineNotFound (bad input) for an unknown dataset or pipeline and
    IntegrityError for a folder whose ``pipeline.json`` is missing or corrupt.
    """
    dataset, ref = split_reference(reference)
    folder = workspace.manifests.resolve(dataset, ref)
    record = workspace.manifests.read_pipeline(dataset, folder)
    paths = workspace.layout.pipeline(dataset, folder)
    try:
        manifest = workspace.manifests.read_manifest(dataset, folder) or {}
    except IntegrityError:
        manifest = {}
    metrics = _read_json(paths.metrics_json)
    folds = [f for f in metrics.get("folds", []) if isinstance(f, dict)]
    files = _files(paths.dir)
    objects = _objects(workspace, dataset, record)
    best = workspace.best.current(dataset)
    timings = record.get("timings") or {}
    view = PipelineView(
        dataset=dataset,
        folder=folder,
        number=int(record.get("number") or manifest.get("number") or 0),
        hash=str(record.get("hash") or manifest.get("hash") or ""),
        short_hash=str(manifest.get("short_hash") or folder.rsplit("_", 1)[-1]),
        name=record.get("name"),
        session=record.get("session") or manifest.get("session"),
        data_version=record.get("data_digest"),
        engine=record.get("engine") or manifest.get("engine"),
        status=str(record.get("status")),
        task=record.get("task") or metrics.get("task"),
        model=record.get("model"),
        preprocessing=record.get("preprocessing"),
        created_at=timings.get("created_at") or manifest.get("created_at"),
        duration_s=timings.get("duration_s"),
        error=record.get("error"),
        config=record.get("config"),
        params=dict(record.get("params") or {}),
        scores={p: s for p, s in metrics.items() if p not in _NOT_PARTITIONS and isinstance(s, dict)},
        samples=metrics.get("samples") or _samples_from_csv(paths.predictions_csv),
        cv=metrics.get("cv") or cv_summary(folds),  # a metrics.json written before "cv" was kept
        folds=folds,
        files=files,
        objects=objects,
        size_bytes=sum(f["size"] for f in files) + sum(o["size"] or 0 for o in objects if o["present"]),
        is_best=best is not None and best.folder == folder,
        best=None
        if best is None
        else {"folder": best.folder, "metric": best.metric, "partition": best.partition, "score": best.score},
        archived=_archived(workspace, record.get("id")),
        library=_library_entries(workspace, dataset, folder),
        path=str(paths.dir),
    )
    view.commands = _commands(workspace, view)
    return view


def _read_json(path: Any) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"{path} is unreadable ({exc}); run 'nirs4all workspace verify'") from None
    return value if isinstance(value, dict) else {}


def _samples_from_csv(path: Any) -> dict[str, int]:
    """Predictions per whole partition, counted in ``predictions.csv`` (older metrics.json)."""
    try:
        groups = parse_predictions_csv(path.read_text(encoding="utf-8"), numeric=False)
    except (OSError, ValueError, KeyError):
        return {}
    samples: dict[str, set[Any]] = {}
    for (partition, _fold), group in groups.items():  # out-of-fold rows are written per fold
        samples.setdefault(partition, set()).update(group["sample_id"])
    return {p: len(ids) for p, ids in sorted(samples.items())}


def _files(folder: Any) -> list[dict[str, Any]]:
    found = []
    for root, _dirs, names in os.walk(folder):
        for name in names:
            full = os.path.join(root, name)  # noqa: PTH118 - os.walk's strings
            try:
                size = os.lstat(full).st_size
            except OSError:
                continue
            found.append({"file": os.path.relpath(full, folder).replace(os.sep, "/"), "size": size})
    return sorted(found, key=lambda f: f["file"])


def _objects(workspace: Workspace, dataset: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    objects = []
    for artifact in record.get("artifacts") or []:
        if not isinstance(artifact, dict) or not isinstance(artifact.get("file"), str):
            continue
        try:
            path = workspace.layout.binary_path(dataset, artifact["file"])
            present = path.is_file()
        except WorkspaceError:
            present = False
        objects.append(
            {
                "step": artifact.get("step"),
                "operator": artifact.get("operator"),
                "file": artifact["file"],
                "size": artifact.get("size"),
                "digest": artifact.get("digest"),
                "present": present,
            }
        )
    return objects


def _archived(workspace: Workspace, pipeline_id: Any) -> bool:
    from .catalog.archive_registry import archived_ids_in

    return bool(pipeline_id) and bool(archived_ids_in(workspace.layout, [str(pipeline_id)]))


def _library_entries(workspace: Workspace, dataset: str, folder: str) -> list[str]:
    """``TYPE/NAME`` of the library zips made from this pipeline."""
    from .library.trained import list_trained

    try:
        entries = list_trained(workspace.layout)
    except (WorkspaceError, OSError):
        return []
    return sorted(f"{e.kind}/{e.name}" for e in entries if e.dataset == dataset and e.pipeline == folder)


def _commands(workspace: Workspace, view: PipelineView) -> dict[str, Any]:
    """The command lines that reproduce, save or export the pipeline (as a person types them)."""
    reference = f"{view.dataset}/{view.number}"
    name = f"{view.dataset}-{view.number}"
    where = ["--workspace", str(workspace.root)]
    source = _session_source(workspace, view.dataset, view.session)
    run = ["nirs4all", "run"]
    if source and not source.startswith("builtin:"):
        run += ["--dataset", source]
    run += ["--pipeline", name, "--name", view.dataset]
    if view.engine:
        run += ["--engine", view.engine]
    fullrun = workspace.layout.trained_zip("fullrun", name)
    return {
        "reproduce": [
            shlex.join(["nirs4all", "library", "templates", "save", reference, "--name", name, *where]),
            shlex.join([*run, *where]),
        ],
        "rerun_exactly": [
            shlex.join(
                ["nirs4all", "library", "save", reference, "--name", name, "--type", "fullrun", *where]
            ),
            shlex.join(["nirs4all", "run", "--from-zip", str(fullrun), *where]),
        ],
        "export": shlex.join(
            ["nirs4all", "export", reference, "--output", f"{view.folder}.zip", "--include-data", *where]
        ),
        "save": shlex.join(
            ["nirs4all", "library", "save", reference, "--name", name, "--type", "filtered", *where]
        ),
    }


def _session_source(workspace: Workspace, dataset: str, session: str | None) -> str | None:
    """The dataset source the session read (``run_config.json``), if recorded."""
    try:
        document = _read_json(workspace.layout.run_config_json(dataset))
    except IntegrityError:
        return None
    for entry in document.get("sessions", []):
        if isinstance(entry, dict) and entry.get("session") == session:
            source = entry.get("source")
            return source if isinstance(source, str) else None
    return None
