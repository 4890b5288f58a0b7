"""ManifestManager: pipeline identity, numbering and the two identity files.

Numbers are allocated under the dataset's lock from a high-water mark kept in
``runs/<dataset>/_state/high_water``: one more than the highest number ever
allocated, so a number is never reused after a deletion, and parallel
processes get distinct consecutive numbers. Each number is also claimed by an
exclusive link or create (:mod:`.numbering`), which keeps numbers distinct where the
lock does nothing. The folder is created while the lock is held.

One allocation costs about a dozen system calls: the manager keeps the dataset's
lock file, the mark and ``hashes.tsv`` open between allocations (each checked to
still be the file on disk: a file removed or replaced since is opened again), reads
and advances the mark through its descriptor, and reads ``hashes.tsv`` only when
another process has appended to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring as _json_string
from pathlib import Path
from typing import Any

from ..errors import IntegrityError, PipelineNotFound, WorkspaceError
from ..version import __version__
from .atomic import atomic_write_json, atomic_write_text, make_dirs, scalar_text
from .identity import new_id, short_hash_for
from .layout import (
    PipelineFolderName,
    PipelinePaths,
    WorkspaceLayout,
    parse_pipeline_folder,
    pipeline_folder_name,
)
from .leases import WriterLeases
from .locking import FileLock, _lock, _unlock
from .numbering import MAX_JUMP, claim_in, claims_dir, known_numbers, parse_mark
from .schema import SCHEMA_KEY, SCHEMA_VERSION

FINISHED_STATUSES = ("completed", "failed")


def utc_now() -> str:
    """Current UTC time as ISO 8601 with microseconds (sortable)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class PipelineHandle:
    """Identity of one allocated pipeline folder."""

    dataset: str
    number: int
    folder: str
    pipeline_id: str
    full_hash: str
    short_hash: str
    name: str | None
    session: str
    engine: str
    created_at: str
    paths: PipelinePaths

    def manifest(self, versions: dict[str, str]) -> dict[str, Any]:
        return {
            SCHEMA_KEY: SCHEMA_VERSION,
            "id": self.pipeline_id,
            "number": self.number,
            "folder": self.folder,
            "name": self.name,
            "hash": self.full_hash,
            "short_hash": self.short_hash,
            "dataset": self.dataset,
            "session": self.session,
            "engine": self.engine,
            "created_at": self.created_at,
            "versions": versions,
        }


# Characters a YAML double-quoted scalar cannot hold as they are (controls, and the
# NEL / line and paragraph separators that YAML 1.1 folds as line breaks).
_NOT_YAML_PRINTABLE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


@dataclass
class _DatasetFiles:
    """The paths allocation touches in one dataset, and the lock file kept open between allocations."""

    state: Path
    lock: str
    mark: str
    hashes: str
    claims: str
    root: Path
    lock_fd: int | None = field(default=None, repr=False)
    generation: int = 0  # _FORKS when lock_fd was opened: a forked child opens its own
    mark_fd: int | None = field(default=None, repr=False)  # kept like lock_fd (same generation)
    hashes_fd: int | None = field(default=None, repr=False)  # O_APPEND, kept like lock_fd

    def close(self) -> None:
        for name in ("lock_fd", "mark_fd", "hashes_fd"):
            fd = getattr(self, name)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, None)


# Incremented in a forked child: a descriptor inherited from the parent shares the parent's
# lock (flock belongs to the open file), so the child must open the lock file again.
_FORKS = 0


def _after_fork() -> None:
    global _FORKS  # noqa: PLW0603 - one counter for the whole process
    _FORKS += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _write_high_water(path: Path, number: int, truncate: bool = False) -> None:
    """Overwrite the mark in place with one fixed-width write (under the dataset lock).

    One ``pwrite`` of 21 bytes cannot be half-applied by a killed process, so the
    mark is always a whole number; it saves a temporary file and a rename per
    pipeline over the write-and-rename every other file gets.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | (os.O_TRUNC if truncate else 0), 0o644)
    try:
        os.pwrite(fd, f"{number:>20}\n".encode(), 0)
    finally:
        os.close(fd)


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _kept(fd: int | None) -> int | None:
    """``fd`` if it is still a file on disk (not removed or renamed over), else None (closed)."""
    if fd is not None and os.fstat(fd).st_nlink == 0:
        os.close(fd)
        return None
    return fd


def _pwrite_mark(fd: int, number: int) -> None:
    """:func:`_write_high_water` through a descriptor already open."""
    os.pwrite(fd, f"{number:>20}\n".encode(), 0)


def _yaml_scalar(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)``, without its per-call set-up (the same text)."""
    if value is None or isinstance(value, bool | int | float):
        return scalar_text(value)
    # A JSON string is a YAML scalar once the characters YAML forbids are escaped.
    text = _json_string(str(value))
    return _NOT_YAML_PRINTABLE.sub(_yaml_escape, text) if _NOT_YAML_PRINTABLE.search(text) else text


def _yaml_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def manifest_yaml(manifest: dict[str, Any]) -> str:
    """Block-style YAML of a manifest (scalars and one level of mappings).

    Written by hand, strings quoted as JSON (valid YAML): ten times faster than a
    YAML library for a file written once per pipeline, and read back by any.
    """
    lines = []
    for key, value in manifest.items():
        if isinstance(value, dict) and not value:
            lines.append(f"{key}: {{}}")
        elif isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {_yaml_scalar(v)}" for k, v in value.items())
        else:
            lines.append(f"{key}: {_yaml_scalar(value)}")
    return "\n".join(lines) + "\n"


def runtime_versions(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Versions recorded in every manifest: ours, Python's and the engine's libraries."""
    versions = {"nirs4all_workspace": __version__, "python": platform.python_version()}
    versions.update(extra or {})
    return versions


class ManifestManager:
    """Allocates numbered pipeline folders and reads and writes their identity files."""

    def __init__(self, layout: WorkspaceLayout) -> None:
        self.layout = layout
        # dataset -> (size of hashes.tsv read so far, short -> full hash, full -> first short)
        self._hash_cache: dict[str, tuple[int, dict[str, str], dict[str, str]]] = {}
        self.leases = WriterLeases(layout)
        self._marks_checked: set[str] = set()  # datasets whose large mark was checked
        self.rebuilt_marks: dict[str, str] = {}  # dataset -> the line logged when its mark was rebuilt
        self._files: dict[str, _DatasetFiles] = {}
        self.lock_timeout = 120.0  # seconds to wait for the dataset lock (as FileLock)
        # The kept descriptor excludes other processes only: threads of this one take this first.
        self._threads = threading.Lock()

    def close(self) -> None:
        """Close the files kept open between allocations (lock, mark, hashes.tsv)."""
        for files in self._files.values():
            files.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def _files_of(self, dataset: str) -> _DatasetFiles:
        files = self._files.get(dataset)
        if files is None:
            state = self.layout.state_dir(dataset)
            files = _DatasetFiles(
                state=state,
                lock=os.fspath(self.layout.dataset_lock(dataset)),
                mark=os.fspath(self.layout.high_water_file(dataset)),
                hashes=os.fspath(state / "hashes.tsv"),
                claims=os.fspath(claims_dir(self.layout, dataset)),
                root=self.layout.dataset_dir(dataset),
            )
            self._files[dataset] = files
        return files

    def _lock_dataset(self, files: _DatasetFiles) -> int:
        """Lock the dataset through the kept descriptor; returns it (unlock with :func:`_unlock`).

        A lock file removed since it was opened (its link count is 0) is opened again,
        so the lock taken is always on the file other processes open.
        """
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.001
        if files.generation != _FORKS:  # the parent's descriptors: left open for it
            files.lock_fd = files.mark_fd = files.hashes_fd = None
            files.generation = _FORKS
        while True:
            fd = files.lock_fd
            if fd is None:
                try:
                    fd = os.open(files.lock, os.O_RDWR | os.O_CREAT | _CLOEXEC, 0o644)
                except FileNotFoundError:
                    files.state.mkdir(parents=True, exist_ok=True)
                    continue
                files.lock_fd = fd
            if _lock(fd, blocking=False):
                # Checked once locked, not before: a file removed before or while we waited
                # is unlocked, closed and the file there now opened.
                if os.fstat(fd).st_nlink > 0:
                    return fd
                _unlock(fd)
                os.close(fd)
                files.lock_fd = None
                continue
            if time.monotonic() >= deadline:
                raise WorkspaceError(
                    f"could not lock {files.lock} within {self.lock_timeout:.0f} s; "
                    "another nirs4all process is holding it"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    # -- allocation --------------------------------------------------------
    def allocate(
        self,
        dataset: str,
        full_hash: str,
        name: str | None,
        session: str,
        engine: str,
        versions: dict[str, str] | None = None,
    ) -> PipelineHandle:
        """Take the next number, create ``NNNN_<name>_<hash>/`` and write ``manifest.yaml``.

        Safe against other processes allocating in the same dataset at once.
        """
        files = self._files_of(dataset)
        with self._threads:
            return self._allocate_locked(dataset, files, full_hash, name, session, engine, versions)

    def _allocate_locked(
        self,
        dataset: str,
        files: _DatasetFiles,
        full_hash: str,
        name: str | None,
        session: str,
        engine: str,
        versions: dict[str, str] | None,
    ) -> PipelineHandle:
        lock_fd = self._lock_dataset(files)
        try:
            # Binaries stored for this pipeline are unreferenced until its pipeline.json:
            # the lease keeps gc from removing them (released at the end of the run).
            self.leases.take(dataset)
            short = self._short_hash(dataset, full_hash, files)
            mark_fd = self._open_mark(files)
            number = self._read_high_water(dataset, mark_fd) + 1
            # The mark first: a crash before the claim leaves an unused number (a gap).
            # The claim is created exclusively, so two processes never take one number
            # even where the lock does nothing (NFS without flock): the loser moves on.
            _pwrite_mark(mark_fd, number)
            while not claim_in(files.claims, number):
                number += 1
                _pwrite_mark(mark_fd, number)
            folder = pipeline_folder_name(number, name, short)
            paths = PipelinePaths(files.root / folder)
            make_dirs(paths.dir, exist_ok=False)
        finally:
            _unlock(lock_fd)
        handle = PipelineHandle(
            dataset=dataset,
            number=number,
            folder=folder,
            pipeline_id=new_id(),
            full_hash=full_hash,
            short_hash=short,
            name=name,
            session=session,
            engine=engine,
            created_at=utc_now(),
            paths=paths,
        )
        try:
            self.write_manifest(handle, runtime_versions(versions))
        except KeyboardInterrupt:  # Ctrl-C: no folder left for 'verify --repair'; the number stays used
            shutil.rmtree(paths.dir, ignore_errors=True)
            raise
        return handle

    def write_manifest(self, handle: PipelineHandle, versions: dict[str, str]) -> None:
        atomic_write_text(handle.paths.manifest_yaml, manifest_yaml(handle.manifest(versions)))

    @staticmethod
    def _open_mark(files: _DatasetFiles) -> int:
        """The mark open for reading and writing (created empty if missing: then rebuilt).

        The descriptor is kept between allocations while it is still the file on disk
        (a mark removed or renamed over since: the file there now is opened).
        """
        fd = _kept(files.mark_fd)
        if fd is None:
            fd = files.mark_fd = os.open(files.mark, os.O_RDWR | os.O_CREAT | _CLOEXEC, 0o644)
        return fd

    def _read_high_water(self, dataset: str, fd: int | None = None) -> int:
        """The mark; rebuilt (and the rebuild logged in run.log) when missing or absurd.

        ``fd``: the mark already open (allocation); an empty file counts as missing.
        """
        try:
            if fd is None:
                text = self.layout.high_water_file(dataset).read_text()
            else:
                text = os.pread(fd, 64, 0).decode("utf-8") or None
        except FileNotFoundError:
            text = None
        except (OSError, UnicodeDecodeError):
            text = ""
        number = None if text is None else parse_mark(text)
        if number is not None and (number <= MAX_JUMP or dataset in self._marks_checked):
            return number
        path = self.layout.high_water_file(dataset)
        known = known_numbers(self.layout, dataset)
        highest = max(known.values(), default=0)
        if number is not None and number <= highest + MAX_JUMP:
            self._marks_checked.add(dataset)  # large but plausible: checked once per process
            return number
        if text is None and not known:
            return 0  # a new dataset
        why = "missing" if text is None else f"absurd ({text.strip()[:30]!r})"
        places = ", ".join(f"{k} {v}" for k, v in sorted(known.items())) or "nothing"
        self.rebuilt_marks[dataset] = (
            f"numbering: {path} was {why}; rebuilt as {highest} from what remembers numbers ({places})"
        )
        _write_high_water(path, highest, truncate=True)
        self._log(dataset, self.rebuilt_marks[dataset])
        self._marks_checked.add(dataset)
        return highest

    def repair_high_water(self, dataset: str) -> str | None:
        """Rebuild a missing or absurd mark (under the dataset lock); what was done, or None."""
        with FileLock(self.layout.dataset_lock(dataset)):
            self.rebuilt_marks.pop(dataset, None)
            self._read_high_water(dataset)
            return self.rebuilt_marks.get(dataset)

    def _log(self, dataset: str, message: str) -> None:
        line = f"{utc_now()} {message}\n".encode()
        fd = os.open(self.layout.run_log(dataset), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def high_water(self, dataset: str) -> int:
        """Highest number ever allocated in ``dataset`` (0 for none)."""
        return self._read_high_water(dataset)

    def _short_hash(self, dataset: str, full_hash: str, files: _DatasetFiles) -> str:
        """Short hash for ``full_hash``; records new ones (called under the lock).

        ``hashes.tsv`` is appended to through a descriptor kept between allocations
        (opened again if the file was removed or replaced, e.g. by a repair).
        """
        fd = files.hashes_fd
        stat = os.fstat(fd) if fd is not None else None
        if stat is None or stat.st_nlink == 0:
            if fd is not None:
                os.close(fd)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | _CLOEXEC
            fd = files.hashes_fd = os.open(files.hashes, flags, 0o644)
            stat = os.fstat(fd)
        taken = self._known_hashes(dataset, stat.st_size)
        seen, _table, shorts = self._hash_cache[dataset]
        known = shorts.get(full_hash)
        if known is not None and taken.get(known) == full_hash:
            return known
        short = short_hash_for(full_hash, taken)
        line = f"{short}\t{full_hash}\n".encode()
        os.write(fd, line)
        end = os.lseek(fd, 0, os.SEEK_CUR)  # O_APPEND: the end of our line
        taken[short] = full_hash
        shorts.setdefault(full_hash, short)
        if end == seen + len(line):  # nobody appended in between: no need to read our own line back
            self._hash_cache[dataset] = (end, taken, shorts)
        return short

    def _known_hashes(self, dataset: str, size: int | None = None) -> dict[str, str]:
        """short -> full hash of ``hashes.tsv`` (``size``: its size, if the caller knows it)."""
        path = self.layout.state_dir(dataset) / "hashes.tsv"
        seen, table, shorts = self._hash_cache.get(dataset, (0, {}, {}))
        if size is None:
            try:
                size = os.stat(path).st_size  # noqa: PTH116
            except FileNotFoundError:
                size = 0
        if size < seen:  # file replaced (repair): read it again from the start
            seen, table, shorts = 0, {}, {}
        if size > seen:
            with path.open("rb") as handle:
                handle.seek(seen)
                chunk = handle.read(size - seen)
            # Only whole lines count: a line being appended right now is read next time.
            complete = chunk[: chunk.rfind(b"\n") + 1]
            for line in complete.decode().splitlines():
                short, _, full = line.partition("\t")
                if short and full:
                    table[short] = full
                    shorts.setdefault(full, short)
            seen += len(complete)
        self._hash_cache[dataset] = (seen, table, shorts)
        return table

    # -- reading -----------------------------------------------------------
    def datasets(self) -> list[str]:
        """Dataset folders under ``runs/`` (internal ``_``/``.`` folders excluded)."""
        runs = self.layout.runs_dir
        if not runs.is_dir():
            return []
        return sorted(p.name for p in runs.iterdir() if p.is_dir() and p.name[0] not in "._")

    def list_folders(self, dataset: str) -> list[PipelineFolderName]:
        """Every pipeline folder of ``dataset``, by number (complete or not)."""
        root = self.layout.dataset_dir(dataset)
        if not root.is_dir():
            return []
        found = []
        with os.scandir(root) as entries:
            for entry in entries:
                parsed = parse_pipeline_folder(entry.name)
                if parsed is not None and entry.is_dir():
                    found.append(parsed)
        return sorted(found, key=lambda p: p.number)

    def read_pipeline(self, dataset: str, folder: str) -> dict[str, Any]:
        """The ``pipeline.json`` of a folder; IntegrityError if missing or unreadable."""
        return read_pipeline_json(self.layout.pipeline(dataset, folder).pipeline_json)

    def read_manifest(self, dataset: str, folder: str) -> dict[str, Any]:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        path = self.layout.pipeline(dataset, folder).manifest_yaml
        try:
            return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a SafeLoader
        except (FileNotFoundError, yaml.YAMLError) as exc:
            raise IntegrityError(f"{path} is missing or corrupt ({exc})") from None

    def write_pipeline(self, handle: PipelineHandle, record: dict[str, Any]) -> None:
        atomic_write_json(handle.paths.pipeline_json, record)

    def status(self, dataset: str, folder: str) -> str:
        """``completed``, ``failed``, or ``incomplete`` (no readable finished pipeline.json)."""
        try:
            status = self.read_pipeline(dataset, folder).get("status")
        except IntegrityError:
            return "incomplete"
        return status if status in FINISHED_STATUSES else "incomplete"

    def resolve(self, dataset: str, ref: str) -> str:
        """Folder name for ``ref``: a folder name, a number (``42``) or a hash (prefix).

        A hash shared by several runs of the same configuration resolves to the newest.
        Raises :class:`PipelineNotFound` naming what exists.
        """
        folders = self.list_folders(dataset)
        if not self.layout.dataset_dir(dataset).is_dir():
            known = ", ".join(self.datasets()) or "none"
            raise PipelineNotFound(f"no dataset {dataset!r} in {self.layout.runs_dir}; datasets: {known}")
        ref = ref.strip()
        matches = [p for p in folders if p.folder == ref]
        if not matches and ref.isdigit():
            matches = [p for p in folders if p.number == int(ref)]
        if not matches and len(ref) >= 4:
            lowered = ref.lower()
            by_hash = {p.short_hash: p for p in folders}
            full = {s: f for s, f in self._known_hashes(dataset).items() if s in by_hash}
            matches = [
                p
                for p in folders
                if p.short_hash.startswith(lowered) or full.get(p.short_hash, "").startswith(lowered)
            ]
        if not matches:
            raise PipelineNotFound(
                f"no pipeline {ref!r} in dataset {dataset!r}; use a folder name, a number or a hash "
                f"('nirs4all runs show {dataset}' lists them)"
            )
        return matches[-1].folder


def split_reference(reference: str) -> tuple[str, str]:
    """Split ``DATASET/PIPELINE`` into its two parts (InputError-style message if malformed)."""
    dataset, sep, pipeline = reference.strip().partition("/")
    if not sep or not dataset or not pipeline or "/" in pipeline:
        raise PipelineNotFound(
            f"{reference!r} is not DATASET/PIPELINE (e.g. demo/42 or demo/0042_pls_a1b2c3)"
        )
    return dataset, pipeline


def read_pipeline_json(path: Path) -> dict[str, Any]:
    """A ``pipeline.json`` (in a run folder or in the trash); IntegrityError if missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IntegrityError(f"{path} is missing: the pipeline is incomplete") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"{path} is corrupt ({exc}); run 'nirs4all workspace verify --repair'") from None
