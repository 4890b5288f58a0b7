"""Trained pipelines kept in ``library/trained/<type>/<name>.zip``: save, list, show, remove, import.

A library entry is a zip in the format of :mod:`.zipformat` (see
``docs/library.md``). A name is unique across the three types; ``TYPE/NAME``
(``filtered/wheat``) also works wherever a name is asked for. Every zip is
written to a temporary, renamed, then read back and checked completely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ArchiveRefused, InputError, IntegrityError
from ..facade import Workspace
from ..workspace.atomic import atomic_write_bytes
from ..workspace.layout import TRAINED_TYPES, WorkspaceLayout, validate_name
from .contents import TrainedZip, open_trained
from .packing import pack_pipelines
from .zipformat import ZipLimits, read_manifest


@dataclass
class LibraryEntry:
    """One zip of the library, described by its manifest."""

    name: str
    kind: str
    path: Path
    size: int
    created_at: str | None = None
    dataset: str | None = None
    pipeline: str | None = None
    pipelines: int = 0
    metric: str | None = None
    partition: str | None = None
    score: float | None = None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return f"{self.dataset}/{self.pipeline}" if self.dataset else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind,
            "path": str(self.path),
            "size": self.size,
            "created_at": self.created_at,
            "source": self.source,
            "pipelines": self.pipelines,
            "metric": self.metric,
            "partition": self.partition,
            "score": self.score,
            "problem": self.problem,
        }


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def entry_from_manifest(path: Path, kind: str, manifest: dict[str, Any]) -> LibraryEntry:
    """The listing line of a zip (a manifest only checked for hygiene: every field is optional)."""
    source = _mapping(manifest.get("source"))
    score = _mapping(manifest.get("score"))
    value = score.get("value")
    pipelines = manifest.get("pipelines")
    return LibraryEntry(
        name=path.stem,
        kind=kind,
        path=path,
        size=path.stat().st_size,
        created_at=_text(manifest.get("created_at")),
        dataset=_text(source.get("dataset")),
        pipeline=_text(source.get("pipeline")),
        pipelines=len(pipelines) if isinstance(pipelines, list) else 0,
        metric=_text(score.get("metric")),
        partition=_text(score.get("partition")),
        score=float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None,
    )


def write_checked(target: Path, data: bytes) -> TrainedZip:
    """Write zip bytes atomically, then read them back and check them; remove them if unsound."""
    atomic_write_bytes(target, data)
    try:
        return open_trained(target)
    except ArchiveRefused as exc:
        target.unlink(missing_ok=True)
        raise IntegrityError(f"{target} did not read back correctly ({exc}); it was removed") from None


def copy_checked(target: Path, trained: TrainedZip) -> TrainedZip:
    """Copy a checked zip to ``target`` (streamed, atomically), then check the copy completely.

    The copy must carry the very manifest that was checked (its checksum covers
    every member's SHA-256): a source swapped meanwhile is refused and removed.
    """
    trained.opened.copy_to(target)
    try:
        copy = open_trained(target)
        if copy.manifest.get("manifest_sha256") != trained.manifest.get("manifest_sha256"):
            raise ArchiveRefused(f"{trained.label} changed while it was being imported")
    except ArchiveRefused as exc:
        target.unlink(missing_ok=True)
        raise ArchiveRefused(f"{exc}; nothing was imported") from None
    return copy


# -- names ----------------------------------------------------------------------------


def _entries_named(layout: WorkspaceLayout, name: str) -> list[Path]:
    return [
        layout.trained_zip(kind, name) for kind in TRAINED_TYPES if layout.trained_zip(kind, name).is_file()
    ]


def find_entry(layout: WorkspaceLayout, reference: str) -> Path:
    """The zip of library entry ``NAME`` or ``TYPE/NAME``; InputError naming what exists."""
    kind, _, name = reference.rpartition("/")
    if kind:
        path = layout.trained_zip(kind, validate_name(name, "library entry"))
        if path.is_file():
            return path
        found = []
    else:
        found = _entries_named(layout, validate_name(name, "library entry"))
        if len(found) == 1:
            return found[0]
    if len(found) > 1:
        kinds = ", ".join(f"{p.parent.name}/{name}" for p in found)
        raise InputError(f"library entry {name!r} exists in several types; say which: {kinds}")
    known = ", ".join(e.name for e in list_trained(layout)[:10]) or "none"
    raise InputError(f"no library entry {reference!r} in {layout.library_dir}; entries: {known}")


def _check_free(layout: WorkspaceLayout, name: str, force: bool) -> list[Path]:
    existing = _entries_named(layout, validate_name(name, "library entry"))
    if existing and not force:
        raise InputError(
            f"library entry {name!r} already exists ({existing[0].parent.name}); choose another --name, "
            f"pass --force to replace it, or 'nirs4all library remove {name}'"
        )
    return existing


# -- commands -------------------------------------------------------------------------


def save_trained(
    ws: Workspace, reference: str, name: str, kind: str, *, data: Path | None = None, force: bool = False
) -> LibraryEntry:
    """Save ``DATASET/PIPELINE`` as ``library/trained/<kind>/<name>.zip``; returns the entry.

    Raises InputError (name taken without ``force``, bad type, failed pipeline,
    fullrun without its data), PipelineNotFound, IntegrityError.
    """
    if kind not in TRAINED_TYPES:
        raise InputError(f"--type must be one of {', '.join(TRAINED_TYPES)}, not {kind!r}")
    existing = _check_free(ws.layout, name, force)
    packed = pack_pipelines(ws, reference, kind, name=name, data=data)
    target = ws.layout.trained_zip(kind, name)
    write_checked(target, packed.data)
    for path in existing:
        if path != target:
            path.unlink(missing_ok=True)
    entry = entry_from_manifest(target, kind, packed.manifest)
    entry.notes = packed.notes
    return entry


def list_trained(layout: WorkspaceLayout, limits: ZipLimits | None = None) -> list[LibraryEntry]:
    """Every library zip, newest first; a zip that fails its checks is listed with its problem."""
    entries = []
    for kind in TRAINED_TYPES:
        folder = layout.trained_dir(kind)
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.zip")):
            if path.name.startswith("."):
                continue
            try:
                entries.append(entry_from_manifest(path, kind, read_manifest(path, limits)))
            except ArchiveRefused as exc:
                entries.append(LibraryEntry(path.stem, kind, path, path.stat().st_size, problem=str(exc)))
    return sorted(entries, key=lambda e: (e.created_at or "", e.name), reverse=True)


def resolve_zip(layout: WorkspaceLayout, reference: str) -> Path:
    """A zip path as given, else the library entry of that name."""
    path = Path(reference).expanduser()
    if path.suffix.lower() == ".zip" or path.is_file():
        return path
    return find_entry(layout, reference)


@dataclass
class Inspection:
    """A checked zip: its entry line, manifest, members and what loading its objects needs."""

    entry: LibraryEntry
    zip: TrainedZip
    trust_needs: dict[str, list[str]]
    config_needs: dict[str, list[str]] = field(default_factory=dict)


def show_trained(layout: WorkspaceLayout, reference: str) -> Inspection:
    """Check a library entry (or any zip path) completely and describe it; builds no object."""
    path = resolve_zip(layout, reference)
    trained = open_trained(path)
    entry = entry_from_manifest(path, trained.kind, trained.manifest)
    if trained.name:
        entry.name = trained.name
    return Inspection(entry, trained, trained.trust_needs(), trained.config_needs())


def remove_trained(layout: WorkspaceLayout, reference: str, *, dry_run: bool = False) -> Path:
    """Delete a library entry's zip (unless ``dry_run``); returns its path."""
    path = find_entry(layout, reference)
    if not dry_run:
        path.unlink()
    return path


def import_trained(
    layout: WorkspaceLayout,
    source: Path,
    *,
    name: str | None = None,
    trust: bool = False,
    force: bool = False,
) -> LibraryEntry:
    """Copy a zip into the library after checking it fully (hygiene, digests, object types).

    The name is ``name``, else the one in its manifest, else the file name.
    Raises ArchiveRefused / TrustRequired (nothing written), InputError for a taken name.
    """
    trained = open_trained(Path(source))
    notes = trained.require_trust(trust)
    chosen = validate_name(name or trained.name or Path(source).stem, "library entry")
    existing = _check_free(layout, chosen, force)
    Workspace.open(layout.root)  # created on first use, only once the zip is accepted
    target = layout.trained_zip(trained.kind, chosen)
    copy_checked(target, trained)
    for path in existing:
        if path != target:
            path.unlink(missing_ok=True)
    entry = entry_from_manifest(target, trained.kind, trained.manifest)
    entry.notes = notes
    return entry
