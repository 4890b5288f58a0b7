"""What a workspace holds, per dataset: counts, sessions, size, age and best.

Made to stay fast on 100,000 pipelines: the status of each pipeline folder comes
from the catalog (its rows are written from ``pipeline.json``), and only the folders
the catalog does not list are read; the size is exact up to
:data:`EXACT_SIZE_ENTRIES` entries per folder, above which it is estimated from an
even sample of them (and said so: ``size_estimated``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import IntegrityError
from ..facade import Workspace
from ..workspace.best import BestResult
from ..workspace.dataset_info import current_digest
from ..workspace.layout import parse_pipeline_folder
from ..workspace.manifest import FINISHED_STATUSES as FINISHED
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
SIZE_SAMPLE = 200


def estimated_size(
    path: Path | str, skip: frozenset[str] = frozenset(), names: list[str] | None = None
) -> tuple[int, bool]:
    """Bytes of the regular files below ``path``, and whether it is an estimate.

    In a folder of more than :data:`EXACT_SIZE_ENTRIES` entries (a dataset of many
    pipelines, its binaries) every n-th entry is sized and the sum scaled up: about
    ``SIZE_SAMPLE`` stats instead of one per file. Folders in ``skip`` (paths) are
    left out: the number claims, one empty file per pipeline ever numbered.
    ``names``: the listing of ``path`` if the caller has it.
    """
    path = os.fspath(path)
    if path in skip:
        return 0, False
    if names is None:
        try:
            names = os.listdir(path)  # noqa: PTH208 - names only: no object per entry
        except OSError:
            return 0, False
    estimated = len(names) > EXACT_SIZE_ENTRIES
    sample = names[:: len(names) // SIZE_SAMPLE] if estimated else names
    total = 0
    for name in sample:
        full = os.path.join(path, name)  # noqa: PTH118
        try:
            info = os.lstat(full)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            size, inner = estimated_size(full, skip)
            total += size
            estimated = estimated or inner
        elif stat.S_ISREG(info.st_mode):
            total += info.st_size
    if len(sample) < len(names):
        total = round(total * len(names) / len(sample))
    return total, estimated


@dataclass
class FolderCounts:
    """Pipeline folders of a dataset by status; ``older``: completed on an older data version."""

    pipelines: int = 0
    completed: int = 0
    failed: int = 0
    older: int = 0


def folder_counts(
    workspace: Workspace, dataset: str, newest: str | None, names: list[str] | None = None
) -> FolderCounts:
    """Count the pipeline folders of ``dataset`` by status.

    Folders the catalog lists take their status from their rows (written from their
    ``pipeline.json``), matched in one join; the others (unlisted, incomplete) are
    read. One listing of the dataset folder (``names``, if the caller has it), one
    catalog query, no file read per listed pipeline and no Python loop over them.
    """
    import polars as pl

    root = workspace.layout.dataset_dir(dataset)
    if names is None:
        try:
            names = os.listdir(root)  # noqa: PTH208 - plain names, no Path per entry (100,000 of them)
        except (FileNotFoundError, NotADirectoryError):
            return FolderCounts()
    present = pl.Series("pipeline_folder", names, dtype=pl.String)
    predictions = workspace.predictions
    rows = (
        predictions.scan()
        .filter((pl.col("dataset") == dataset) & pl.col("status").is_in(FINISHED))
        .select("pipeline_folder", "status", "data_digest")
        .unique(subset="pipeline_folder", keep="any")
    )
    try:
        listed = predictions.collect(rows)
    except IntegrityError:  # an unreadable catalog: read every folder (verify reports the catalog)
        columns = ("pipeline_folder", "status", "data_digest")
        listed = pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    here = listed.filter(pl.col("pipeline_folder").is_in(present.implode()))  # hash sets, no join
    completed = pl.col("status") == "completed"
    older = completed & pl.col("data_digest").ne_missing(pl.lit(newest, dtype=pl.String))
    totals = here.select(
        completed=completed.sum(), failed=(pl.col("status") == "failed").sum(), older=older.sum()
    ).row(0, named=True)
    counts = FolderCounts(here.height, totals["completed"], totals["failed"], totals["older"])
    unlisted = present.filter(~present.is_in(listed["pipeline_folder"].implode()))
    for name in unlisted.to_list():
        if parse_pipeline_folder(name) is None or not (root / name).is_dir():
            continue
        status, digest = _finished(workspace, dataset, name)
        counts.pipelines += 1
        counts.completed += status == "completed"
        counts.failed += status == "failed"
        counts.older += status == "completed" and digest != newest
    return counts


def dataset_overview(workspace: Workspace, dataset: str) -> DatasetOverview:
    """Counts from the folders (the truth), sessions from ``run_summary.json``."""
    from ..catalog.archive_registry import archived_datasets

    newest = current_digest(workspace.layout, dataset)
    root = workspace.layout.dataset_dir(dataset)
    try:
        names = os.listdir(root)  # noqa: PTH208 - one listing (names only) for the counts and the size
    except (FileNotFoundError, NotADirectoryError):
        names = []
    counts = folder_counts(workspace, dataset, newest, names)
    sessions = workspace.sessions.sessions(dataset)
    times = [s.get("finished_at") or s.get("started_at") for s in sessions]
    last = max((datetime.fromisoformat(t) for t in times if t), default=None)
    if last is None and counts.pipelines:
        mtime = workspace.layout.dataset_dir(dataset).stat().st_mtime
        last = datetime.fromtimestamp(mtime, UTC)
    claims = frozenset({os.fspath(claims_dir(workspace.layout, dataset))})  # empty files
    size, size_estimated = estimated_size(root, claims, names)
    return DatasetOverview(
        dataset=dataset,
        sessions=len(sessions),
        pipelines=counts.pipelines,
        completed=counts.completed,
        failed=counts.failed,
        size_bytes=size,
        last_run=last,
        best=workspace.best.current(dataset),
        archived=dataset in archived_datasets(workspace.layout),
        older_versions=counts.older,
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
