"""The trash of a dataset: records of what ``runs delete`` moved, read by every layer.

``runs/<dataset>/_trash/<entry>/`` holds the pipeline folders one deletion moved
and ``trash.json``, the record written *before* anything moves: which pipelines
(folder, id, number, session, SHA-256 of the folder's tree), when, and the
dataset's best result if it was among them (``best.json`` and the best CSV are
copied beside the record). Each pipeline has a ``state``: ``trash`` (it belongs
in the entry) or ``live`` (a restore brings it back). The file system says where
each folder is; the record says where it should be, so an interrupted move is
seen (and finished) by ``workspace verify --repair``. ``purged_at`` is set once
``workspace purge`` removed the folders for good: the record stays as a small
tombstone, so a restore can say why it refuses and the numbers stay remembered.

The moving itself lives in :mod:`nirs4all_workspace.maintenance.trash`; this
module only reads and writes records (the catalog reads them to flag rows).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .atomic import PARTIAL_SUFFIX, atomic_write_json
from .layout import TRASH_FOLDER, TRASH_RECORD, WorkspaceLayout
from .schema import SCHEMA_KEY

TRASH_SCHEMA = 1
IN_TRASH = "trash"
LIVE = "live"


@dataclass
class TrashedPipeline:
    """One pipeline a deletion moved (or is moving) into the trash."""

    folder: str
    pipeline_id: str
    number: int
    session: str
    status: str
    size_bytes: int
    sha256: str  # of the folder's tree (tree_digest), taken before it moved
    state: str = IN_TRASH  # where it belongs: IN_TRASH or LIVE (restored)


@dataclass
class TrashRecord:
    """``trash.json``: one deletion."""

    dataset: str
    entry: str
    created_at: str
    selection: str  # what the user asked for, e.g. "session a", "0005_pls_abc123", "all"
    pipelines: list[TrashedPipeline] = field(default_factory=list)
    best: dict[str, Any] | None = None  # best.json as it was, when the best was among them
    best_csv: str | None = None  # name of the best CSV copied beside the record
    purged_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {SCHEMA_KEY: TRASH_SCHEMA, "kind": "trash", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrashRecord:
        return cls(
            dataset=str(data["dataset"]),
            entry=str(data["entry"]),
            created_at=str(data["created_at"]),
            selection=str(data.get("selection", "")),
            pipelines=[TrashedPipeline(**p) for p in data.get("pipelines", [])],
            best=data.get("best"),
            best_csv=data.get("best_csv"),
            purged_at=data.get("purged_at"),
        )

    def in_trash(self) -> list[TrashedPipeline]:
        """The pipelines that belong in the trash (none once purged)."""
        return [] if self.purged_at else [p for p in self.pipelines if p.state == IN_TRASH]

    @property
    def best_folder(self) -> str | None:
        return None if not self.best else str(self.best.get("folder"))


def write_record(layout: WorkspaceLayout, record: TrashRecord) -> None:
    atomic_write_json(layout.trash_record(record.dataset, record.entry), record.to_dict())


def read_record(path: Path) -> TrashRecord:
    """One record; ValueError/KeyError/TypeError/OSError if unreadable."""
    return TrashRecord.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def entry_names(layout: WorkspaceLayout, dataset: str) -> list[str]:
    """Entries of a dataset's trash, oldest first (their names start with the UTC time)."""
    root = layout.trash_root(dataset)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name[0] not in "._")


def records(layout: WorkspaceLayout, dataset: str) -> list[TrashRecord]:
    """Every readable record of the dataset's trash (``workspace verify`` reports the others)."""
    found = []
    for name in entry_names(layout, dataset):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            found.append(read_record(layout.trash_record(dataset, name)))
    return found


def _all_record_paths(layout: WorkspaceLayout) -> list[Path]:
    runs = layout.runs_dir
    if not runs.is_dir():
        return []
    paths = []
    with os.scandir(runs) as datasets:
        for dataset in datasets:
            trash = Path(dataset.path) / TRASH_FOLDER
            if dataset.name[0] in "._" or not trash.is_dir():
                continue
            paths += [p / TRASH_RECORD for p in sorted(trash.iterdir()) if p.name[0] not in "._"]
    return paths


def trashed_pipeline_ids(layout: WorkspaceLayout) -> set[str]:
    """Ids of the pipelines deleted by ``runs delete``: in a trash, or purged from it.

    A pipeline a record says is ``live`` again (restored) is not among them.
    """
    ids: set[str] = set()
    for path in _all_record_paths(layout):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            ids |= _trashed_ids_of(path)
    return ids


# Every catalog read overlays the flags: a record is parsed again only when it changed
# (records are replaced by rename, so a changed one has another inode or time).
_IDS_CACHE: dict[Path, tuple[tuple[int, int, int], frozenset[str]]] = {}


def _trashed_ids_of(path: Path) -> frozenset[str]:
    stat = path.stat()
    key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _IDS_CACHE.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    ids = frozenset(p.pipeline_id for p in read_record(path).pipelines if p.state == IN_TRASH)
    if len(_IDS_CACHE) > 4096:
        _IDS_CACHE.clear()
    _IDS_CACHE[path] = (key, ids)
    return ids


def trashed_numbers(layout: WorkspaceLayout, dataset: str) -> list[int]:
    """Numbers the dataset's trash records remember (purged ones included)."""
    numbers: list[int] = []
    for record in records(layout, dataset):
        numbers += [int(p.number) for p in record.pipelines]
    return numbers


def tree_digest(folder: Path) -> str:
    """SHA-256 over every file below ``folder``: relative path, size and content, in path order.

    Temporaries (``.*.partial``) are left out. Equal digests mean byte-identical trees.
    """
    digest = hashlib.sha256()
    files = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        files += [Path(root) / n for n in names if not n.endswith(PARTIAL_SUFFIX)]
    for path in sorted(files, key=lambda p: p.relative_to(folder).as_posix()):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()
