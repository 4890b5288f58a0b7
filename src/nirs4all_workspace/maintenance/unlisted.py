"""Finished pipelines the catalog does not list yet, and restoring their rows.

A run appends catalog rows in batches (every 64 pipelines or 2 seconds): a run
killed between two batches leaves finished pipeline folders without rows. The
next write to the dataset (a run, a workflow, a library save) restores them
first (:func:`restore_unlisted`); ``catalog best`` says how many there are
(:func:`unlisted_pipelines`). Both compare folder names with the catalog's
``pipeline_folder`` column, and read ``pipeline.json`` only for the folders it
lacks, so the check stays cheap.
"""

from __future__ import annotations

import polars as pl

from ..errors import IntegrityError
from ..facade import Workspace
from ..workspace.manifest import FINISHED_STATUSES


def unlisted_pipelines(workspace: Workspace, dataset: str) -> list[str]:
    """Folders of ``dataset`` whose pipeline finished but has no catalog rows (by number)."""
    folders = workspace.manifests.list_folders(dataset)
    if not folders:
        return []
    predictions = workspace.predictions
    frame = predictions.scan().filter(pl.col("dataset") == dataset).select(pl.col("pipeline_folder").unique())
    listed = set(predictions.collect(frame)["pipeline_folder"].to_list())
    unlisted = []
    for parsed in folders:
        if parsed.folder in listed:
            continue
        try:
            record = workspace.manifests.read_pipeline(dataset, parsed.folder)
        except (IntegrityError, OSError):
            continue  # unreadable or being written: verify reports it
        if record.get("status") in FINISHED_STATUSES:
            unlisted.append(parsed.folder)
    return unlisted


def restore_unlisted(workspace: Workspace, dataset: str) -> int:
    """Append the catalog rows of every unlisted finished pipeline of ``dataset``; returns how many.

    Rows come from the pipeline's files, with the ids the run would have written;
    rows another process appended meanwhile are not repeated (``append_new``).
    Folders that cannot be read are left to ``workspace verify``.
    """
    from .rebuild import folder_files, rows_from_files  # numpy: only when there is work

    unlisted = unlisted_pipelines(workspace, dataset)
    meta: list[dict] = []
    data: list[dict] = []
    restored = 0
    for folder in unlisted:
        try:
            m, d = rows_from_files(folder_files(workspace, dataset, folder))
        except (IntegrityError, OSError, ValueError):
            continue
        meta += m
        data += d
        restored += 1
    if meta:
        workspace.predictions.append_new(meta, data)
    return restored
