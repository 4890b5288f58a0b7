"""Archiving runs (``nirs4all runs archive DATASET [--session S]``): tar, verify, then delete.

The finished pipelines of the dataset (or of one session) go into
``catalog/archives/runs/<dataset>[_<session>]_<UTC date-time>.tar.gz`` with the
binaries they reference, the dataset's session files and, if it is among them,
the best-result file and ``_state/best.json``; ``manifest.json`` lists each member's size and SHA-256.
The tar is written to a temporary and renamed, then read back and checked
against those digests. Only then is it registered (the pipelines' catalog rows
become ``archived``) and are the pipelines deleted, as ``runs delete`` does.
A crash before the registration leaves the folders untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputError, IntegrityError
from ..facade import Workspace
from ..workspace.best import BestResult
from ..workspace.bundles import BundleManifest, pipeline_members, write_bundle
from ..workspace.locking import FileLock
from ..workspace.manifest import utc_now
from .gc import Spared, binaries_only_of
from .retention import DeletionPlan, DeletionReport, PipelineEntry, delete_pipelines, select_pipelines

BEST_STATE_MEMBER = "_state/best.json"


@dataclass
class RunsArchivePlan:
    """What ``runs archive`` would put in the tar (and then delete)."""

    dataset: str
    session: str | None
    pipelines: list[PipelineEntry]
    members: list[tuple[str, Path]] = field(default_factory=list)
    skipped_incomplete: list[str] = field(default_factory=list)
    best: BestResult | None = None
    own_binaries: list[Path] = field(default_factory=list)  # referenced by no other pipeline

    @property
    def size_bytes(self) -> int:
        return sum(path.stat().st_size for _name, path in self.members if path.exists())

    def binaries_outlook(self, min_age_s: float | None = None) -> tuple[int, int, Spared]:
        """(count, bytes) of the binaries only these pipelines use, and what gc's grace keeps of
        them after the deletion (``Spared``: how much, until when)."""
        from .gc import DEFAULT_MIN_AGE_S, grace_of

        size, spared = grace_of(self.own_binaries, DEFAULT_MIN_AGE_S if min_age_s is None else min_age_s)
        return len(self.own_binaries), size, spared

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "session": self.session,
            "pipelines": [p.to_dict() for p in self.pipelines],
            "files": len(self.members),
            "size_bytes": self.size_bytes,
            "skipped_incomplete": self.skipped_incomplete,
            "binaries": self._binaries_dict(),
        }

    def _binaries_dict(self) -> dict[str, Any]:
        count, size, spared = self.binaries_outlook()
        return {"files": count, "size_bytes": size, "spared": spared.to_dict()}


@dataclass
class RunsArchiveReport:
    """The tar written and the deletion that followed."""

    archive: str  # relative to the workspace root
    size_bytes: int
    files: int
    deletion: DeletionReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "size_bytes": self.size_bytes,
            "files": self.files,
            "deletion": self.deletion.to_dict(),
        }


def plan_runs_archive(workspace: Workspace, dataset: str, session: str | None = None) -> RunsArchivePlan:
    """Select the finished pipelines (of ``session``) and the files the tar will hold."""
    pipelines, incomplete = select_pipelines(workspace, dataset, session)
    layout = workspace.layout
    try:
        best = workspace.best.current(dataset)
    except IntegrityError:  # a corrupt best.json: the best file is not added, verify reports it
        best = None
    members = pipeline_members(layout, dataset, [p.record for p in pipelines])
    extra = [layout.run_config_json(dataset), layout.run_summary_json(dataset), layout.run_log(dataset)]
    if best is not None and any(p.folder == best.folder for p in pipelines):
        extra.append(layout.best_csv(dataset, best.folder))
    members += [(f"{dataset}/{path.name}", path) for path in extra if path.is_file()]
    if best is not None and any(p.folder == best.folder for p in pipelines):
        # So that a restore puts back the very best.json the best had (runs restore --from-archive).
        members.append((f"{dataset}/{BEST_STATE_MEMBER}", layout.best_state_file(dataset)))
    own = binaries_only_of(workspace, dataset, {p.folder for p in pipelines})
    return RunsArchivePlan(dataset, session, pipelines, members, incomplete, best, own)


def _free_target(workspace: Workspace, plan: RunsArchivePlan) -> Path:
    """The tar's name; ``-2``, ``-3``... if an archive of the same second exists (under the lock)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = workspace.layout.runs_archive(plan.dataset, plan.session, stamp)
    suffix = 2
    while target.exists():
        target = workspace.layout.runs_archive(plan.dataset, plan.session, f"{stamp}-{suffix}")
        suffix += 1
    return target


def archive_runs(
    workspace: Workspace, plan: RunsArchivePlan, binaries_min_age_s: float | None = None
) -> RunsArchiveReport:
    """Write and verify the tar of ``plan``, register it, then delete the archived pipelines.

    Raises InputError when there is nothing to archive and IntegrityError when a
    file cannot be read or the tar does not read back (nothing is deleted then).
    """
    from ..catalog.archive_registry import ArchivedPipeline, ArchiveEntry, register

    if not plan.pipelines:
        what = f"session {plan.session!r} of " if plan.session else ""
        raise InputError(f"{what}dataset {plan.dataset!r} has no finished pipeline to archive")
    layout = workspace.layout
    manifest = BundleManifest(
        kind="runs",
        dataset=plan.dataset,
        session=plan.session,
        created_at=utc_now(),
        pipelines=[
            {"id": p.pipeline_id, "folder": p.folder, "number": p.number, "status": p.status}
            for p in plan.pipelines
        ],
    )
    with FileLock(layout.archive_lock):
        target = _free_target(workspace, plan)
        write_bundle(target, plan.members, manifest)
        register(
            layout,
            ArchiveEntry(
                kind="runs",
                archive=layout.relative(target),
                created_at=manifest.created_at,
                session=plan.session,
                pipelines=[ArchivedPipeline(p.pipeline_id, p.dataset, p.folder) for p in plan.pipelines],
            ),
        )
    deletion_plan = DeletionPlan(plan.dataset, plan.pipelines, best=plan.best, best_archived=True)
    deletion = delete_pipelines(workspace, deletion_plan, binaries_min_age_s=binaries_min_age_s)
    workspace.sessions.log(plan.dataset, f"archived {len(plan.pipelines)} pipelines to {target.name}")
    return RunsArchiveReport(
        archive=layout.relative(target),
        size_bytes=target.stat().st_size,
        files=len(manifest.files),
        deletion=deletion,
    )
