"""The trash: ``runs delete`` moves pipelines there, ``runs restore`` brings them back,
``workspace purge`` empties it for good.

A deletion (:func:`move_to_trash`) creates ``runs/<dataset>/_trash/<entry>/``,
copies ``best.json`` and the best CSV there if the best is among the pipelines,
writes ``trash.json`` (:mod:`~nirs4all_workspace.workspace.trash`), and only
then renames each pipeline folder into the entry (one atomic rename each). The
best result is then chosen again among what remains. Binaries stay: a pipeline
in the trash still references them, so ``workspace gc`` keeps them.

A restore (:func:`restore`) checks each folder against the SHA-256 recorded
when it moved, marks it ``live`` in the record, renames it back and, if the
former best is back and still the best, writes back the very ``best.json`` and
best CSV it had. Numbers are the pipelines' own: nothing is renumbered.

Every step is repeatable: the record says where each folder belongs, so an
interrupted deletion, restore or purge is finished by running it again or by
``workspace verify --repair`` (:func:`settle_entry`).

A purge (:func:`~.purge.purge`) sets ``purged_at`` in the record first, then removes
the folders; the record stays as a tombstone (a later restore says when the
pipelines were purged, and their numbers stay remembered). Then the binaries
nothing references any more are collected (with gc's grace for runs under way).
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import InputError, IntegrityError, PipelineNotFound
from ..facade import Workspace
from ..workspace.atomic import atomic_write_bytes, make_dirs
from ..workspace.identity import new_id
from ..workspace.locking import FileLock
from ..workspace.manifest import utc_now
from ..workspace.trash import (
    IN_TRASH,
    LIVE,
    TrashedPipeline,
    TrashRecord,
    entry_names,
    read_record,
    records,
    tree_digest,
    write_record,
)
from .inventory import folder_size
from .retention import PipelineEntry, best_criterion, finished_pipelines, refresh_best, require_dataset

BEST_STATE_COPY = "best.json"


# -- deleting ---------------------------------------------------------------------
@dataclass
class TrashReport:
    """What ``runs delete`` moved to the trash."""

    dataset: str
    entry: str
    moved: list[str]
    size_bytes: int
    best_before: str | None
    best_after: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def select_pipeline(workspace: Workspace, dataset: str, ref: str) -> PipelineEntry:
    """The finished pipeline ``DATASET/ref`` (folder, number or hash); PipelineNotFound otherwise."""
    require_dataset(workspace, dataset)
    folder = workspace.manifests.resolve(dataset, ref)
    found, _incomplete = finished_pipelines(workspace, dataset)
    for entry in found:
        if entry.folder == folder:
            return entry
    raise PipelineNotFound(
        f"pipeline {dataset}/{folder} is incomplete; 'nirs4all workspace verify --repair' settles it first"
    )


def _entry_name() -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}_{new_id()[-8:]}"


def move_to_trash(
    workspace: Workspace, dataset: str, pipelines: list[PipelineEntry], selection: str
) -> TrashReport:
    """Move the finished ``pipelines`` of ``dataset`` into a new trash entry (see the module docstring).

    InputError when ``pipelines`` is empty; IntegrityError if a folder cannot be read.
    """
    if not pipelines:
        raise InputError(f"nothing to delete in dataset {dataset!r}")
    layout = workspace.layout
    try:
        best = workspace.best.current(dataset)
    except IntegrityError:
        best = None  # a corrupt best.json: chosen again below, verify reports it
    folders = [p.folder for p in pipelines]
    takes_best = best is not None and best.folder in folders
    entry = _entry_name()
    record = TrashRecord(dataset=dataset, entry=entry, created_at=utc_now(), selection=selection)
    for p in pipelines:
        source = layout.pipeline(dataset, p.folder).dir
        try:
            digest = tree_digest(source)
        except OSError as exc:
            raise IntegrityError(f"{source} cannot be read ({exc}); nothing was deleted") from None
        record.pipelines.append(
            TrashedPipeline(p.folder, p.pipeline_id, p.number, p.session, p.status, p.size_bytes, digest)
        )
    make_dirs(layout.trash_entry(dataset, entry), exist_ok=False)
    if takes_best and best is not None:
        with contextlib.suppress(OSError):  # the best may change meanwhile: then nothing is kept
            state = layout.best_state_file(dataset).read_bytes()
            csv = layout.best_csv(dataset, best.folder).read_bytes()
            atomic_write_bytes(layout.trashed_best(dataset, entry, BEST_STATE_COPY), state)
            atomic_write_bytes(
                layout.trashed_best(dataset, entry, layout.best_csv(dataset, best.folder).name), csv
            )
            record.best = _best_dict(best)
            record.best_csv = layout.best_csv(dataset, best.folder).name
    # Under the dataset lock: two deletions never record (and move) the same folder.
    with FileLock(layout.dataset_lock(dataset)):
        record.pipelines = [p for p in record.pipelines if layout.pipeline(dataset, p.folder).dir.is_dir()]
        if not record.pipelines:
            shutil.rmtree(layout.trash_entry(dataset, entry))
            raise InputError(f"nothing to delete in {dataset!r}: another process deleted it meanwhile")
        write_record(layout, record)  # the intent first: verify --repair finishes a half-done move
        moved = settle_record(workspace, record)
    folders = moved
    best_after = best
    if takes_best or best is None:
        best_after = refresh_best(workspace, dataset)
    workspace.sessions.log(
        dataset, f"moved {len(folders)} pipelines to the trash ({entry}): {', '.join(folders)}"
    )
    return TrashReport(
        dataset=dataset,
        entry=entry,
        moved=moved,
        size_bytes=sum(p.size_bytes for p in pipelines),
        best_before=None if best is None else best.folder,
        best_after=None if best_after is None else best_after.folder,
    )


def _best_dict(best: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(best)


def settle_record(workspace: Workspace, record: TrashRecord) -> list[str]:
    """Move every folder of ``record`` to where the record says it belongs; returns those moved.

    IntegrityError when a folder is in both places (or in neither, for one not purged).
    """
    layout = workspace.layout
    moved = []
    for p in record.pipelines:
        live = layout.pipeline(record.dataset, p.folder).dir
        trashed = layout.trashed_pipeline(record.dataset, record.entry, p.folder).dir
        if record.purged_at and p.state == IN_TRASH:
            if trashed.exists():
                shutil.rmtree(trashed)
            continue
        source, target = (live, trashed) if p.state == IN_TRASH else (trashed, live)
        if source.exists() and target.exists():
            raise IntegrityError(
                f"{layout.relative(live)} is both in the dataset and in the trash ({record.entry}); "
                "keep one of the two by hand"
            )
        if source.exists():
            source.rename(target)
            moved.append(p.folder)
        elif not target.exists():
            raise IntegrityError(
                f"{layout.relative(live)} is neither in the dataset nor in the trash ({record.entry})"
            )
    return moved


def reread_record(layout: Any, record: TrashRecord) -> TrashRecord | None:
    """The record as it is on disk now (another process may have changed it); None if gone."""
    try:
        return read_record(layout.trash_record(record.dataset, record.entry))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _finish_entry(workspace: Workspace, record: TrashRecord) -> bool:
    """Remove the entry once every pipeline is live again (the record last); True if removed."""
    if record.purged_at or any(p.state == IN_TRASH for p in record.pipelines):
        return False
    layout = workspace.layout
    folder = layout.trash_entry(record.dataset, record.entry)
    for path in sorted(folder.iterdir()):
        if path.name != layout.trash_record(record.dataset, record.entry).name:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    layout.trash_record(record.dataset, record.entry).unlink(missing_ok=True)
    folder.rmdir()
    return True


# -- restoring --------------------------------------------------------------------
@dataclass
class RestorePlan:
    """What ``runs restore`` would bring back: (trash record, its pipelines to restore)."""

    dataset: str
    items: list[tuple[TrashRecord, list[TrashedPipeline]]] = field(default_factory=list)

    @property
    def pipelines(self) -> list[TrashedPipeline]:
        return [p for _record, chosen in self.items for p in chosen]

    @property
    def size_bytes(self) -> int:
        return sum(p.size_bytes for p in self.pipelines)

    @property
    def restores_best(self) -> str | None:
        """The former best folder, if it is among the pipelines to restore."""
        folders = {p.folder for p in self.pipelines}
        for record, _chosen in self.items:
            if record.best_folder in folders:
                return record.best_folder
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "pipelines": [
                {"folder": p.folder, "session": p.session, "status": p.status, "entry": r.entry}
                for r, chosen in self.items
                for p in chosen
            ],
            "size_bytes": self.size_bytes,
            "restores_best": self.restores_best,
        }


@dataclass
class RestoreReport:
    """What ``runs restore`` brought back."""

    dataset: str
    restored: list[str]
    best_after: str | None
    catalog_rows_added: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _matches(
    workspace: Workspace, dataset: str, p: TrashedPipeline, ref: str | None, session: str | None
) -> bool:
    if session is not None and p.session != session:
        return False
    if ref is None:
        return True
    ref = ref.strip()
    parsed = workspace.layout.pipeline(dataset, p.folder)  # validates the recorded name
    short_hash = p.folder.rsplit("_", 1)[-1]
    return (
        parsed.folder == ref
        or (ref.isdigit() and int(ref) == p.number)
        or (len(ref) >= 4 and short_hash.startswith(ref.lower()))
    )


def plan_restore(
    workspace: Workspace, dataset: str, ref: str | None = None, session: str | None = None
) -> RestorePlan:
    """The trashed pipelines of ``dataset`` (one ``ref``, or those of ``session``) to bring back.

    Pipelines a restore already marked ``live`` but did not finish moving are
    included (running it again finishes it). InputError naming why when nothing
    matches: purged (with the date), or not in the trash (with what is).
    """
    require_dataset(workspace, dataset)
    layout = workspace.layout
    plan = RestorePlan(dataset)
    purged: list[tuple[TrashRecord, TrashedPipeline]] = []
    sessions: set[str] = set()
    for record in records(layout, dataset):
        chosen = []
        for p in record.pipelines:
            if not _matches(workspace, dataset, p, ref, session):
                if p.state == IN_TRASH and not record.purged_at:
                    sessions.add(p.session)
                continue
            if record.purged_at and p.state == IN_TRASH:
                purged.append((record, p))
            elif p.state == IN_TRASH or layout.trashed_pipeline(dataset, record.entry, p.folder).dir.exists():
                chosen.append(p)
        if chosen:
            plan.items.append((record, chosen))
    if plan.items:
        return plan
    what = f"pipeline {dataset}/{ref}" if ref else f"session {session!r} of {dataset}" if session else dataset
    if purged:
        record, p = purged[-1]
        when = str(record.purged_at)[:10]
        raise InputError(
            f"{what} cannot be restored: it was purged on {when} ('nirs4all workspace purge'); "
            f"{p.folder} is gone for good"
        )
    if session is not None and ref is None:
        known = ", ".join(sorted(sessions)) or "none"
        raise InputError(
            f"{what}: no pipeline of that session is in the trash; sessions in the trash: {known}"
        )
    hint = "nothing of it is in the trash" if ref or session else "its trash is empty"
    raise InputError(
        f"{what} cannot be restored: {hint} ('nirs4all runs restore --from-archive' reads archives)"
    )


def restore(workspace: Workspace, plan: RestorePlan) -> RestoreReport:
    """Bring the planned pipelines back, byte-identical (see the module docstring).

    IntegrityError if a folder changed in the trash (nothing of its entry moves then)
    or a live folder with its name exists.
    """
    from .unlisted import restore_unlisted

    layout = workspace.layout
    dataset = plan.dataset
    restored: list[str] = []
    settled: list[TrashRecord] = []
    former_best: tuple[TrashRecord, str] | None = None
    for record, chosen in plan.items:
        for p in chosen:
            trashed = layout.trashed_pipeline(dataset, record.entry, p.folder).dir
            if p.state == IN_TRASH and trashed.exists():
                try:
                    digest = tree_digest(trashed)
                except OSError as exc:
                    raise IntegrityError(f"{trashed} cannot be read ({exc}); nothing was restored") from None
                if digest != p.sha256:
                    raise IntegrityError(
                        f"{layout.relative(trashed)} changed while in the trash (SHA-256 differs); "
                        "it was not restored"
                    )
            if layout.pipeline(dataset, p.folder).dir.exists() and trashed.exists():
                raise IntegrityError(
                    f"{layout.relative(layout.pipeline(dataset, p.folder).dir)} already exists; "
                    f"{p.folder} stays in the trash"
                )
        with FileLock(layout.dataset_lock(dataset)):
            fresh = reread_record(layout, record)
            if fresh is None or fresh.purged_at:
                raise InputError(f"{dataset}: the trash entry {record.entry} was purged meanwhile")
            wanted = {p.folder for p in chosen}
            for p in fresh.pipelines:
                if p.folder in wanted:
                    p.state = LIVE
            write_record(layout, fresh)  # the intent first, as for a deletion
            restored += settle_record(workspace, fresh)
        settled.append(fresh)
        if fresh.best_folder in wanted:
            former_best = (fresh, str(fresh.best_folder))
    best_after = _restore_best(workspace, dataset, former_best)
    for record in settled:
        _finish_entry(workspace, record)
    added = restore_unlisted(workspace, dataset)  # rows a rebuild dropped meanwhile
    workspace.sessions.log(
        dataset, f"restored {len(restored)} pipelines from the trash: {', '.join(restored)}"
    )
    return RestoreReport(dataset, restored, best_after, added)


def _restore_best(workspace: Workspace, dataset: str, former: tuple[TrashRecord, str] | None) -> str | None:
    """Choose the best again; where the winner was already the best (now, or when it was
    deleted), put back the very ``best.json`` it had, so nothing but the choice changes."""
    layout = workspace.layout
    state_file = layout.best_state_file(dataset)
    try:
        current = workspace.best.current(dataset)
        current_bytes = state_file.read_bytes() if current is not None else None
    except (IntegrityError, OSError):
        current, current_bytes = None, None
    if former is not None and former[0].best:
        saved = former[0].best
        chosen = workspace.best.recompute(dataset, saved["metric"], saved["direction"], saved["partition"])
    else:
        metric, direction, partition = best_criterion(workspace, dataset)
        chosen = workspace.best.recompute(dataset, metric, direction, partition)
    if chosen is None:
        return None
    previous = None
    if current is not None and current_bytes is not None and chosen.folder == current.folder:
        previous = current_bytes
    elif former is not None and chosen.folder == former[1]:
        with contextlib.suppress(OSError):
            previous = layout.trashed_best(dataset, former[0].entry, BEST_STATE_COPY).read_bytes()
    if previous is not None:
        with FileLock(layout.dataset_lock(dataset)):
            if workspace.best.current(dataset) == chosen:  # nobody chose otherwise meanwhile
                atomic_write_bytes(state_file, previous)
    return chosen.folder


# -- settling after a crash ---------------------------------------------------------
def entry_problem(  # noqa: PLR0911 - one return per state an entry can be in
    workspace: Workspace, dataset: str, entry: str
) -> tuple[str, bool] | None:
    """(what is wrong with one trash entry, whether :func:`settle_entry` can fix it), or None."""
    layout = workspace.layout
    folder = layout.trash_entry(dataset, entry)
    try:
        record = read_record(layout.trash_record(dataset, entry))
    except (OSError, ValueError, KeyError, TypeError):
        held = [p.name for p in folder.iterdir() if p.is_dir()]
        if held:
            return f"no readable trash.json, but it holds {', '.join(held)}; move them back by hand", False
        return "a deletion interrupted before it moved anything (no trash.json)", True
    waiting = []
    for p in record.pipelines:
        live = layout.pipeline(dataset, p.folder).dir.exists()
        trashed = layout.trashed_pipeline(dataset, entry, p.folder).dir.exists()
        if record.purged_at and p.state == IN_TRASH:
            if trashed:
                waiting.append(f"{p.folder} (purge interrupted)")
        elif live and trashed:
            return f"{p.folder} is both in the dataset and in the trash; keep one by hand", False
        elif not live and not trashed:
            return f"{p.folder} is neither in the dataset nor in the trash", False
        elif p.state == IN_TRASH and live:
            waiting.append(f"{p.folder} (deletion interrupted)")
        elif p.state == LIVE and trashed:
            waiting.append(f"{p.folder} (restore interrupted)")
    if waiting:
        return f"half-moved: {', '.join(waiting)}", True
    if not record.purged_at and all(p.state == LIVE for p in record.pipelines):
        return "every pipeline was restored but the entry was not removed", True
    return None


def settle_entry(workspace: Workspace, dataset: str, entry: str) -> str:
    """Finish what an interrupted deletion, restore or purge of ``entry`` left half-done."""
    layout = workspace.layout
    try:
        record = read_record(layout.trash_record(dataset, entry))
    except (OSError, ValueError, KeyError, TypeError):
        shutil.rmtree(layout.trash_entry(dataset, entry))  # entry_problem: only when it holds no folder
        return "removed (it held no pipeline)"
    moved = settle_record(workspace, record)
    if _finish_entry(workspace, record):
        return f"restore finished ({len(moved)} moved back)" if moved else "removed the finished entry"
    refresh_best(workspace, dataset)
    return f"finished ({len(moved)} folders moved)" if moved else "finished"


def trash_size(workspace: Workspace, dataset: str) -> int:
    """Bytes of the dataset's trash (records and copies included)."""
    return folder_size(workspace.layout.trash_root(dataset))


def trash_entries(workspace: Workspace, dataset: str) -> list[str]:
    return entry_names(workspace.layout, dataset)
