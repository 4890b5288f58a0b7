"""Archiving one pipeline into the catalog (``nirs4all catalog archive DATASET/PIPELINE``).

Two copies land under ``catalog/archives/``: the pipeline's predictions as
``best_predictions/<dataset>_<NNNN>_<hash>.csv`` and a zip of the pipeline
folder with the binaries it references as ``pipeline/<dataset>_<folder>.zip``
(with ``manifest.json`` listing each file's SHA-256; see
:mod:`~nirs4all_workspace.workspace.bundles`). Both are written atomically and
read back; only then is the archive registered (:mod:`.archived`), which makes
the pipeline's catalog rows ``archived`` and lets ``runs delete`` remove its
folder. Archiving the same pipeline again replaces both copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalog.archive_registry import ArchivedPipeline, ArchiveEntry, register
from ..errors import IntegrityError
from ..facade import Workspace
from ..workspace.atomic import atomic_write_bytes
from ..workspace.bundles import BundleManifest, pipeline_members, write_bundle
from ..workspace.layout import parse_pipeline_folder, validate_name
from ..workspace.locking import FileLock
from ..workspace.manifest import FINISHED_STATUSES, split_reference, utc_now


@dataclass
class PipelineArchiveReport:
    """Where ``catalog archive`` put its two copies."""

    dataset: str
    folder: str
    pipeline_id: str
    archive: str  # relative to the workspace root
    predictions: str | None
    files: int
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def archive_pipeline(workspace: Workspace, reference: str) -> PipelineArchiveReport:
    """Copy the pipeline ``DATASET/PIPELINE`` into ``catalog/archives/`` and register it.

    Raises PipelineNotFound / InvalidNameError for a bad reference and
    IntegrityError for an incomplete or damaged pipeline folder (nothing is
    written then).
    """
    dataset, ref = split_reference(reference)
    validate_name(dataset)
    folder = workspace.manifests.resolve(dataset, ref)
    record = workspace.manifests.read_pipeline(dataset, folder)
    if record.get("status") not in FINISHED_STATUSES:
        raise IntegrityError(
            f"pipeline {dataset}/{folder} is incomplete and cannot be archived; "
            "run 'nirs4all workspace verify --repair'"
        )
    layout = workspace.layout
    members = pipeline_members(layout, dataset, [record])
    pipeline = {"id": record["id"], "folder": folder, "number": record["number"], "status": record["status"]}
    manifest = BundleManifest(kind="pipeline", dataset=dataset, created_at=utc_now(), pipelines=[pipeline])
    target = layout.pipeline_archive(dataset, folder)
    paths = layout.pipeline(dataset, folder)
    predictions_copy = None
    with FileLock(layout.archive_lock):
        write_bundle(target, members, manifest)
        if paths.predictions_csv.is_file():
            text = paths.predictions_csv.read_bytes()
            parsed = parse_pipeline_folder(folder)
            short_hash = parsed.short_hash if parsed else str(record["hash"])[:6]
            predictions_copy = layout.archived_predictions(dataset, int(record["number"]), short_hash)
            atomic_write_bytes(predictions_copy, text)
            if predictions_copy.read_bytes() != text:
                raise IntegrityError(f"{predictions_copy} did not read back as written; archive again")
        register(
            layout,
            ArchiveEntry(
                kind="pipeline",
                archive=layout.relative(target),
                created_at=manifest.created_at,
                predictions=None if predictions_copy is None else layout.relative(predictions_copy),
                pipelines=[ArchivedPipeline(record["id"], dataset, folder)],
            ),
        )
    return PipelineArchiveReport(
        dataset=dataset,
        folder=folder,
        pipeline_id=record["id"],
        archive=layout.relative(target),
        predictions=None if predictions_copy is None else layout.relative(predictions_copy),
        files=len(manifest.files),
        size_bytes=target.stat().st_size,
    )
