"""What a workspace holds, per dataset: counts, sessions, size, age and best.

Made to stay fast on 100,000 pipelines: the status of each pipeline folder comes
from the catalog (its rows are written from ``pipeline.json``), and only the folders
the catalog does not list are read; the size is exact up to
:data:`EXACT_SIZE_ENTRIES` entries per folder, above which it is estimated from an
even sample of them (and said so: ``size_estimated``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import IntegrityError
from ..facade import Workspace
from ..workspace.best import BestResult
from ..workspace.dataset_info import current_digest
from ..workspace.layout import parse_pipeline_folder
from ..workspace.numbering import claims_dir


@dataclass
class DatasetOverview:
    """One line of ``nirs4all runs list``."""

    dataset: str
    sessions: int
    pipelines: int
    completed: int
    failed: int
    size_bytes: int
    last_run: datetime | None
    best: BestResult | None
    archived: bool = False  # a runs tar of it exists under catalog/archives/runs/
    older_versions: int = 0  # completed pipelines of older data versions: not ranked for the best
    size_estimated: bool = False  # size_bytes estimated from a sample of a very large folder

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "archived": self.archived,
            "sessions": self.sessions,
            "pipelines": self.pipelines,
            "completed": self.completed,
            "failed": self.failed,
            "size_bytes": self.size_bytes,
            "size_estimated": self.size_estimated,
            "last_run": self.last_run.isoformat() if self.last_run else None,
            "best": None if self.best is None else self.best.__dict__,
            "older_versions_left_out": self.older_versions,
        }


def folder_size(path: Path) -> int:
    """Bytes of the regular files below ``path``."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size  # noqa: PTH118 - os.walk speed
            except OSError:
                continue
    return total


# A folder with more entries than this is sized from an even sample of SIZE_SAMPLE of them.
EXACT_SIZE_ENTRIES = 2000
SIZE_SAMPLE = 500


def estimated_size(path: Path | str, skip: frozenset[str] = frozenset()) -> tuple[int, bool]:
    """Bytes of the regular files below ``path``, and whether it is an estimate.

    In a folder of more than :data:`EXACT_SIZE_ENTRIES` entries (a dataset of many
    pipelines, its binaries) every n-th entry is sized and the sum scaled up: about
    ``SIZE_SAMPLE`` stats instead of one per file. Folders in ``skip`` (paths) are
    left out: the number claims, one empty file per pipeline ever numbered.
    """
    if os.fspath(path) in skip:
        return 0, False
    try:
        with os.scandir(path) as found:
            entries = list(found)
    except OSError:
        return 0, False
    estimated = len(entries) > EXACT_SIZE_ENTRIES
    sample = entries[:: len(entries) // SIZE_SAMPLE] if estimated else entries
    total = 0
    for entry in sample:
        try:
            if entry.is_dir(follow_symlinks=False):
                size, inner = estimated_size(entry.path, skip)
                total += size
                estimated = estimated or inner
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    if len(sample) < len(entries):
        total = round(total * len(entries) / len(sample))
    return total, estimated


def folder_statuses(workspace: Workspace, dataset: str) -> list[tuple[str, str | None]]:
    """(status, data digest) of every pipeline folder of ``dataset``.

    Folders the catalog lists take their status from their rows (written from their
    ``pipeline.json``); the others (unlisted, incomplete) are read. One listing of the
    dataset folder, one catalog query, and no file read per listed pipeline.
    """
    import polars as pl

    root = workspace.layout.dataset_dir(dataset)
    try:
        with os.scandir(root) as found:
            names = [entry.name for entry in found]
    except (FileNotFoundError, NotADirectoryError):
        return []
    predictions = workspace.predictions
    frame = (
        predictions.scan()
        .filter(pl.col("dataset") == dataset)
        .select("pipeline_folder", "status", "data_digest")
        .unique(subset="pipeline_folder", keep="any")
    )
    try:
        rows = predictions.collect(frame)
        listed = dict(
            zip(
                rows["pipeline_folder"].to_list(),
                zip(rows["status"].to_list(), rows["data_digest"].to_list(), strict=True),
                strict=True,
            )
        )
    except IntegrityError:
        listed = {}  # an unreadable catalog: read every folder (verify reports the catalog)
    statuses = []
    for name in names:
        known = listed.get(name)
        if known is not None and known[0] in ("completed", "failed"):
            statuses.append(known)
        elif parse_pipeline_folder(name) is not None and (root / name).is_dir():
            statuses.append(_finished(workspace, dataset, name))
    return statuses


def dataset_overview(workspace: Workspace, dataset: str) -> DatasetOverview:
    """Counts from the folders (the truth), sessions from ``run_summary.json``."""
    from ..catalog.archive_registry import archived_datasets

    finished = folder_statuses(workspace, dataset)
    statuses = [status for status, _ in finished]
    newest = current_digest(workspace.layout, dataset)
    older = sum(1 for status, digest in finished if status == "completed" and digest != newest)
    sessions = workspace.sessions.sessions(dataset)
    times = [s.get("finished_at") or s.get("started_at") for s in sessions]
    last = max((datetime.fromisoformat(t) for t in times if t), default=None)
    if last is None and finished:
        mtime = workspace.layout.dataset_dir(dataset).stat().st_mtime
        last = datetime.fromtimestamp(mtime, UTC)
    claims = frozenset({os.fspath(claims_dir(workspace.layout, dataset))})  # empty files
    size, size_estimated = estimated_size(workspace.layout.dataset_dir(dataset), claims)
    return DatasetOverview(
        dataset=dataset,
        sessions=len(sessions),
        pipelines=len(finished),
        completed=statuses.count("completed"),
        failed=statuses.count("failed"),
        size_bytes=size,
        last_run=last,
        best=workspace.best.current(dataset),
        archived=dataset in archived_datasets(workspace.layout),
        older_versions=older,
        size_estimated=size_estimated,
    )


def _finished(workspace: Workspace, dataset: str, folder: str) -> tuple[str, str | None]:
    """A folder's status (``incomplete`` if unreadable) and the data digest it ran on."""
    try:
        record = workspace.manifests.read_pipeline(dataset, folder)
    except IntegrityError:
        return "incomplete", None
    status = record.get("status")
    return (status if status in ("completed", "failed") else "incomplete"), record.get("data_digest")


def overviews(workspace: Workspace, older_than: Any = None) -> list[DatasetOverview]:
    """Every dataset's overview; with ``older_than`` (timedelta) only datasets idle that long."""
    found = [dataset_overview(workspace, d) for d in workspace.datasets()]
    if older_than is None:
        return found
    cutoff = datetime.now(UTC) - older_than
    return [o for o in found if o.last_run is not None and o.last_run < cutoff]
