"""Restoring a runs archive (``nirs4all runs restore --from-archive ARCHIVE``).

The tar ``runs archive`` wrote (:mod:`.archive_runs`) is checked before
anything is written: every member a regular file with a safe name of the
layout (``<dataset>/<NNNN_folder>/...``, ``<dataset>/_binaries/<file>``, the
dataset's session files or best CSV; no absolute path, no ``..``, no link, no
device, no name twice), then every member against the size and SHA-256 its
``manifest.json`` records. A pipeline whose number the dataset already uses
(in its folders or its trash) is a collision and the whole restore is refused,
unless that folder is byte-identical to the archived one (an earlier restore
of the same archive, perhaps interrupted: running it again finishes it).

Files are written into a ``_trash_<id>`` staging folder of the dataset (which
``workspace gc`` and ``verify --repair`` remove if a crash leaves it), binaries
atomically into ``_binaries/`` (skipped when present with the same digest), and
each pipeline folder is renamed into place under the dataset lock, with the
high-water mark raised to its number. Session files are written only where the
dataset has none (the dataset's own are newer). Then the catalog rows the
catalog lacks are added and the best is chosen again. The archive stays.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import ArchiveRefused, InputError, IntegrityError
from ..facade import Workspace
from ..workspace.atomic import atomic_write_bytes, make_dirs
from ..workspace.bundles import MANIFEST_NAME, BundleManifest, check_bundle
from ..workspace.identity import new_id
from ..workspace.layout import parse_pipeline_folder, validate_name
from ..workspace.locking import FileLock
from ..workspace.numbering import raise_mark
from ..workspace.trash import records as trash_records
from ..workspace.trash import tree_digest
from .archive_runs import BEST_STATE_MEMBER
from .retention import refresh_best

SESSION_FILES = ("run_config.json", "run_summary.json", "run.log")
MAX_MEMBERS = 1_000_000


@dataclass
class ArchiveRestorePlan:
    """What restoring ``archive`` would write."""

    archive: Path
    dataset: str
    pipelines: list[str]  # folder names
    files: dict[str, bytes] = field(repr=False, default_factory=dict)  # member name -> content
    already: list[str] = field(default_factory=list)  # folders present and byte-identical

    @property
    def size_bytes(self) -> int:
        return sum(len(data) for data in self.files.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive": str(self.archive),
            "dataset": self.dataset,
            "pipelines": self.pipelines,
            "already_restored": self.already,
            "files": len(self.files),
            "size_bytes": self.size_bytes,
        }


@dataclass
class ArchiveRestoreReport:
    dataset: str
    restored: list[str]
    binaries_written: int
    catalog_rows_added: int
    best_after: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def find_archive(workspace: Workspace, archive: str) -> Path:
    """``archive`` as given (a literal path), else the file of that name in ``catalog/archives/runs/``."""
    path = Path(archive).expanduser()
    if path.is_file():
        return path
    if "/" not in archive and "\\" not in archive:
        candidate = workspace.layout.catalog_archive_dir("runs") / validate_name(archive, "archive")
        if candidate.is_file():
            return candidate
    raise InputError(
        f"no archive {archive!r}: give the path of a .tar.gz written by 'nirs4all runs archive' "
        f"(they are in {workspace.layout.catalog_archive_dir('runs')})"
    )


def _safe_name(name: str, dataset: str) -> str | None:  # noqa: PLR0911 - one return per rule
    """Why member ``name`` is not one a runs archive may hold (None when it is)."""
    if name in (MANIFEST_NAME, f"{dataset}/{BEST_STATE_MEMBER}"):
        return None
    pure = PurePosixPath(name)
    if "\\" in name or pure.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")):
        return "is not a plain relative path"
    parts = pure.parts
    if parts[0] != dataset or len(parts) < 2:
        return f"is outside the dataset {dataset!r} of the manifest"
    try:
        for part in parts[2:] if parts[1] == "_binaries" else parts[1:]:
            validate_name(part, "member")
    except InputError:
        return "has an unsafe part"
    if len(parts) == 2:
        ok = parts[1] in SESSION_FILES or (parts[1].startswith("best_") and parts[1].endswith(".csv"))
        return None if ok else "is not a session file or a best CSV"
    if parts[1] == "_binaries":
        return None if len(parts) == 3 else "is nested inside _binaries"
    return None if parse_pipeline_folder(parts[1]) is not None else "is not in a pipeline folder"


def _read_checked(path: Path) -> tuple[BundleManifest, dict[str, bytes]]:
    """The manifest and every member of a runs tar, after the safety and digest checks."""
    try:
        archive = tarfile.open(path, "r:gz")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise ArchiveRefused(f"{path} is not a readable .tar.gz ({exc}); nothing was restored") from None
    members: dict[str, bytes] = {}
    with archive:
        try:
            for count, member in enumerate(archive):
                if count > MAX_MEMBERS:
                    raise ArchiveRefused(
                        f"{path} holds more than {MAX_MEMBERS} members; nothing was restored"
                    )
                if not member.isfile():
                    raise ArchiveRefused(
                        f"{path}: member {member.name!r} is a link, device or folder; nothing was restored"
                    )
                if member.name in members:
                    raise ArchiveRefused(
                        f"{path}: member {member.name!r} appears twice; nothing was restored"
                    )
                handle = archive.extractfile(member)
                members[member.name] = handle.read() if handle is not None else b""
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise ArchiveRefused(f"{path} is damaged ({exc}); nothing was restored") from None
    if MANIFEST_NAME not in members:
        raise ArchiveRefused(f"{path} has no {MANIFEST_NAME}: not an archive of 'nirs4all runs archive'")
    try:
        manifest = BundleManifest.from_json(members[MANIFEST_NAME])
        validate_name(manifest.dataset)
    except (ValueError, TypeError, KeyError, InputError) as exc:
        raise ArchiveRefused(f"{path} has an unreadable {MANIFEST_NAME} ({exc})") from None
    if manifest.kind != "runs":
        raise ArchiveRefused(f"{path} is a {manifest.kind!r} archive, not one of 'nirs4all runs archive'")
    for name in members:
        why = _safe_name(name, manifest.dataset)
        if why:
            raise ArchiveRefused(f"{path}: member {name!r} {why}; nothing was restored")
    problems = check_bundle(path)
    if problems:
        raise ArchiveRefused(f"{path} does not match its manifest ({problems[0]}); nothing was restored")
    return manifest, members


def _folder_members(files: dict[str, bytes], dataset: str, folder: str) -> dict[str, bytes]:
    prefix = f"{dataset}/{folder}/"
    return {name[len(prefix) :]: data for name, data in files.items() if name.startswith(prefix)}


def _digest_of_members(members: dict[str, bytes]) -> str:
    """The :func:`tree_digest` the folder would have once written."""
    digest = hashlib.sha256()
    for name in sorted(members):
        digest.update(f"{name}\0{len(members[name])}\0".encode())
        digest.update(hashlib.sha256(members[name]).digest())
    return digest.hexdigest()


def plan_archive_restore(workspace: Workspace, archive: str) -> ArchiveRestorePlan:
    """Check ``archive`` and what it would put back; ArchiveRefused / InputError naming why not."""
    path = find_archive(workspace, archive)
    manifest, members = _read_checked(path)
    dataset = manifest.dataset
    layout = workspace.layout
    folders = sorted({n.split("/")[1] for n in members if n.count("/") >= 2} - {"_binaries", "_state"})
    live = {p.number: p.folder for p in workspace.manifests.list_folders(dataset)}
    trashed = {int(p.number): p.folder for r in trash_records(layout, dataset) for p in r.in_trash()}
    plan = ArchiveRestorePlan(path, dataset, [], {n: d for n, d in members.items() if n != MANIFEST_NAME})
    for folder in folders:
        parsed = parse_pipeline_folder(folder)
        assert parsed is not None  # checked by _safe_name
        if parsed.number in trashed:
            raise InputError(
                f"{path.name}: number {parsed.number} of dataset {dataset!r} is in the trash "
                f"({trashed[parsed.number]}); 'nirs4all runs restore {dataset}/{parsed.number}' brings it "
                "back, nothing was restored"
            )
        present = live.get(parsed.number)
        if present is None:
            plan.pipelines.append(folder)
            continue
        same = present == folder and tree_digest(layout.pipeline(dataset, folder).dir) == _digest_of_members(
            _folder_members(plan.files, dataset, folder)
        )
        if not same:
            raise InputError(
                f"{path.name}: dataset {dataset!r} already has pipeline {present} (number {parsed.number}); "
                "nothing was restored"
            )
        plan.already.append(folder)
    return plan


def _put_back_best_state(workspace: Workspace, dataset: str, best: Any, saved: bytes) -> None:
    """The archived ``best.json``, byte for byte, when it names the best just chosen with its score."""
    try:
        data = json.loads(saved)
    except ValueError:
        return
    if not isinstance(data, dict) or (data.get("folder"), data.get("score")) != (best.folder, best.score):
        return
    with FileLock(workspace.layout.dataset_lock(dataset)):
        if workspace.best.current(dataset) == best:  # nobody chose otherwise meanwhile
            atomic_write_bytes(workspace.layout.best_state_file(dataset), saved)


def _binaries_to_write(workspace: Workspace, plan: ArchiveRestorePlan) -> list[tuple[Path, bytes]]:
    """Archived binaries the dataset lacks; IntegrityError if one of the same name differs."""
    binaries = []
    for name, data in sorted(plan.files.items()):
        parts = name.split("/")
        if parts[1] != "_binaries":
            continue
        target = workspace.layout.binary_path(plan.dataset, parts[2])
        if not target.is_file():
            binaries.append((target, data))
        elif hashlib.sha256(target.read_bytes()).digest() != hashlib.sha256(data).digest():
            raise IntegrityError(f"{target} differs from the archived binary of that name; nothing restored")
    return binaries


def restore_from_archive(workspace: Workspace, plan: ArchiveRestorePlan) -> ArchiveRestoreReport:
    """Put the planned pipelines back (see the module docstring); IntegrityError if a binary of
    the same name but other content is in the way (nothing is moved into place then)."""
    from .unlisted import restore_unlisted

    layout = workspace.layout
    dataset = plan.dataset
    make_dirs(layout.state_dir(dataset))
    binaries = _binaries_to_write(workspace, plan)
    staging = layout.trash_dir(dataset, new_id())
    try:
        for folder in plan.pipelines:
            for relative, data in _folder_members(plan.files, dataset, folder).items():
                target = staging / folder / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        for target, data in binaries:  # before the folders that reference them
            atomic_write_bytes(target, data)
        with FileLock(layout.dataset_lock(dataset)):
            for folder in plan.pipelines:
                parsed = parse_pipeline_folder(folder)
                assert parsed is not None
                raise_mark(layout, dataset, parsed.number)
                (staging / folder).rename(layout.pipeline(dataset, folder).dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for name in SESSION_FILES:
        data = plan.files.get(f"{dataset}/{name}")
        target = layout.dataset_dir(dataset) / name
        if data is not None and not target.exists():
            atomic_write_bytes(target, data)
    added = restore_unlisted(workspace, dataset)
    best = refresh_best(workspace, dataset)
    saved = plan.files.get(f"{dataset}/{BEST_STATE_MEMBER}")
    if best is not None and saved is not None:
        _put_back_best_state(workspace, dataset, best, saved)
    if plan.pipelines:
        workspace.sessions.log(
            dataset,
            f"restored {len(plan.pipelines)} pipelines from {plan.archive.name}: {', '.join(plan.pipelines)}",
        )
    return ArchiveRestoreReport(
        dataset, plan.pipelines, len(binaries), added, None if best is None else best.folder
    )
