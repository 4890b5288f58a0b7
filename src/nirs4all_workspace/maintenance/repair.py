"""Repairs for what :mod:`.verify` finds (``nirs4all workspace verify --repair``).

In order: stray temporaries and trash folders are removed; trash entries an
interrupted deletion, restore or purge left half-moved are finished; unreadable session
files are moved aside (``NAME.corrupt``) so that new sessions can start;
incomplete pipelines are marked ``failed`` with an ``error.log`` saying so (an
unreadable ``pipeline.json`` is kept beside it as ``pipeline.json.corrupt``);
unreadable catalog files are moved to ``catalog/_quarantine/`` (a fragment
with its pair) and, if a main file was among them, the catalog is rebuilt from
the folders and archives; registry entries naming missing archives are removed
and unregistered archives registered; rows without arrays and repeated rows are
dropped; finished pipelines without rows are indexed again from their folders;
the high-water mark is raised to the highest number in use; the best result is
chosen again. Binaries that do not match their digest, missing binaries and
damaged archives cannot be repaired: they stay reported.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..catalog.predictions import DATA_SUFFIX, META_SUFFIX
from ..errors import IntegrityError, WorkspaceError
from ..facade import Workspace
from ..workspace.atomic import atomic_write_json, atomic_write_text
from ..workspace.identity import new_id
from ..workspace.layout import parse_pipeline_folder
from ..workspace.locking import FileLock
from ..workspace.manifest import FINISHED_STATUSES, utc_now
from ..workspace.numbering import MAX_JUMP, known_numbers, parse_mark
from .retention import refresh_best
from .trash import settle_entry

if TYPE_CHECKING:  # verify calls repair; repair only names verify's types
    from .verify import Checker, Problem

REPAIR_NOTE = "marked failed by 'nirs4all workspace verify --repair'"


def _dataset_of(problem: Problem) -> str:
    return problem.path.split("/")[1]


def _attempt(problems: list[Problem], action: Callable[[], str | None]) -> None:
    """Run one repair; its outcome (or why it failed) becomes the problems' ``action``."""
    try:
        outcome = action()
    except (WorkspaceError, OSError) as exc:
        outcome = f"repair failed: {' '.join(str(exc).split())}"
    for problem in problems:
        if outcome:
            problem.action = outcome


def _remove(path: Path) -> str:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    return "removed"


def _set_aside(path: Path) -> str:
    path.replace(path.with_name(path.name + ".corrupt"))
    return f"moved aside to {path.name}.corrupt; the next session starts a new one"


def repair_problems(workspace: Workspace, checker: Checker) -> None:
    """Fix the repairable problems of ``checker`` (sets each problem's ``action``)."""
    by_check: dict[str, list[Problem]] = {}
    for problem in checker.problems:
        if problem.repairable:
            by_check.setdefault(problem.check, []).append(problem)
    layout = workspace.layout
    for problem in by_check.get("stray-temporary", []) + by_check.get("trash-folder", []):
        _attempt([problem], lambda p=problem: _remove(layout.absolute(p.path)))
    for problem in by_check.get("trash-entry", []):  # first: it moves folders back or away
        _attempt([problem], lambda p=problem: settle_entry(workspace, *p.targets))
    for problem in by_check.get("corrupt-file", []):
        if problem.targets:  # an unreadable pipeline.json

            def fail(p: Problem = problem) -> str:
                mark_failed(workspace, *p.targets, reason="its pipeline.json was unreadable")
                return f"{REPAIR_NOTE}; the damaged file is kept as pipeline.json.corrupt"

            _attempt([problem], fail)
        else:
            _attempt([problem], lambda p=problem: _set_aside(layout.absolute(p.path)))
    for problem in by_check.get("incomplete-pipeline", []):

        def finish(p: Problem = problem) -> str:
            mark_failed(workspace, *p.targets, reason="it was interrupted before it finished")
            return f"{REPAIR_NOTE} (error.log explains)"

        _attempt([problem], finish)
    catalog = [p for c in CATALOG_CHECKS for p in by_check.get(c, [])]
    _attempt(catalog, lambda: _repair_catalog(workspace, by_check))
    for problem in by_check.get("numbering", []):
        _attempt(
            [problem],
            lambda p=problem: f"high-water mark raised to {raise_high_water(workspace, _dataset_of(p))}",
        )
    for dataset in sorted({_dataset_of(p) for p in by_check.get("best", [])}):

        def choose(d: str = dataset) -> str:
            best = refresh_best(workspace, d)
            return f"best chosen again: {best.folder if best else 'none'}"

        _attempt([p for p in by_check["best"] if _dataset_of(p) == dataset], choose)


CATALOG_CHECKS = (
    "corrupt-parquet",
    "registry",
    "unregistered-archive",
    "dangling-rows",
    "duplicate-rows",
    "missing-rows",
)


def _append(problems: list[Problem], note: str) -> None:
    for problem in problems:
        problem.action = f"{problem.action}; {note}" if problem.action else note


def _repair_catalog(workspace: Workspace, by_check: dict[str, list[Problem]]) -> None:
    """Catalog repairs, in order; sets the actions itself (returns None for :func:`_attempt`)."""
    from ..catalog.archive_registry import register
    from ..maintenance.rebuild import clean_catalog, rebuild_catalog

    layout = workspace.layout
    main_files = {layout.relative(layout.catalog_meta), layout.relative(layout.catalog_data)}
    corrupt = by_check.get("corrupt-parquet", [])
    for problem in corrupt:
        problem.action = f"moved to {layout.relative(quarantine(workspace, layout.absolute(problem.path)))}"
    for problem in by_check.get("registry", []):
        layout.absolute(problem.path).unlink(missing_ok=True)
        problem.action = "entry removed"
    for problem in by_check.get("unregistered-archive", []):
        register(layout, entry_from_archive(workspace, layout.absolute(problem.path)))
        problem.action = "registered from its manifest"
    rows = [p for c in ("dangling-rows", "duplicate-rows", "missing-rows") for p in by_check.get(c, [])]
    if any(p.path in main_files for p in corrupt):
        report = rebuild_catalog(workspace)
        _append(corrupt + rows, f"catalog rebuilt from the folders and archives ({report.rows} rows)")
        return
    if by_check.get("dangling-rows") or by_check.get("duplicate-rows"):
        cleaned = clean_catalog(workspace)
        note = f"dropped {cleaned.dangling} rows without arrays and {cleaned.duplicates} repeated rows"
        _append(by_check.get("dangling-rows", []) + by_check.get("duplicate-rows", []), note)
    count = reindex_missing(workspace)
    if count:
        _append(by_check.get("missing-rows", []) + corrupt, f"rows of {count} pipelines indexed again")


def reindex_missing(workspace: Workspace) -> int:
    """Index again every finished pipeline folder that has no catalog rows; returns how many.

    Covers those reported, those just marked failed and those of quarantined fragments.
    """
    from ..maintenance.rebuild import reindex

    frame = workspace.predictions.scan().select("pipeline_id")
    present = set(workspace.predictions.collect(frame)["pipeline_id"].to_list())
    missing = []
    for dataset in workspace.datasets():
        for parsed in workspace.manifests.list_folders(dataset):
            with contextlib.suppress(IntegrityError, OSError):
                record = workspace.manifests.read_pipeline(dataset, parsed.folder)
                if record.get("status") in FINISHED_STATUSES and str(record.get("id")) not in present:
                    missing.append((dataset, parsed.folder))
    return reindex(workspace, missing) if missing else 0


def quarantine(workspace: Workspace, path: Path) -> Path:
    """Move an unreadable catalog file (a fragment with its pair) to ``catalog/_quarantine/``."""
    folder = workspace.layout.catalog_quarantine_dir
    folder.mkdir(parents=True, exist_ok=True)
    stamp = new_id()
    moved = folder / f"{stamp}_{path.name}"
    path.replace(moved)
    for suffix, pair in ((META_SUFFIX, DATA_SUFFIX), (DATA_SUFFIX, META_SUFFIX)):
        if path.parent == workspace.layout.catalog_fragments_dir and path.name.endswith(suffix):
            other = path.with_name(path.name[: -len(suffix)] + pair)
            with contextlib.suppress(FileNotFoundError):
                other.replace(folder / f"{stamp}_{other.name}")
    return moved


def entry_from_archive(workspace: Workspace, archive: Path) -> Any:
    """The registry entry of an archive, from its manifest (IntegrityError if unreadable)."""
    from ..catalog.archive_registry import ArchivedPipeline, ArchiveEntry
    from ..workspace.bundles import read_manifest

    manifest = read_manifest(archive)
    predictions = None
    if manifest.kind == "pipeline" and manifest.pipelines:
        first = manifest.pipelines[0]
        parsed = parse_pipeline_folder(first["folder"])
        if parsed is not None:
            csv = workspace.layout.archived_predictions(manifest.dataset, parsed.number, parsed.short_hash)
            predictions = workspace.layout.relative(csv) if csv.is_file() else None
    return ArchiveEntry(
        kind=manifest.kind,
        archive=workspace.layout.relative(archive),
        created_at=manifest.created_at,
        session=manifest.session,
        predictions=predictions,
        pipelines=[ArchivedPipeline(p["id"], manifest.dataset, p["folder"]) for p in manifest.pipelines],
    )


def raise_high_water(workspace: Workspace, dataset: str) -> int:
    """Set the high-water mark to the highest number anything remembers (``numbering.known_numbers``)
    or keep a plausible higher one; returns it."""
    layout = workspace.layout
    layout.state_dir(dataset).mkdir(parents=True, exist_ok=True)
    with FileLock(layout.dataset_lock(dataset)):
        path = layout.high_water_file(dataset)
        known = max(known_numbers(layout, dataset).values(), default=0)
        try:
            current = parse_mark(path.read_text()) or 0
        except (OSError, ValueError):
            current = 0
        mark = current if known <= current <= known + MAX_JUMP else known
        atomic_write_text(path, f"{mark}\n")
    return mark


def _failed_record(workspace: Workspace, dataset: str, folder: str, previous: dict[str, Any] | None) -> dict:
    paths = workspace.layout.pipeline(dataset, folder)
    try:
        identity = workspace.manifests.read_manifest(dataset, folder) or {}
    except IntegrityError:
        identity = {}
    parsed = parse_pipeline_folder(folder)
    created = identity.get("created_at") or datetime.fromtimestamp(paths.dir.stat().st_mtime, UTC).isoformat()
    record: dict[str, Any] = {
        "id": identity.get("id") or new_id(),
        "number": identity.get("number", parsed.number if parsed else 0),
        "folder": folder,
        "name": identity.get("name", parsed.name if parsed else None),
        "hash": identity.get("hash") or (parsed.short_hash if parsed else ""),
        "dataset": dataset,
        "session": identity.get("session", "unknown"),
        "engine": identity.get("engine", "unknown"),
        "task": None,
        "model": None,
        "preprocessing": None,
        "params": {},
        "config": None,
        "artifacts": [],
        "classes": None,
        "n_samples": None,
        "n_features": None,
        "info": {},
        "timings": {"created_at": created, "duration_s": None},
    }
    if previous:
        record.update({k: v for k, v in previous.items() if k != "timings"})
        record["timings"] = {**record["timings"], **previous.get("timings", {})}
    if not identity:
        text = yaml.safe_dump(
            {k: record[k] for k in ("id", "number", "folder", "name", "hash", "dataset", "session", "engine")}
            | {"created_at": created},
            sort_keys=False,
        )
        atomic_write_text(paths.manifest_yaml, text)
    return record


def mark_failed(workspace: Workspace, dataset: str, folder: str, reason: str) -> None:
    """Give an incomplete pipeline folder a ``failed`` ``pipeline.json`` and an ``error.log``."""
    paths = workspace.layout.pipeline(dataset, folder)
    previous = None
    if paths.pipeline_json.is_file():
        try:
            loaded = json.loads(paths.pipeline_json.read_text(encoding="utf-8"))
            previous = loaded if isinstance(loaded, dict) else None
        except (ValueError, UnicodeDecodeError):
            shutil.copyfile(paths.pipeline_json, paths.dir / "pipeline.json.corrupt")
    record = _failed_record(workspace, dataset, folder, previous)
    message = f"{utc_now()} pipeline {folder} was {REPAIR_NOTE}: {reason}.\n"
    with contextlib.suppress(FileNotFoundError):
        message = paths.error_log.read_text(encoding="utf-8") + message
    atomic_write_text(paths.error_log, message)
    record.update(
        status="failed",
        error=f"incomplete: {reason}",
        path=workspace.layout.relative(paths.dir),
    )
    record["timings"]["finished_at"] = utc_now()
    atomic_write_json(paths.pipeline_json, record)
