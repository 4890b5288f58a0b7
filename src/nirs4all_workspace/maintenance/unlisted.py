"""Finished pipelines the catalog does not list yet, and restoring their rows.

A run appends catalog rows in batches (every 64 pipelines or 2 seconds): a run
killed between two batches leaves finished pipeline folders without rows. The
next write to the dataset (a run, a workflow, a library save) restores them
first (:func:`restore_unlisted`); ``catalog best`` says how many there are
(:func:`unlisted_pipelines`). Both compare folder names with the catalog's
``pipeline_folder`` column, and read ``pipeline.json`` only for the folders it
lacks, so the check stays cheap.

On a dataset of 100,000 pipelines even listing the folder costs a noticeable
fraction of a second, so the check first compares the catalog with the numbering:
when the catalog holds every number from 1 to the high-water mark, no folder can be
unlisted (every folder's number is at most the mark, and numbers are never reused)
and the folder is not listed at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from ..errors import IntegrityError
from ..facade import Workspace
from ..workspace.layout import parse_pipeline_folder
from ..workspace.manifest import FINISHED_STATUSES
from ..workspace.numbering import parse_mark


def _folder_names(root: Path) -> list[str]:
    """Names in ``runs/<dataset>/`` (one ``scandir``)."""
    try:
        with os.scandir(root) as entries:
            return [entry.name for entry in entries]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _every_number_listed(workspace: Workspace, dataset: str) -> bool:
    """True when the catalog lists pipelines numbered 1 to the dataset's high-water mark, each.

    Reads the mark without repairing it (a missing or absurd mark answers False).
    """
    try:
        mark = parse_mark(workspace.layout.high_water_file(dataset).read_text())
    except (OSError, UnicodeDecodeError):
        return False
    if mark is None:
        return False
    if mark == 0:
        return True
    predictions = workspace.predictions
    numbers = (
        predictions.scan()
        .filter(pl.col("dataset") == dataset)
        .select(
            distinct=pl.col("pipeline_number").n_unique(),
            low=pl.col("pipeline_number").min(),
            high=pl.col("pipeline_number").max(),
        )
    )
    row = predictions.collect(numbers).row(0, named=True)
    return row["low"] == 1 and row["high"] == mark and row["distinct"] == mark


def unlisted_pipelines(workspace: Workspace, dataset: str) -> list[str]:
    """Folders of ``dataset`` whose pipeline finished but has no catalog rows (by number)."""
    if _every_number_listed(workspace, dataset):
        return []
    root = workspace.layout.dataset_dir(dataset)
    names = _folder_names(root)
    if not names:
        return []
    predictions = workspace.predictions
    frame = predictions.scan().filter(pl.col("dataset") == dataset).select(pl.col("pipeline_folder").unique())
    listed = set(predictions.collect(frame)["pipeline_folder"].to_list())
    candidates = []
    for name in set(names).difference(listed):
        parsed = parse_pipeline_folder(name)
        if parsed is not None and (root / name).is_dir():
            candidates.append(parsed)
    unlisted = []
    for parsed in sorted(candidates, key=lambda p: p.number):
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
