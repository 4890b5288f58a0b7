"""Emptying the trash for good (``nirs4all workspace purge [--older-than D]``).

Each trash record (:mod:`~nirs4all_workspace.workspace.trash`) is re-read under
the dataset lock and gets ``purged_at`` first, then its folders and best copies
are removed; the record stays as a tombstone (``runs restore`` says when the
pipelines were purged; their numbers stay remembered). Then the binaries
nothing references any more are collected, with gc's grace for runs under way,
and what the grace spared is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..facade import Workspace
from ..workspace.locking import FileLock
from ..workspace.manifest import utc_now
from ..workspace.trash import TrashedPipeline, TrashRecord, records, write_record
from .inventory import folder_size
from .trash import BEST_STATE_COPY, reread_record, settle_record


@dataclass
class PurgePlan:
    """The trash entries ``workspace purge`` would empty for good."""

    records: list[TrashRecord] = field(default_factory=list)

    @property
    def pipelines(self) -> list[tuple[str, TrashedPipeline]]:
        return [(r.dataset, p) for r in self.records for p in r.in_trash()]

    @property
    def size_bytes(self) -> int:
        return sum(p.size_bytes for _d, p in self.pipelines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": [
                {"dataset": r.dataset, "entry": r.entry, "created_at": r.created_at} for r in self.records
            ],
            "pipelines": [
                {"dataset": d, "folder": p.folder, "session": p.session} for d, p in self.pipelines
            ],
            "size_bytes": self.size_bytes,
        }


@dataclass
class PurgeReport:
    """What ``workspace purge`` removed, and the binaries collected after it."""

    pipelines: int
    bytes_freed: int
    binaries_removed: int
    binaries_bytes: int
    spared: Any = None  # gc.Spared: binaries younger than the grace

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "spared"}
        data["spared"] = None if self.spared is None else self.spared.to_dict()
        return data


def plan_purge(workspace: Workspace, older_than: timedelta | None = None) -> PurgePlan:
    """Trash entries (of every dataset) deleted more than ``older_than`` ago (all by default)."""
    cutoff = None if older_than is None else datetime.now(UTC) - older_than
    plan = PurgePlan()
    for dataset in workspace.datasets():
        for record in records(workspace.layout, dataset):
            if not record.in_trash():
                continue
            if cutoff is not None and datetime.fromisoformat(record.created_at) >= cutoff:
                continue
            plan.records.append(record)
    return plan


def purge(workspace: Workspace, plan: PurgePlan, binaries_min_age_s: float | None = None) -> PurgeReport:
    """Remove the planned trash for good, then the binaries nothing references any more."""
    from .gc import DEFAULT_MIN_AGE_S, remove_unreferenced_binaries, spared_binaries

    layout = workspace.layout
    freed = 0
    count = 0
    stamp = utc_now()
    for planned in plan.records:
        with FileLock(layout.dataset_lock(planned.dataset)):
            record = reread_record(layout, planned)  # a restore may have taken some back meanwhile
            if record is None:
                continue
            gone = record.in_trash()
            record.purged_at = record.purged_at or stamp
            write_record(layout, record)  # the intent first: a restore refuses from now on
        freed += sum(
            folder_size(layout.trashed_pipeline(record.dataset, record.entry, p.folder).dir) for p in gone
        )
        settle_record(workspace, record)
        count += len(gone)
        for name in (BEST_STATE_COPY, record.best_csv):
            if name:
                layout.trashed_best(record.dataset, record.entry, name).unlink(missing_ok=True)
        workspace.sessions.log(
            record.dataset, f"purged {len(gone)} pipelines from the trash ({record.entry})"
        )
    min_age = DEFAULT_MIN_AGE_S if binaries_min_age_s is None else binaries_min_age_s
    removed = []
    spared = None
    for dataset in sorted({r.dataset for r in plan.records}):
        removed += remove_unreferenced_binaries(workspace, dataset, min_age)
        found = spared_binaries(workspace, dataset, min_age)
        spared = found if spared is None else spared.merge(found)
    size = sum(i.size for i in removed)
    return PurgeReport(count, freed + size, len(removed), size, spared)
