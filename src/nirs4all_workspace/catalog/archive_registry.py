"""The archive registry: which pipelines have a copy under ``catalog/archives/``.

The meta table has an ``archived`` column, but archiving a pipeline must not
rewrite the catalog. Instead each archive gets one small JSON entry in
``catalog/_archived/`` (``pipeline_<zip name>.json`` or ``runs_<tar name>.json``)
naming the pipelines it holds. Readers overlay it: a row is archived when its
``pipeline_id`` appears in an entry (:func:`with_archive_flags`, applied by
``Predictions.scan``). Entries are written atomically, one file per archive,
so concurrent archives never contend and a crash leaves either the whole
entry or none. An entry is written only after its archive was verified.

Deleted pipelines are flagged the same way: ``trashed`` is true for the rows of
pipelines ``runs delete`` moved to the trash (or purged from it), read from the
trash records (:mod:`~nirs4all_workspace.workspace.trash`); rankings leave them
out, ``catalog query`` still sees them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..workspace.atomic import atomic_write_json
from ..workspace.layout import WorkspaceLayout
from ..workspace.trash import trashed_pipeline_ids

ARCHIVE_KINDS = ("pipeline", "runs")


@dataclass(frozen=True)
class ArchivedPipeline:
    """One pipeline held by an archive."""

    pipeline_id: str
    dataset: str
    folder: str


@dataclass
class ArchiveEntry:
    """One archive file and the pipelines it holds."""

    kind: str
    archive: str  # relative to the workspace root
    created_at: str
    pipelines: list[ArchivedPipeline] = field(default_factory=list)
    predictions: str | None = None  # the copied predictions CSV (pipeline archives)
    session: str | None = None  # runs archives of one session

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "archive": self.archive,
            "created_at": self.created_at,
            "predictions": self.predictions,
            "session": self.session,
            "pipelines": [p.__dict__ for p in self.pipelines],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchiveEntry:
        return cls(
            kind=data["kind"],
            archive=data["archive"],
            created_at=data["created_at"],
            predictions=data.get("predictions"),
            session=data.get("session"),
            pipelines=[ArchivedPipeline(**p) for p in data.get("pipelines", [])],
        )

    @property
    def datasets(self) -> set[str]:
        return {p.dataset for p in self.pipelines}


def register(layout: WorkspaceLayout, entry: ArchiveEntry) -> Path:
    """Write the registry entry of ``entry.archive`` (atomically; replaces an older one)."""
    path = layout.archive_registry_entry(layout.absolute(entry.archive))
    atomic_write_json(path, entry.to_dict())
    return path


def entry_paths(layout: WorkspaceLayout) -> list[Path]:
    folder = layout.archive_registry_dir
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))


def read_entry(path: Path) -> ArchiveEntry:
    """One entry; ValueError/KeyError/TypeError/OSError if it is unreadable."""
    return ArchiveEntry.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def entries(layout: WorkspaceLayout) -> list[ArchiveEntry]:
    """Every readable registry entry (``workspace verify`` reports unreadable ones)."""
    found = []
    for path in entry_paths(layout):
        try:
            found.append(read_entry(path))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def archived_pipeline_ids(layout: WorkspaceLayout) -> set[str]:
    """Ids of the pipelines that have a copy in an archive."""
    return {p.pipeline_id for entry in entries(layout) for p in entry.pipelines}


def archived_ids_in(layout: WorkspaceLayout, pipeline_ids: Iterable[str]) -> set[str]:
    """The subset of ``pipeline_ids`` that is archived and whose archive file exists."""
    wanted = set(pipeline_ids)
    found: set[str] = set()
    for entry in entries(layout):
        hits = wanted & {p.pipeline_id for p in entry.pipelines}
        if hits and layout.absolute(entry.archive).is_file():
            found |= hits
    return found


def archived_datasets(layout: WorkspaceLayout) -> set[str]:
    """Datasets of which a runs tar exists under ``catalog/archives/runs/``."""
    return {
        dataset
        for entry in entries(layout)
        if entry.kind == "runs" and layout.absolute(entry.archive).is_file()
        for dataset in entry.datasets
    }


def with_archive_flags(frame: pl.LazyFrame, layout: WorkspaceLayout) -> pl.LazyFrame:
    """``frame`` with ``archived`` true exactly for the rows of archived pipelines, and ``trashed``
    for those of deleted ones (in the trash or purged).

    The registry is the authority: the value stored in the Parquet files (written
    by ``catalog rebuild`` for other readers) is replaced, so it can never be stale.
    """
    ids = archived_pipeline_ids(layout)
    flag = pl.col("pipeline_id").is_in(sorted(ids)) if ids else pl.lit(value=False)
    trashed = trashed_pipeline_ids(layout)
    in_trash = pl.col("pipeline_id").is_in(sorted(trashed)) if trashed else pl.lit(value=False)
    return frame.with_columns(flag.alias("archived"), in_trash.alias("trashed"))
