"""Garbage collection (``nirs4all workspace gc``): what nothing refers to any more.

Four kinds of garbage, each safe to remove:

- binaries in ``runs/<dataset>/_binaries/`` that no ``pipeline.json`` of the
  dataset references, in its folders or in its trash (binaries are per dataset:
  a pipeline only loads from its own dataset's folder; a trashed pipeline keeps
  its binaries until ``workspace purge``);
- catalog fragments already folded into both main files (invisible to readers);
- stray ``.*.partial`` temporaries left by a killed process;
- ``_trash_*`` folders left by an interrupted deletion.

A run writes a pipeline's binaries before its ``pipeline.json``, so a binary
may be unreferenced for a moment while a run is going: binaries are removed
under the dataset's lock and only while no process holds a writer lease on the
dataset (:mod:`.leases`), whatever the age limit; binaries and temporaries are
also only removed once they are older than ``min_age_s`` (ten minutes by
default, 0 accepted; ``ArtifactStore.put`` refreshes the time of a binary it
reuses). A dataset with an unreadable ``pipeline.json`` keeps all its binaries.

What the grace spares is reported (:class:`Spared`): how many files, how many
bytes, and from when they can be collected, so that a user who just archived or
purged runs knows why the space is not free yet and when it will be.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import IntegrityError
from ..facade import Workspace
from ..workspace.atomic import PARTIAL_SUFFIX
from ..workspace.layout import TRASH_PREFIX
from ..workspace.leases import live_writers
from ..workspace.locking import FileLock
from ..workspace.trash import records as trash_records
from .inventory import folder_size

DEFAULT_MIN_AGE_S = 600.0
# Temporaries younger than this are spared whatever the age limit: a write may be under way.
TEMPORARY_MIN_AGE_S = 60.0


@dataclass(frozen=True)
class GarbageItem:
    """One thing gc removes (or would remove)."""

    kind: str  # binary, fragment, temporary, trash
    path: str  # relative to the workspace root
    size: int


@dataclass
class Spared:
    """Garbage the age grace keeps for now: how much, and from when it can go."""

    files: int = 0
    size: int = 0
    collectable_at: float | None = None  # epoch seconds when the youngest is old enough
    min_age_s: float = DEFAULT_MIN_AGE_S

    def merge(self, other: Spared) -> Spared:
        times = [t for t in (self.collectable_at, other.collectable_at) if t is not None]
        return Spared(
            self.files + other.files, self.size + other.size, max(times, default=None), self.min_age_s
        )

    def when(self) -> str:
        """``08:52 UTC`` (the date too if not today)."""
        if self.collectable_at is None:
            return "now"
        moment = datetime.fromtimestamp(self.collectable_at, UTC)
        today = datetime.now(UTC).date()
        return moment.strftime("%H:%M UTC" if moment.date() == today else "%Y-%m-%d %H:%M UTC")

    def to_dict(self) -> dict[str, Any]:
        at = self.collectable_at
        return {
            "files": self.files,
            "size": self.size,
            "min_age_s": self.min_age_s,
            "collectable_at": None if at is None else datetime.fromtimestamp(at, UTC).isoformat(),
        }


def _spared(paths: list[Path], min_age_s: float) -> Spared:
    sizes, times = 0, []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            stat = path.stat()
            sizes += stat.st_size
            times.append(stat.st_mtime + min_age_s)
    return Spared(len(times), sizes, max(times, default=None), min_age_s)


@dataclass
class GcReport:
    """What ``workspace gc`` removed (or, with ``dry_run``, would remove)."""

    items: list[GarbageItem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    dry_run: bool = False
    spared: Spared = field(default_factory=Spared)  # binaries and temporaries the grace keeps

    @property
    def bytes_freed(self) -> int:
        return sum(i.size for i in self.items)

    def counts(self) -> dict[str, int]:
        kinds = ("binary", "fragment", "temporary", "trash")
        return {k: sum(i.kind == k for i in self.items) for k in kinds}

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "bytes_freed": self.bytes_freed,
            "counts": self.counts(),
            "items": [i.__dict__ for i in self.items],
            "skipped": self.skipped,
            "spared": self.spared.to_dict(),
        }


def referenced_binaries(
    workspace: Workspace, dataset: str, leaving: frozenset[str] = frozenset()
) -> set[str] | None:
    """File names referenced by the dataset's pipelines (but those of the folders ``leaving``);
    None if a pipeline.json is unreadable."""
    names: set[str] = set()
    for parsed in workspace.manifests.list_folders(dataset):
        if parsed.folder in leaving:
            continue
        path = workspace.layout.pipeline(dataset, parsed.folder).pipeline_json
        if not path.exists():
            continue  # incomplete (or being written): protected by the age limit
        try:
            record = workspace.manifests.read_pipeline(dataset, parsed.folder)
        except (IntegrityError, OSError):
            return None
        names.update(a["file"] for a in record.get("artifacts", []))
    for entry in trash_records(workspace.layout, dataset):  # kept until purged
        for pipeline in entry.in_trash():
            path = workspace.layout.trashed_pipeline(dataset, entry.entry, pipeline.folder).pipeline_json
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue  # not moved yet: read above from its folder
            except (OSError, ValueError):
                return None
            names.update(a["file"] for a in record.get("artifacts", []))
    return names


def _old_enough(path: Path, min_age_s: float, now: float) -> bool:
    try:
        return now - path.stat().st_mtime >= min_age_s
    except FileNotFoundError:
        return False


def unreferenced_binaries(
    workspace: Workspace, dataset: str, min_age_s: float = DEFAULT_MIN_AGE_S
) -> tuple[list[Path], str | None]:
    """(binaries to remove, why none were considered) for one dataset."""
    folder = workspace.layout.binaries_dir(dataset)
    if not folder.is_dir():
        return [], None
    referenced = referenced_binaries(workspace, dataset)
    if referenced is None:
        return [], f"{dataset}: a pipeline.json is unreadable, binaries kept ('nirs4all workspace verify')"
    now = time.time()
    return [
        folder / name
        for name in workspace.artifacts.files(dataset)
        if name not in referenced and _old_enough(folder / name, min_age_s, now)
    ], None


def spared_binaries(workspace: Workspace, dataset: str, min_age_s: float = DEFAULT_MIN_AGE_S) -> Spared:
    """The dataset's unreferenced binaries younger than ``min_age_s``: gc removes them later."""
    folder = workspace.layout.binaries_dir(dataset)
    if not folder.is_dir() or min_age_s <= 0:
        return Spared(min_age_s=min_age_s)
    referenced = referenced_binaries(workspace, dataset)
    if referenced is None:
        return Spared(min_age_s=min_age_s)
    now = time.time()
    young = [
        folder / name
        for name in workspace.artifacts.files(dataset)
        if name not in referenced and not _old_enough(folder / name, min_age_s, now)
    ]
    return _spared(young, min_age_s)


def binaries_only_of(workspace: Workspace, dataset: str, folders: set[str]) -> list[Path]:
    """Binaries of ``dataset`` that only the pipeline ``folders`` reference (what deleting them
    for good would leave unreferenced); none when a pipeline.json is unreadable."""
    own: set[str] = set()
    for folder in folders:
        with contextlib.suppress(IntegrityError, OSError):
            record = workspace.manifests.read_pipeline(dataset, folder)
            own |= {a["file"] for a in record.get("artifacts", [])}
    others = referenced_binaries(workspace, dataset, frozenset(folders))
    if others is None:
        return []
    folder = workspace.layout.binaries_dir(dataset)
    return [folder / name for name in sorted(own - others) if (folder / name).is_file()]


def grace_of(paths: list[Path], min_age_s: float = DEFAULT_MIN_AGE_S) -> tuple[int, Spared]:
    """(bytes of ``paths``, the part of them gc's grace spares now and until when)."""
    now = time.time()
    total = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            total += path.stat().st_size
    return total, _spared([p for p in paths if not _old_enough(p, min_age_s, now)], min_age_s)


def remove_unreferenced_binaries(
    workspace: Workspace, dataset: str, min_age_s: float = DEFAULT_MIN_AGE_S
) -> list[GarbageItem]:
    """Remove the dataset's unreferenced binaries; returns what was removed.

    Under the dataset's lock, and only when no process holds a writer lease on the
    dataset (:mod:`.leases`): references are read again there, so a binary that a
    pipeline being written refers to is never removed, whatever ``min_age_s`` is.
    """
    removed, _reason = _remove_binaries_safely(workspace, dataset, None, min_age_s)
    return removed


def _remove_binaries_safely(
    workspace: Workspace, dataset: str, wanted: set[str] | None, min_age_s: float
) -> tuple[list[GarbageItem], str | None]:
    """(removed, why some were kept): unreferenced binaries (of ``wanted`` if given), checked under
    the lock."""
    if not workspace.layout.binaries_dir(dataset).is_dir():
        return [], None
    with FileLock(workspace.layout.dataset_lock(dataset)):
        writers = live_writers(workspace.layout, dataset)
        if writers:
            return [], f"{dataset}: binaries kept while {writers} process(es) write pipelines into it"
        paths, reason = unreferenced_binaries(workspace, dataset, min_age_s)
        items = [_item("binary", workspace, p) for p in paths if wanted is None or p.name in wanted]
        return [i for i in items if _remove_if_old(workspace.layout.absolute(i.path), min_age_s)], reason


def _item(kind: str, workspace: Workspace, path: Path) -> GarbageItem:
    try:
        size = folder_size(path) if path.is_dir() else path.stat().st_size
    except FileNotFoundError:
        size = 0
    return GarbageItem(kind, workspace.layout.relative(path), size)


def _remove_if_old(path: Path, min_age_s: float) -> bool:
    """Unlink ``path`` if it is still old enough (checked again: a run may have just reused it)."""
    if not _old_enough(path, min_age_s, time.time()):
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        return True
    return False


def stray_temporaries(root: Path, min_age_s: float = 0.0) -> list[Path]:
    """Hidden ``.NAME.XXXX.partial`` files below ``root`` (older than ``min_age_s``)."""
    now = time.time()
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.startswith(".") and name.endswith(PARTIAL_SUFFIX):
                path = Path(folder) / name
                if _old_enough(path, min_age_s, now):
                    found.append(path)
    return sorted(found)


def trash_folders(workspace: Workspace) -> list[Path]:
    """``_trash_*`` folders left in dataset folders (or in ``runs/``) by interrupted deletions."""
    runs = workspace.layout.runs_dir
    if not runs.is_dir():
        return []
    found = [p for p in runs.glob(f"{TRASH_PREFIX}*") if p.is_dir()]
    for dataset in workspace.datasets():
        found += [p for p in workspace.layout.dataset_dir(dataset).glob(f"{TRASH_PREFIX}*") if p.is_dir()]
    return sorted(found)


def _compacted_fragments(workspace: Workspace, report: GcReport) -> list[Path]:
    from ..catalog.predictions import DATA_SUFFIX, META_SUFFIX

    predictions = workspace.predictions
    try:
        ids = predictions.compacted_fragment_ids()
    except IntegrityError as exc:
        report.skipped.append(f"catalog fragments kept: {exc}")
        return []
    folder = workspace.layout.catalog_fragments_dir
    paths = [folder / f"{i}{suffix}" for i in ids for suffix in (META_SUFFIX, DATA_SUFFIX)]
    return [p for p in paths if p.exists()]


def collect_garbage(
    workspace: Workspace, dry_run: bool = False, min_age_s: float = DEFAULT_MIN_AGE_S
) -> GcReport:
    """Find (and unless ``dry_run`` remove) the workspace's garbage; see the module docstring."""
    report = GcReport(dry_run=dry_run, spared=Spared(min_age_s=min_age_s))
    layout = workspace.layout
    for dataset in workspace.datasets():
        paths, reason = unreferenced_binaries(workspace, dataset, min_age_s)
        if reason:
            report.skipped.append(reason)
        report.items += [_item("binary", workspace, p) for p in paths]
        report.spared = report.spared.merge(spared_binaries(workspace, dataset, min_age_s))
    fragments = _compacted_fragments(workspace, report)
    report.items += [_item("fragment", workspace, p) for p in fragments]
    temporary_age = max(min_age_s, TEMPORARY_MIN_AGE_S)
    report.items += [_item("temporary", workspace, p) for p in stray_temporaries(layout.root, temporary_age)]
    young = set(stray_temporaries(layout.root)) - set(stray_temporaries(layout.root, temporary_age))
    report.spared = report.spared.merge(_spared(sorted(young), temporary_age))
    trash = trash_folders(workspace)
    report.items += [_item("trash", workspace, p) for p in trash]
    if dry_run:
        return report
    removed = [i for i in report.items if i.kind not in ("binary", "temporary")]
    removed += [
        i
        for i in report.items
        if i.kind == "temporary" and _remove_if_old(layout.absolute(i.path), temporary_age)
    ]
    binaries = [i for i in report.items if i.kind == "binary"]
    for dataset in sorted({Path(i.path).parts[1] for i in binaries}):
        wanted = {Path(i.path).name for i in binaries if Path(i.path).parts[1] == dataset}
        gone, reason = _remove_binaries_safely(workspace, dataset, wanted, min_age_s)
        removed += gone
        if reason:
            report.skipped.append(reason)
    report.items = removed
    if fragments:
        with FileLock(layout.catalog_lock):
            workspace.predictions.remove_compacted_fragments()
    for path in trash:
        shutil.rmtree(path, ignore_errors=True)
    return report
