"""The library zip: its manifest, writing it, and reading one from anyone, safely.

A library or export zip is a flat set of members plus ``manifest.json``, which
lists every other member with its size and SHA-256 and carries its own checksum
(``manifest_sha256``, over the canonical JSON of the rest of the manifest).
See ``docs/library.md`` for the member layout and the manifest fields.

A zip that comes from outside is untrusted input. :func:`open_zip` reads it
into memory and refuses it (:class:`ArchiveRefused`, one line, exit status 2)
before anything else looks at it when:

- an entry name is absolute, holds ``..``, a backslash, a drive letter, a
  control character, or is a folder entry;
- an entry is a symbolic link or another non-regular file (zip external attributes);
- two entries have the same name, or there are more than ``max_entries``;
- an entry is encrypted or uses a compression other than stored/deflate;
- declared sizes are over the limits (per entry, in total, or a compression
  ratio of a bomb), or the data inflates past what it declares;
- ``manifest.json`` is missing, unreadable, of an unknown format, or does not
  match its own checksum; an entry is not listed in it, or a listed one is
  missing; an entry does not match its listed size and SHA-256.

Nothing is ever extracted to disk, and memory stays bounded whatever the zip:
members are streamed to check their digests (every byte inflated counts toward
the total budget), and a member is read into memory only when asked for, up to
``max_member_bytes``, its digest checked again on every read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import time
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ArchiveRefused
from ..workspace.atomic import atomic_open
from ..workspace.bundles import BundleMember

FORMAT_NAME = "nirs4all-library"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 16 << 20
MAX_NAME_LENGTH = 255
CHECKSUM_KEY = "manifest_sha256"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_COMPRESSIONS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError)


@dataclass(frozen=True)
class ZipLimits:
    """How much a zip may hold before it is refused as a bomb.

    Defaults suit trained pipelines with their training data; override them with
    ``NIRS4ALL_ZIP_MAX_ENTRIES``, ``NIRS4ALL_ZIP_MAX_MB`` (total uncompressed
    size; one entry may use all of it), ``NIRS4ALL_ZIP_MAX_RATIO`` (per entry and
    for the whole zip) and ``NIRS4ALL_ZIP_MAX_MEMBER_MB`` (the most of one member
    read into memory: a fitted object, a JSON file; also the most a fitted
    object's arrays may declare).
    """

    max_entries: int = 10_000
    max_total_bytes: int = 2 << 30
    max_ratio: float = 200.0
    ratio_floor: int = 1 << 20  # entries smaller than this are not ratio-checked (tiny files compress well)
    max_member_bytes: int = 256 << 20

    @classmethod
    def from_env(cls) -> ZipLimits:
        default = cls()
        megabytes = os.environ.get("NIRS4ALL_ZIP_MAX_MB", default.max_total_bytes / (1 << 20))
        member_mb = os.environ.get("NIRS4ALL_ZIP_MAX_MEMBER_MB", default.max_member_bytes / (1 << 20))
        try:
            return cls(
                max_entries=int(os.environ.get("NIRS4ALL_ZIP_MAX_ENTRIES", default.max_entries)),
                max_total_bytes=int(float(megabytes) * (1 << 20)),
                max_ratio=float(os.environ.get("NIRS4ALL_ZIP_MAX_RATIO", default.max_ratio)),
                max_member_bytes=int(float(member_mb) * (1 << 20)),
            )
        except ValueError:
            raise ArchiveRefused(
                "NIRS4ALL_ZIP_MAX_ENTRIES, NIRS4ALL_ZIP_MAX_MB, NIRS4ALL_ZIP_MAX_RATIO and "
                "NIRS4ALL_ZIP_MAX_MEMBER_MB must be numbers"
            ) from None

    def inner(self) -> ZipLimits:
        """The limits of a zip inside a member (a skops file): its content is held in memory."""
        return replace(self, max_total_bytes=min(self.max_total_bytes, self.max_member_bytes))


@dataclass
class OpenedZip:
    """A zip that passed every check: its manifest, and its members read on demand.

    ``source`` is the zip's path (or bytes). Each read of a member re-reads it
    from there and checks its SHA-256 against the manifest again, so a file
    changed after the checks is refused rather than trusted.
    """

    label: str
    manifest: dict[str, Any]
    listed: dict[str, BundleMember]
    source: Path | bytes
    limits: ZipLimits

    @property
    def members(self) -> Mapping[str, bytes]:
        """Member name -> bytes, each read when looked up (for tests and small zips)."""
        return _LazyMembers(self)

    def member(self, name: str, limit: int | None = None) -> bytes:
        """The bytes of member ``name``, checked again; at most ``limit`` (default ``max_member_bytes``)."""
        expected = self.listed.get(name)
        if expected is None:
            raise ArchiveRefused(f"{self.label}: the manifest names {name!r}, not in the zip")
        cap = self.limits.max_member_bytes if limit is None else limit
        if expected.size > cap:
            raise ArchiveRefused(
                f"{self.label}: entry {name!r} has {expected.size} bytes, more than the {cap} one member may "
                "take in memory (NIRS4ALL_ZIP_MAX_MEMBER_MB); refused"
            )
        with _open_archive(self.source, self.label) as archive:
            try:
                info = archive.getinfo(name)
            except KeyError:
                raise ArchiveRefused(f"{self.label} changed since it was checked: {name!r} is gone") from None
            content = read_member(archive, info, cap, self.label)
        if hashlib.sha256(content).hexdigest() != expected.sha256:
            raise ArchiveRefused(f"{self.label} changed since it was checked: {name!r} differs; refused")
        return content

    def json_member(self, name: str) -> Any:
        try:
            return json.loads(self.member(name).decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise ArchiveRefused(f"{self.label}: {name} is not valid JSON ({exc})") from None

    def copy_to(self, target: Path) -> None:
        """Write the zip's bytes to ``target`` atomically, streamed (check the copy: see ``trained``)."""
        with atomic_open(Path(target), "wb") as out:
            if isinstance(self.source, bytes):
                out.write(self.source)
                return
            try:
                with Path(self.source).open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
            except OSError as exc:
                raise ArchiveRefused(f"{self.label} cannot be read ({exc.strerror or exc})") from None


class _LazyMembers(Mapping[str, bytes]):
    def __init__(self, opened: OpenedZip) -> None:
        self._opened = opened

    def __getitem__(self, name: str) -> bytes:
        if name not in self._opened.listed:
            raise KeyError(name)
        return self._opened.member(name)

    def __contains__(self, name: object) -> bool:
        return name in self._opened.listed

    def __iter__(self) -> Iterator[str]:
        return iter(self._opened.listed)

    def __len__(self) -> int:
        return len(self._opened.listed)


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``manifest`` without its own checksum key."""
    body = {k: v for k, v in manifest.items() if k != CHECKSUM_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- writing --------------------------------------------------------------------------


class ZipBuilder:
    """Collects members in memory, then writes them with a manifest into zip bytes."""

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}

    def add(self, name: str, data: bytes) -> str:
        """Add a member (adding identical bytes under the same name again is a no-op)."""
        problem = name_problem(name)
        if problem or name == MANIFEST_NAME:
            raise ValueError(f"cannot add member {name!r}: {problem or 'reserved name'}")
        if name in self._files and self._files[name] != data:
            raise ValueError(f"member {name!r} added twice with different content")
        self._files[name] = data
        return name

    def has(self, name: str) -> bool:
        return name in self._files

    def names(self) -> list[str]:
        return sorted(self._files)

    def build(self, manifest: dict[str, Any]) -> bytes:
        """The zip bytes: ``manifest.json`` first (with ``files`` and its checksum), then the members."""
        manifest = dict(manifest)
        manifest["files"] = [
            asdict(BundleMember(name, len(data), hashlib.sha256(data).hexdigest()))
            for name, data in sorted(self._files.items())
        ]
        manifest[CHECKSUM_KEY] = manifest_checksum(manifest)
        text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
        buffer = io.BytesIO()
        stamp = time.localtime()[:6]
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in [(MANIFEST_NAME, text.encode("utf-8")), *sorted(self._files.items())]:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, data)
        return buffer.getvalue()


# -- hygiene --------------------------------------------------------------------------


def name_problem(name: str) -> str | None:
    """Why ``name`` is not acceptable as a member name, or None."""
    parts = name.split("/")
    checks = (
        (not name, "has an empty name"),
        (name.startswith(("/", "\\")) or bool(_DRIVE.match(name)), "has an absolute path"),
        ("\\" in name, "has a backslash in its path"),
        (any(ord(ch) < 32 or ord(ch) == 127 for ch in name), "has a control character in its name"),
        (name.endswith("/"), "is a folder entry"),
        (".." in parts, "has '..' in its path (it would escape the folder it is extracted to)"),
        (any(part in ("", ".") for part in parts), "has an empty or '.' path part"),
        (len(name) > MAX_NAME_LENGTH, f"has a name longer than {MAX_NAME_LENGTH} characters"),
    )
    return next((problem for failed, problem in checks if failed), None)


def check_structure(infos: list[zipfile.ZipInfo], limits: ZipLimits, label: str) -> None:
    """Refuse unsafe entries and bombs from the zip's directory alone (nothing is inflated)."""
    if len(infos) > limits.max_entries:
        raise ArchiveRefused(
            f"{label} has {len(infos)} entries, more than the limit of {limits.max_entries}; refused"
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        shown = repr(name[:80])
        problem = name_problem(name)
        if problem:
            raise ArchiveRefused(f"{label}: entry {shown} {problem}; refused, nothing was extracted")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ArchiveRefused(f"{label}: entry {shown} is a symbolic link; refused, nothing was extracted")
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # no type bits: a plain file (zipfile's default)
            raise ArchiveRefused(f"{label}: entry {shown} is not a regular file (mode {oct(mode)}); refused")
        if info.flag_bits & 0x1:
            raise ArchiveRefused(f"{label}: entry {shown} is encrypted; refused")
        if info.compress_type not in _COMPRESSIONS:
            raise ArchiveRefused(
                f"{label}: entry {shown} uses compression method {info.compress_type}; "
                "only stored and deflate are accepted"
            )
        if name in seen:
            raise ArchiveRefused(f"{label}: entry {shown} appears twice; refused")
        seen.add(name)
        if info.file_size > limits.max_total_bytes:
            raise ArchiveRefused(
                f"{label}: entry {shown} declares {info.file_size} bytes uncompressed, over the limit "
                f"of {limits.max_total_bytes} (a zip bomb?); refused"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            raise ArchiveRefused(
                f"{label}: entry {shown} inflates {ratio:.0f} times ({info.compress_size} -> "
                f"{info.file_size} bytes), over the limit of {limits.max_ratio:.0f} (a zip bomb?); refused"
            )
        total += info.file_size
    if total > limits.max_total_bytes:
        raise ArchiveRefused(
            f"{label} declares {total} bytes uncompressed in total, over the limit of "
            f"{limits.max_total_bytes} (a zip bomb?); refused"
        )
    # Many entries just under the per-entry floor add up: the zip as a whole is ratio-checked too.
    packed = sum(info.compress_size for info in infos)
    if total > limits.ratio_floor and total / max(packed, 1) > limits.max_ratio:
        raise ArchiveRefused(
            f"{label}: its {len(infos)} entries inflate {total / max(packed, 1):.0f} times in total "
            f"({packed} -> {total} bytes), over the limit of {limits.max_ratio:.0f} (a zip bomb?); refused"
        )


def member_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, label: str) -> Iterator[bytes]:
    """The bytes of one entry in chunks of at most 1 MiB, inflating at most ``min(declared size, limit)``.

    Raises ArchiveRefused when the entry inflates past that, is shorter than it
    declares, or does not inflate (bad CRC, corrupt data).
    """
    cap = min(info.file_size, limit)
    done = 0
    try:
        with archive.open(info) as handle:
            while True:
                chunk = handle.read(min(1 << 20, cap + 1 - done))
                if not chunk:
                    break
                done += len(chunk)
                if done > cap:
                    raise ArchiveRefused(
                        f"{label}: entry {info.filename!r} inflates past {cap} bytes; refused (a zip bomb?)"
                    )
                yield chunk
    except _READ_ERRORS as exc:
        raise ArchiveRefused(
            f"{label}: entry {info.filename!r} does not inflate to what it declares "
            f"({type(exc).__name__}: {exc}); a crafted or corrupt zip, refused"
        ) from None
    if done != info.file_size:
        raise ArchiveRefused(f"{label}: entry {info.filename!r} is shorter than it declares; refused")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, label: str) -> bytes:
    """The bytes of one entry, reading at most ``min(declared size, limit)`` bytes."""
    return b"".join(member_chunks(archive, info, limit, label))


def _zip_file(data: bytes, label: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ArchiveRefused(f"{label} is not a readable zip file ({exc})") from None


def check_inner_zip(data: bytes, label: str, limits: ZipLimits) -> None:
    """Hygiene for a zip inside a member (a skops file): names, types, sizes and ratio."""
    with _zip_file(data, label) as archive:
        check_structure(archive.infolist(), limits, label)


# -- reading --------------------------------------------------------------------------


def _label(source: Path | bytes) -> str:
    return "zip" if isinstance(source, bytes) else f"zip '{source}'"


def _open_archive(source: Path | bytes, label: str, limits: ZipLimits | None = None) -> zipfile.ZipFile:
    """A ``ZipFile`` over the zip's path or bytes (its directory is read, nothing is inflated)."""
    if isinstance(source, bytes):
        return _zip_file(source, label)
    path = Path(source)
    try:
        if not path.is_file():  # before opening: a FIFO would block
            if not path.exists():
                raise ArchiveRefused(f"{label} does not exist")
            raise ArchiveRefused(f"{label} is not a file")
        size = path.stat().st_size
        if limits is not None and size > limits.max_total_bytes + (64 << 20):
            raise ArchiveRefused(f"{label} is {size} bytes, over the limit of {limits.max_total_bytes}")
        return zipfile.ZipFile(path)  # opened by zipfile, so closed with it
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ArchiveRefused(f"{label} is not a readable zip file ({exc})") from None
    except OSError as exc:
        raise ArchiveRefused(f"{label} cannot be read ({exc.strerror or exc})") from None


def _parse_manifest(archive: zipfile.ZipFile, label: str) -> dict[str, Any]:
    try:
        info = archive.getinfo(MANIFEST_NAME)
    except KeyError:
        raise ArchiveRefused(f"{label} has no {MANIFEST_NAME}: it is not a nirs4all library zip") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ArchiveRefused(f"{label}: {MANIFEST_NAME} is over {MAX_MANIFEST_BYTES} bytes; refused")
    raw = read_member(archive, info, MAX_MANIFEST_BYTES, label)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ArchiveRefused(f"{label}: {MANIFEST_NAME} is not valid JSON ({exc}); refused") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ArchiveRefused(f"{label}: {MANIFEST_NAME} is not a nirs4all library manifest; refused")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ArchiveRefused(f"{label}: {MANIFEST_NAME} has no valid format_version; refused")
    if version > FORMAT_VERSION:
        raise ArchiveRefused(
            f"{label} has library format {version}, newer than this tool's {FORMAT_VERSION}; "
            "upgrade nirs4all-workspace"
        )
    try:
        if manifest.get(CHECKSUM_KEY) != manifest_checksum(manifest):
            raise ArchiveRefused(
                f"{label}: {MANIFEST_NAME} does not match its own checksum: it was edited after the zip "
                "was made; refused"
            )
    except ValueError:  # NaN or infinity in the manifest: we never write those
        raise ArchiveRefused(f"{label}: {MANIFEST_NAME} holds non-finite numbers; refused") from None
    return manifest


def _listed_files(manifest: dict[str, Any], label: str) -> dict[str, BundleMember]:
    files = manifest.get("files")
    if not isinstance(files, list):
        raise ArchiveRefused(f"{label}: {MANIFEST_NAME} has no list of files; refused")
    listed: dict[str, BundleMember] = {}
    for entry in files:
        ok = isinstance(entry, dict) and isinstance(entry.get("name"), str)
        ok = ok and isinstance(entry.get("size"), int) and _SHA256.match(str(entry.get("sha256", "")))
        if not ok or entry["name"] in listed:
            raise ArchiveRefused(f"{label}: {MANIFEST_NAME} has a malformed or repeated file entry; refused")
        listed[entry["name"]] = BundleMember(entry["name"], entry["size"], entry["sha256"])
    return listed


def read_manifest(source: Path | bytes, limits: ZipLimits | None = None) -> dict[str, Any]:
    """The checked manifest of a zip, reading only its directory and manifest (for listings).

    Other members are not read, so their digests are not checked: use :func:`open_zip` for that.
    """
    limits = limits or ZipLimits.from_env()
    if isinstance(source, bytes):
        return _manifest_of(io.BytesIO(source), "zip", limits)
    label = f"zip '{source}'"
    try:
        with Path(source).open("rb") as handle:
            return _manifest_of(handle, label, limits)
    except OSError as exc:
        raise ArchiveRefused(f"{label} cannot be read ({exc.strerror or exc})") from None


def _manifest_of(handle: Any, label: str, limits: ZipLimits) -> dict[str, Any]:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ArchiveRefused(f"{label} is not a readable zip file ({exc})") from None
    with archive:
        check_structure(archive.infolist(), limits, label)
        return _parse_manifest(archive, label)


def open_zip(source: Path | bytes, limits: ZipLimits | None = None, label: str | None = None) -> OpenedZip:
    """Check a zip completely and return its manifest, its members readable on demand.

    Raises :class:`ArchiveRefused` (see the module docstring); writes nothing.
    Every member is streamed once to check its size and SHA-256 (memory stays
    bounded); every byte inflated counts toward ``max_total_bytes``.
    """
    limits = limits or ZipLimits.from_env()
    label = label or _label(source)
    with _open_archive(source, label, limits) as archive:
        infos = archive.infolist()
        check_structure(infos, limits, label)
        manifest = _parse_manifest(archive, label)
        listed = _listed_files(manifest, label)
        present = {info.filename: info for info in infos if info.filename != MANIFEST_NAME}
        for name in sorted(present):
            if name not in listed:
                raise ArchiveRefused(f"{label}: entry {name!r} is not listed in {MANIFEST_NAME}; refused")
        for name in sorted(listed):
            if name not in present:
                raise ArchiveRefused(
                    f"{label}: {MANIFEST_NAME} lists {name!r} but the zip does not hold it; refused"
                )
        budget = limits.max_total_bytes
        for name, expected in sorted(listed.items()):
            info = present[name]
            if info.file_size != expected.size:
                raise ArchiveRefused(
                    f"{label}: entry {name!r} has {info.file_size} bytes but {MANIFEST_NAME} says "
                    f"{expected.size}: it was modified; refused"
                )
            digest = hashlib.sha256()
            for chunk in member_chunks(archive, info, budget, label):
                digest.update(chunk)
            budget -= info.file_size  # member_chunks stopped at the budget: this stays >= 0
            if digest.hexdigest() != expected.sha256:
                raise ArchiveRefused(
                    f"{label}: entry {name!r} does not match its SHA-256 in {MANIFEST_NAME}: it was "
                    "modified or is corrupt; refused"
                )
    return OpenedZip(label=label, manifest=manifest, listed=listed, source=source, limits=limits)
