"""What a workspace holds, per dataset: counts, sessions, size, age and best."""

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "archived": self.archived,
            "sessions": self.sessions,
            "pipelines": self.pipelines,
            "completed": self.completed,
            "failed": self.failed,
            "size_bytes": self.size_bytes,
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


def dataset_overview(workspace: Workspace, dataset: str) -> DatasetOverview:
    """Counts from the folders (the truth), sessions from ``run_summary.json``."""
    from ..catalog.archive_registry import archived_datasets

    folders = workspace.manifests.list_folders(dataset)
    finished = [_finished(workspace, dataset, f.folder) for f in folders]
    statuses = [status for status, _ in finished]
    newest = current_digest(workspace.layout, dataset)
    older = sum(1 for status, digest in finished if status == "completed" and digest != newest)
    sessions = workspace.sessions.sessions(dataset)
    times = [s.get("finished_at") or s.get("started_at") for s in sessions]
    last = max((datetime.fromisoformat(t) for t in times if t), default=None)
    if last is None and folders:
        mtime = workspace.layout.dataset_dir(dataset).stat().st_mtime
        last = datetime.fromtimestamp(mtime, UTC)
    return DatasetOverview(
        dataset=dataset,
        sessions=len(sessions),
        pipelines=len(folders),
        completed=statuses.count("completed"),
        failed=statuses.count("failed"),
        size_bytes=folder_size(workspace.layout.dataset_dir(dataset)),
        last_run=last,
        best=workspace.best.current(dataset),
        archived=dataset in archived_datasets(workspace.layout),
        older_versions=older,
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
