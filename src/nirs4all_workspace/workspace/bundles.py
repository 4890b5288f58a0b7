"""Self-checking archives of pipeline folders: a zip or a tar.gz plus a manifest of digests.

Member names mirror ``runs/`` (``<dataset>/<folder>/pipeline.json``,
``<dataset>/_binaries/<file>``, ``<dataset>/run.log``...), so extracting an
archive into ``runs/`` puts the folders back. ``manifest.json`` (the last
member) lists every other member with its size and SHA-256, and the pipelines
held. An archive is written to a temporary, renamed, then read back and checked
member by member (:func:`check_bundle`) before anything relies on it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import IntegrityError
from ..version import __version__
from .atomic import PARTIAL_SUFFIX, atomic_write_with
from .layout import WorkspaceLayout, parse_pipeline_folder

MANIFEST_NAME = "manifest.json"
BUNDLE_FORMAT = 1
_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, zlib.error, ValueError, KeyError)


@dataclass(frozen=True)
class BundleMember:
    """One file of an archive, as its manifest records it."""

    name: str
    size: int
    sha256: str


@dataclass
class BundleManifest:
    """The ``manifest.json`` of an archive."""

    kind: str  # "pipeline" or "runs"
    dataset: str
    created_at: str
    session: str | None = None
    pipelines: list[dict[str, Any]] = field(default_factory=list)  # id, folder, number, status
    files: list[BundleMember] = field(default_factory=list)
    format: int = BUNDLE_FORMAT
    tool_version: str = __version__

    def to_json(self) -> bytes:
        payload = asdict(self)
        return (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> BundleManifest:
        payload = json.loads(data.decode("utf-8"))
        payload["files"] = [BundleMember(**f) for f in payload.get("files", [])]
        return cls(**payload)


@dataclass(frozen=True)
class PipelineFiles:
    """The three files that describe a finished pipeline (enough to rebuild its catalog rows)."""

    dataset: str
    folder: str
    record: dict[str, Any]
    metrics: dict[str, Any]
    predictions_text: str


def pipeline_members(
    layout: WorkspaceLayout, dataset: str, records: Sequence[dict[str, Any]]
) -> list[tuple[str, Path]]:
    """(member name, file) for every file of the pipelines and the binaries they reference.

    Raises IntegrityError if an expected file is missing or is not a regular file.
    """
    members: list[tuple[str, Path]] = []
    binaries: dict[str, Path] = {}
    for record in records:
        folder = layout.pipeline(dataset, record["folder"])
        expected = ["pipeline.json", "manifest.yaml", "metrics.json"]
        if record.get("status") == "completed":
            expected.append("predictions.csv")
        for name in expected:
            if not (folder.dir / name).is_file():
                raise IntegrityError(
                    f"{folder.dir / name} is missing or not a regular file; "
                    "run 'nirs4all workspace verify' (nothing was archived)"
                )
        for root, dirs, files in os.walk(folder.dir):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(PARTIAL_SUFFIX):
                    continue
                path = Path(root) / name
                members.append((f"{dataset}/{path.relative_to(folder.dir.parent).as_posix()}", path))
        for artifact in record.get("artifacts", []):
            binaries[artifact["file"]] = layout.binary_path(dataset, artifact["file"])
    members += [(f"{dataset}/_binaries/{name}", path) for name, path in sorted(binaries.items())]
    return members


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IntegrityError(
            f"{path} cannot be read ({exc.strerror or exc}); nothing was archived or deleted"
        ) from None


def write_bundle(
    target: Path, members: Sequence[tuple[str, Path]], manifest: BundleManifest
) -> BundleManifest:
    """Write ``members`` and their manifest to ``target`` (``.zip`` or ``.tar.gz``), then check it.

    The archive appears whole or not at all. If reading it back does not give
    every member's recorded size and SHA-256, the archive is removed and
    IntegrityError raised.
    """
    files: list[BundleMember] = []
    as_zip = target.name.endswith(".zip")

    def writer(tmp: Path) -> None:
        files.clear()
        if as_zip:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for name, path in members:
                    data = _read(path)
                    files.append(BundleMember(name, len(data), hashlib.sha256(data).hexdigest()))
                    archive.writestr(name, data)
                manifest.files = list(files)
                archive.writestr(MANIFEST_NAME, manifest.to_json())
            return
        with tarfile.open(tmp, "w:gz") as archive:
            for name, path in members:
                data = _read(path)
                files.append(BundleMember(name, len(data), hashlib.sha256(data).hexdigest()))
                _add_tar_member(archive, name, data)
            manifest.files = list(files)
            _add_tar_member(archive, MANIFEST_NAME, manifest.to_json())

    atomic_write_with(target, writer)
    problems = check_bundle(target)
    if problems:
        target.unlink(missing_ok=True)
        raise IntegrityError(f"archive {target} did not read back correctly ({problems[0]}); it was removed")
    return manifest


def _add_tar_member(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def iter_members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every file in a zip or tar.gz; IntegrityError if unreadable."""
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.is_dir():
                        yield info.filename, archive.read(info)
            return
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                if member.isfile():
                    handle = archive.extractfile(member)
                    yield member.name, handle.read() if handle is not None else b""
    except _READ_ERRORS as exc:
        raise IntegrityError(f"archive {path} is unreadable ({type(exc).__name__}: {exc})") from None


def read_manifest(path: Path) -> BundleManifest:
    """The manifest of an archive; IntegrityError if it has none or it is unreadable."""
    if path.name.endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as archive:
                return BundleManifest.from_json(archive.read(MANIFEST_NAME))
        except (*_READ_ERRORS, TypeError) as exc:
            raise IntegrityError(f"archive {path} has no readable {MANIFEST_NAME} ({exc})") from None
    for name, data in iter_members(path):
        if name == MANIFEST_NAME:
            try:
                return BundleManifest.from_json(data)
            except (ValueError, TypeError, KeyError) as exc:
                raise IntegrityError(f"archive {path} has an unreadable {MANIFEST_NAME} ({exc})") from None
    raise IntegrityError(f"archive {path} has no {MANIFEST_NAME}")


def check_bundle(path: Path) -> list[str]:
    """Problems found reading ``path`` back against its manifest (empty when sound)."""
    digests: dict[str, tuple[int, str]] = {}
    manifest_data = None
    try:
        for name, data in iter_members(path):
            if name == MANIFEST_NAME:
                manifest_data = data
            else:
                digests[name] = (len(data), hashlib.sha256(data).hexdigest())
    except IntegrityError as exc:
        return [str(exc)]
    if manifest_data is None:
        return [f"{MANIFEST_NAME} is missing"]
    try:
        manifest = BundleManifest.from_json(manifest_data)
    except (ValueError, TypeError, KeyError) as exc:
        return [f"{MANIFEST_NAME} is unreadable ({exc})"]
    problems = []
    for member in manifest.files:
        found = digests.pop(member.name, None)
        if found is None:
            problems.append(f"member {member.name} is missing")
        elif found != (member.size, member.sha256):
            problems.append(f"member {member.name} does not match its size and SHA-256")
    problems += [f"member {name} is not in {MANIFEST_NAME}" for name in sorted(digests)]
    return problems


def pipelines_in_bundle(path: Path) -> list[PipelineFiles]:
    """Every finished pipeline an archive holds, with what its catalog rows are built from."""
    found: dict[tuple[str, str], dict[str, bytes]] = {}
    wanted = {"pipeline.json", "metrics.json", "predictions.csv"}
    for name, data in iter_members(path):
        parts = name.split("/")
        if len(parts) == 3 and parts[2] in wanted and parse_pipeline_folder(parts[1]) is not None:
            found.setdefault((parts[0], parts[1]), {})[parts[2]] = data
    pipelines = []
    for (dataset, folder), files in sorted(found.items()):
        try:
            record = json.loads(files["pipeline.json"])
            metrics = json.loads(files.get("metrics.json", b"{}"))
        except (KeyError, ValueError):
            continue
        if record.get("status") not in ("completed", "failed"):
            continue
        text = files.get("predictions.csv", b"").decode("utf-8")
        pipelines.append(PipelineFiles(dataset, folder, record, metrics, text))
    return pipelines
