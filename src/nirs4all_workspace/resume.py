"""Resuming a grid: run only the variants whose config hash has not completed on the dataset.

One place for what ``nirs4all run --resume`` and the grid phases of workflows
share: which pipelines of a dataset are done (``pipeline.json`` status
``completed``, by config hash), which variants of a grid are left, and the
repair of what a killed run may have left behind (catalog rows not flushed, a
best file not updated). Reused pipelines are read from their folders, never
refitted.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from .errors import IntegrityError
from .facade import Workspace
from .workspace.identity import config_hash
from .workspace.layout import parse_pipeline_folder
from .workspace.manifest import PipelineHandle
from .workspace.saver import SavedPipeline


def data_version(dataset: Any) -> str | None:
    """The dataset's data digest when it carries one as a string (data versions), else None."""
    value = getattr(dataset, "data_digest", None)
    return value if isinstance(value, str) else None


def completed_by_hash(
    workspace: Workspace, dataset: str, data_digest: str | None = None
) -> dict[str, dict[str, Any]]:
    """``pipeline.json`` of the newest completed pipeline of each config hash of ``dataset``.

    With ``data_digest``, a pipeline that records another data version
    (``data_digest`` in its ``pipeline.json``) does not count; one that records
    none counts (written before data versions were known).
    """
    found: dict[str, dict[str, Any]] = {}
    manifests = workspace.manifests
    for entry in manifests.list_folders(dataset):
        try:
            record = manifests.read_pipeline(dataset, entry.folder)
        except IntegrityError:  # incomplete (a killed run) or unreadable: not reusable
            record = {}
        if data_digest is not None and record.get("data_digest") not in (None, data_digest):
            continue
        if record.get("status") == "completed" and record.get("hash"):
            found[record["hash"]] = record
    return found


def session_pipelines(workspace: Workspace, datasets: list[str], session: str) -> int:
    """How many pipelines (completed or failed) ``session`` saved in ``datasets``."""
    saved = 0
    for name in datasets:
        for entry in workspace.manifests.list_folders(name):
            try:
                record = workspace.manifests.read_pipeline(name, entry.folder)
            except IntegrityError:  # the folder an interruption left incomplete
                continue
            saved += record.get("session") == session and record.get("status") in ("completed", "failed")
    return saved


def split_completed(
    workspace: Workspace, dataset: str, specs: list[Any], data_digest: str | None = None
) -> tuple[dict[str, dict[str, Any]], list[Any]]:
    """(completed records of ``dataset`` by hash, the ``specs`` whose hash is not among them)."""
    done = completed_by_hash(workspace, dataset, data_digest)
    return done, [s for s in specs if config_hash(s.config) not in done]


def restore_reused(
    workspace: Workspace,
    dataset: str,
    metric: str,
    direction: str,
    partition: str = "val",
) -> int:
    """Catalog rows and best file for pipelines a killed run may have left without them.

    The rows come from the one restore every write starts with
    (:func:`maintenance.unlisted.restore_unlisted`); then the best file and the
    exports follow the reused pipelines. Returns how many pipelines had their rows restored.
    """
    from .library.exports import refresh_exports
    from .maintenance.unlisted import restore_unlisted

    restored = restore_unlisted(workspace, dataset)
    workspace.best.recompute(dataset, metric, direction, partition)
    refresh_exports(workspace, dataset)
    return restored


def saved_pipeline(workspace: Workspace, record: dict[str, Any]) -> SavedPipeline:
    """A completed pipeline read back from its folder, as ``run_experiment`` reports those it saves."""
    dataset, folder = record["dataset"], record["folder"]
    paths = workspace.layout.pipeline(dataset, folder)
    parsed = parse_pipeline_folder(folder)
    handle = PipelineHandle(
        dataset=dataset,
        number=record["number"],
        folder=folder,
        pipeline_id=record["id"],
        full_hash=record["hash"],
        short_hash=parsed.short_hash if parsed else record["hash"][:6],
        name=record.get("name"),
        session=record.get("session", ""),
        engine=record.get("engine", ""),
        created_at=(record.get("timings") or {}).get("created_at", ""),
        paths=paths,
    )
    metrics = json.loads(paths.metrics_json.read_text(encoding="utf-8"))
    return SavedPipeline(handle=handle, status=record["status"], record=record, metrics=metrics)


def run_resumed(
    workspace: Workspace, engine: Any, dataset: Any, config: Any, *, specs: list[Any], **options: Any
) -> Any:
    """``run_experiment`` on the ``specs`` not completed yet; the report covers the whole grid.

    Completed variants of the dataset (same config hash, same data version when
    the dataset gives one) are reused, not refitted; their catalog rows and the
    best file are restored first if a killed run left them behind. The report's
    pipelines (``saved``) are the grid's, in grid order, and its summary counts
    them all; ``reused`` says how many were not run. The session's own
    ``run_summary.json`` records what this session ran.
    """
    from .experiment import resolve_metric, run_experiment

    name = dataset.name
    done, remaining = split_completed(workspace, name, specs, data_version(dataset))
    hashes = [config_hash(s.config) for s in specs]
    reused = {h: done[h] for h in hashes if h in done}
    restored = 0
    if reused:
        metric, direction, partition = resolve_metric(
            engine, getattr(dataset, "task", "regression"), options.get("metric")
        )
        restored = restore_reused(workspace, name, metric, direction, partition)
    report = run_experiment(workspace, engine, dataset, config, specs=remaining, **options)
    report.restored += restored  # said in one line, as a run says the rows it restores itself
    fresh = {config_hash(s.config): saved for s, saved in zip(remaining, report.saved, strict=False)}
    ordered = [saved_pipeline(workspace, reused[h]) if h in reused else fresh.get(h) for h in hashes]
    report.saved = [s for s in ordered if s is not None]
    report.reused = len(reused)
    completed = sum(s.status == "completed" for s in report.saved)
    report.summary = replace(
        report.summary,
        pipelines=len(report.saved),
        completed=completed,
        failed=len(report.saved) - completed,
    )
    return report
