"""``nirs4all workspace migrate``: upgrade a workspace written by an earlier version, in place.

A registry maps each format version N to the step that upgrades a workspace
from N to N+1 (:data:`MIGRATIONS`). A step lists the files it would change and
upgrades each one atomically (a temporary renamed over it), skipping files
already at the new version, so an interrupted migration is finished by running
it again. ``workspace.json`` records the new version only once every file of
the step is upgraded. A workspace newer than this tool is refused.

Archives (``catalog/archives/``) and library zips are immutable copies: they are
not rewritten; readers accept every earlier version of the files they hold.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, IntegrityError
from ..facade import Workspace
from ..workspace.atomic import atomic_write_json, atomic_write_text, atomic_write_with, read_json
from ..workspace.layout import FORMAT_VERSION
from ..workspace.locking import FileLock
from ..workspace.schema import PARQUET_SCHEMA_KEY, SCHEMA_KEY, version_of


@dataclass(frozen=True)
class FileUpgrade:
    """One file a migration step rewrites."""

    path: Path
    kind: str  # pipeline.json, metrics.json, manifest.yaml, parquet
    apply: Callable[[Path], None]


@dataclass
class MigrationReport:
    """What ``migrate`` did (or, with ``dry_run``, would do)."""

    from_version: int
    to_version: int
    dry_run: bool
    files: list[str] = field(default_factory=list)  # relative paths upgraded (or to upgrade)
    steps: list[str] = field(default_factory=list)  # "1 -> 2"

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for name in self.files:
            kind = "parquet" if name.endswith(".parquet") else Path(name).name
            found[kind] = found.get(kind, 0) + 1
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_version": self.from_version,
            "to_version": self.to_version,
            "dry_run": self.dry_run,
            "steps": self.steps,
            "counts": self.counts(),
            "files": self.files,
        }


# -- 1 -> 2: every file records its schema version ------------------------------------


def _json_upgrade(path: Path) -> None:
    document = read_json(path)
    if not isinstance(document, dict):
        raise IntegrityError(f"{path} is not a JSON object; run 'nirs4all workspace verify'")
    if version_of(document) < 2:
        atomic_write_json(path, {SCHEMA_KEY: 2, **document})


def _yaml_upgrade(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if not any(line.startswith(f"{SCHEMA_KEY}:") for line in text.splitlines()):
        atomic_write_text(path, f"{SCHEMA_KEY}: 2\n{text}")


def _parquet_upgrade(path: Path) -> None:
    """Rewrite the file with the version in its footer, row group by row group (memory stays bounded
    and the row groups readers rely on are kept)."""
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    metadata = {k: v for k, v in (source.metadata.metadata or {}).items() if k != b"ARROW:schema"}
    if metadata.get(PARQUET_SCHEMA_KEY.encode()) == b"2":
        return
    metadata[PARQUET_SCHEMA_KEY.encode()] = b"2"
    schema = source.schema_arrow.with_metadata(metadata)

    def write(target: Path) -> None:
        with pq.ParquetWriter(target, schema, compression="lz4") as writer:
            for group in range(source.num_row_groups):
                writer.write_table(source.read_row_group(group).replace_schema_metadata(metadata))

    atomic_write_with(path, write)


def _pipeline_folders(ws: Workspace) -> Iterator[Path]:
    for dataset in ws.datasets():
        for parsed in ws.manifests.list_folders(dataset):
            yield ws.layout.pipeline(dataset, parsed.folder).dir
    exports = ws.layout.exports_dir
    if exports.is_dir():  # copies of the best pipeline of each dataset
        yield from sorted(p for p in exports.iterdir() if (p / "export.json").is_file())


def _parquet_version(path: Path) -> int:
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(path).metadata.metadata or {}  # the footer's key-value metadata
    return int(metadata.get(PARQUET_SCHEMA_KEY.encode(), b"1"))


def _plan_1_to_2(ws: Workspace) -> list[FileUpgrade]:
    upgrades = []
    for folder in _pipeline_folders(ws):
        for name in ("pipeline.json", "metrics.json"):
            path = folder / name
            if path.is_file() and version_of(_read_object(path)) < 2:
                upgrades.append(FileUpgrade(path, name, _json_upgrade))
        manifest = folder / "manifest.yaml"
        if manifest.is_file() and not manifest.read_text(encoding="utf-8").startswith(f"{SCHEMA_KEY}:"):
            upgrades.append(FileUpgrade(manifest, "manifest.yaml", _yaml_upgrade))
    catalog = ws.layout.catalog_dir
    fragments = ws.layout.catalog_fragments_dir
    parquet = [p for p in (ws.layout.catalog_meta, ws.layout.catalog_data) if p.is_file()]
    parquet += sorted(fragments.glob("*.parquet")) if fragments.is_dir() else []
    for path in parquet:
        try:
            version = _parquet_version(path)
        except (OSError, ValueError) as exc:
            raise IntegrityError(
                f"{path.relative_to(catalog.parent)} cannot be read ({exc}); "
                "run 'nirs4all workspace verify --repair' first"
            ) from None
        if version < 2:
            upgrades.append(FileUpgrade(path, "parquet", _parquet_upgrade))
    return upgrades


def _read_object(path: Path) -> dict[str, Any]:
    try:
        document = read_json(path)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"{path} is corrupt ({exc}); run 'nirs4all workspace verify --repair'") from None
    return document if isinstance(document, dict) else {}


# The registry: version N -> the step that upgrades a workspace from N to N + 1.
MIGRATIONS: dict[int, Callable[[Workspace], list[FileUpgrade]]] = {1: _plan_1_to_2}


def workspace_version(ws: Workspace) -> int:
    """The format version ``workspace.json`` records (1 if it records none)."""
    marker = ws.layout.workspace_json
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        return int(info.get("format_version", 1))
    except FileNotFoundError:
        raise InputError(f"no workspace at {ws.root} (no workspace.json)") from None
    except (json.JSONDecodeError, TypeError, ValueError, AttributeError) as exc:
        raise IntegrityError(f"{marker} is corrupt ({exc})") from None


def migrate(ws: Workspace, dry_run: bool = False) -> MigrationReport:
    """Upgrade ``ws`` to this tool's format, step by step; see the module docstring.

    Raises InputError for a workspace newer than this tool, IntegrityError for a
    file that cannot be read (nothing of that step is marked done then).
    """
    start = workspace_version(ws)
    if start > FORMAT_VERSION:
        raise InputError(
            f"workspace {ws.root} has format {start}, newer than this tool's {FORMAT_VERSION}; "
            "upgrade nirs4all-workspace"
        )
    report = MigrationReport(start, FORMAT_VERSION, dry_run)
    version = start
    # Files of every dataset change: hold the catalog lock so no compaction rewrites them meanwhile.
    with contextlib.nullcontext() if dry_run else FileLock(ws.layout.catalog_lock):
        while version < FORMAT_VERSION:
            upgrades = MIGRATIONS[version](ws)
            report.steps.append(f"{version} -> {version + 1}")
            report.files += [ws.layout.relative(u.path) for u in upgrades]
            if dry_run:
                version += 1
                continue
            for upgrade in upgrades:
                try:
                    upgrade.apply(upgrade.path)
                except FileNotFoundError:
                    continue  # deleted or archived meanwhile: nothing left to upgrade
            version += 1
            _set_version(ws, version)
    return report


def _set_version(ws: Workspace, version: int) -> None:
    marker = ws.layout.workspace_json
    info = json.loads(marker.read_text(encoding="utf-8"))
    info["format_version"] = version
    atomic_write_json(marker, info)
