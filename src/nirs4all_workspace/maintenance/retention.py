"""Deleting pipelines (``nirs4all runs delete``) without leaving the workspace inconsistent.

A deletion is planned first (:func:`plan_deletion`: what would go, and whether
it would lose the only copy of the dataset's best result), then carried out
(:func:`delete_pipelines`). Each folder is renamed to ``_trash_<id>`` and only
then removed, so a crash never leaves a half-deleted folder that still looks
like a pipeline; ``workspace gc`` removes leftover trash. The numbering
high-water mark is kept (numbers are never reused), the best result is chosen
again when the best pipeline goes, binaries no pipeline references any more are
removed, and the catalog rows are kept: the catalog survives deletion of runs.
Only finished pipelines are ever selected; incomplete folders are left to
``workspace verify``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import DeletionRefused, InputError, IntegrityError, PipelineNotFound, WorkspaceError
from ..facade import Workspace
from ..workspace.best import BestResult
from ..workspace.identity import new_id
from ..workspace.manifest import FINISHED_STATUSES
from .inventory import folder_size

DEFAULT_CRITERION = ("rmse", "min", "val")


@dataclass(frozen=True)
class PipelineEntry:
    """A finished pipeline folder, as the lifecycle commands see it."""

    dataset: str
    folder: str
    number: int
    pipeline_id: str
    session: str
    status: str
    created_at: str
    size_bytes: int
    record: dict[str, Any] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "record"}


def require_dataset(workspace: Workspace, dataset: str) -> None:
    """PipelineNotFound naming the datasets that exist, unless ``dataset`` is one."""
    if not workspace.layout.dataset_dir(dataset).is_dir():
        known = ", ".join(workspace.datasets()) or "none"
        raise PipelineNotFound(f"no dataset {dataset!r} in {workspace.layout.runs_dir}; datasets: {known}")


def finished_pipelines(workspace: Workspace, dataset: str) -> tuple[list[PipelineEntry], list[str]]:
    """(finished pipelines, folders that are incomplete or unreadable), by number."""
    found, incomplete = [], []
    for parsed in workspace.manifests.list_folders(dataset):
        try:
            record = workspace.manifests.read_pipeline(dataset, parsed.folder)
        except (IntegrityError, OSError):
            incomplete.append(parsed.folder)
            continue
        if record.get("status") not in FINISHED_STATUSES:
            incomplete.append(parsed.folder)
            continue
        found.append(
            PipelineEntry(
                dataset=dataset,
                folder=parsed.folder,
                number=parsed.number,
                pipeline_id=str(record.get("id")),
                session=str(record.get("session")),
                status=record["status"],
                created_at=str(record.get("timings", {}).get("created_at", "")),
                size_bytes=folder_size(workspace.layout.pipeline(dataset, parsed.folder).dir),
                record=record,
            )
        )
    return found, incomplete


def select_pipelines(
    workspace: Workspace, dataset: str, session: str | None = None, older_than: timedelta | None = None
) -> tuple[list[PipelineEntry], list[str]]:
    """Finished pipelines of ``session`` (all by default) created more than ``older_than`` ago."""
    require_dataset(workspace, dataset)
    found, incomplete = finished_pipelines(workspace, dataset)
    if session is not None:
        _require_session(workspace, dataset, session, found)
        found = [p for p in found if p.session == session]
    if older_than is not None:
        cutoff = datetime.now(UTC) - older_than
        found = [p for p in found if p.created_at and datetime.fromisoformat(p.created_at) < cutoff]
    return found, incomplete


def _require_session(workspace: Workspace, dataset: str, session: str, found: list[PipelineEntry]) -> None:
    """InputError naming the sessions of ``dataset`` when ``session`` is none of them."""
    known = {p.session for p in found if p.session}
    # An unreadable run_summary.json: the pipelines' own sessions still count.
    with contextlib.suppress(OSError, ValueError, KeyError, WorkspaceError):
        known |= {s["session"] for s in workspace.sessions.sessions(dataset) if s.get("session")}
    if session not in known:
        raise InputError(
            f"dataset {dataset!r} has no session {session!r}; sessions: {', '.join(sorted(known)) or 'none'}"
        )


def best_criterion(workspace: Workspace, dataset: str) -> tuple[str, str, str]:
    """(metric, direction, partition) that chooses the best: the recorded one, else the last session's."""
    with contextlib.suppress(IntegrityError):
        best = workspace.best.current(dataset)
        if best is not None:
            return best.metric, best.direction, best.partition
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        config = json.loads(workspace.layout.run_config_json(dataset).read_text(encoding="utf-8"))
        last = config["sessions"][-1]
        return last["metric"], last["direction"], last.get("partition", "val")
    return DEFAULT_CRITERION


def refresh_best(workspace: Workspace, dataset: str) -> BestResult | None:
    """Choose the best among the remaining pipelines again (keeps the recorded criterion)."""
    metric, direction, partition = best_criterion(workspace, dataset)
    return workspace.best.recompute(dataset, metric, direction, partition)


def remove_pipeline_folders(workspace: Workspace, dataset: str, folders: list[str]) -> int:
    """Rename each folder to ``_trash_<id>`` (atomic), then remove it; returns the bytes freed."""
    freed = 0
    for folder in folders:
        source = workspace.layout.pipeline(dataset, folder).dir
        trash = workspace.layout.trash_dir(dataset, new_id())
        size = folder_size(source)
        try:
            source.rename(trash)
        except FileNotFoundError:  # removed meanwhile by another process
            continue
        shutil.rmtree(trash, ignore_errors=True)
        freed += size
    return freed


@dataclass
class DeletionPlan:
    """What ``runs delete`` would remove, and whether it may."""

    dataset: str
    pipelines: list[PipelineEntry]
    skipped_incomplete: list[str] = field(default_factory=list)
    best: BestResult | None = None
    best_archived: bool = False
    session: str | None = None

    @property
    def size_bytes(self) -> int:
        return sum(p.size_bytes for p in self.pipelines)

    @property
    def deletes_best(self) -> bool:
        return self.best is not None and any(p.folder == self.best.folder for p in self.pipelines)

    @property
    def refusal(self) -> str | None:
        """Why deleting would lose the only copy of the best result (None if it would not)."""
        if not self.deletes_best or self.best_archived or self.best is None:
            return None
        ref = f"{self.dataset}/{self.best.folder}"
        return (
            f"pipeline {ref} holds the best result of dataset {self.dataset!r} "
            f"({self.best.partition} {self.best.metric} {self.best.score:.4g}) and has no archived copy; "
            f"run 'nirs4all catalog archive {ref}' first, or pass --force"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "session": self.session,
            "pipelines": [p.to_dict() for p in self.pipelines],
            "size_bytes": self.size_bytes,
            "skipped_incomplete": self.skipped_incomplete,
            "deletes_best": self.deletes_best,
            "refusal": self.refusal,
        }


@dataclass
class DeletionReport:
    """What ``runs delete`` removed."""

    dataset: str
    deleted: list[str]
    bytes_freed: int
    binaries_removed: int
    best_before: str | None
    best_after: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def plan_deletion(
    workspace: Workspace, dataset: str, session: str | None = None, older_than: timedelta | None = None
) -> DeletionPlan:
    """Select the pipelines to delete and check that the best result keeps a copy."""
    from ..catalog.archive_registry import archived_ids_in

    pipelines, incomplete = select_pipelines(workspace, dataset, session, older_than)
    try:
        best = workspace.best.current(dataset)
    except IntegrityError:
        best = None  # a corrupt best.json is recomputed after the deletion
    plan = DeletionPlan(dataset, pipelines, incomplete, best, session=session)
    if plan.deletes_best and best is not None:
        best_id = next(p.pipeline_id for p in pipelines if p.folder == best.folder)
        plan.best_archived = bool(archived_ids_in(workspace.layout, [best_id]))
    return plan


def delete_pipelines(
    workspace: Workspace, plan: DeletionPlan, force: bool = False, binaries_min_age_s: float | None = None
) -> DeletionReport:
    """Delete the planned pipeline folders; DeletionRefused if the best would be lost without ``force``.

    Binaries no remaining pipeline references (and untouched for ``binaries_min_age_s``,
    default: gc's) are removed too; catalog rows are kept.
    """
    from .gc import DEFAULT_MIN_AGE_S, remove_unreferenced_binaries

    refusal = plan.refusal
    if refusal and not force:
        raise DeletionRefused(refusal)
    folders = [p.folder for p in plan.pipelines]
    freed = remove_pipeline_folders(workspace, plan.dataset, folders)
    best_after = plan.best
    if plan.deletes_best or plan.best is None:
        best_after = refresh_best(workspace, plan.dataset)
    min_age = DEFAULT_MIN_AGE_S if binaries_min_age_s is None else binaries_min_age_s
    binaries = remove_unreferenced_binaries(workspace, plan.dataset, min_age)
    freed += sum(item.size for item in binaries)
    workspace.sessions.log(plan.dataset, f"deleted {len(folders)} pipelines: {', '.join(folders)}")
    return DeletionReport(
        dataset=plan.dataset,
        deleted=folders,
        bytes_freed=freed,
        binaries_removed=len(binaries),
        best_before=None if plan.best is None else plan.best.folder,
        best_after=None if best_after is None else best_after.folder,
    )
