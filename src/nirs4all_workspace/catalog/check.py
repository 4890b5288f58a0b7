"""Checking the catalog files and the archives (part of ``nirs4all workspace verify``).

Both checks report through ``add(check, path, message, repairable)`` (the
verifier's :meth:`~nirs4all_workspace.maintenance.verify.Checker.add`); see
:mod:`nirs4all_workspace.maintenance.verify` for the meaning of each check name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ..errors import IntegrityError
from ..workspace.layout import WorkspaceLayout
from .generation import close_all, open_generation
from .predictions import COMPACTED_KEY, DATA_SUFFIX, META_SUFFIX

Report = Callable[..., None]
_META_COLUMNS = ["prediction_id", "pipeline_id", "dataset", "pipeline_number"]


@dataclass
class CatalogState:
    """What the readable catalog files hold, for the checks of the run folders."""

    pipelines: set[str] | None = None  # pipeline ids with rows; None when a main file is unreadable
    numbers: dict[str, int] = field(default_factory=dict)  # dataset -> highest pipeline number
    files: int = 0
    rows: int = 0


def _read(source: Any, columns: list[str], main: bool, add: Report, path: Path | None = None) -> Any:
    """The ``columns`` of a catalog file (a fragment, small, is read whole); None if unreadable."""
    try:
        return pq.read_table(source, columns=columns) if main else pq.read_table(source).select(columns)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        where = path or source
        add("corrupt-parquet", where, f"cannot be read ({type(exc).__name__}); moved aside by --repair", True)
        return None


def _compacted(path: Path) -> set[str]:
    try:
        raw = (pq.read_metadata(path).metadata or {}).get(COMPACTED_KEY.encode())
        return set(json.loads(raw)) if raw else set()
    except Exception:  # an unreadable file is reported by _read
        return set()


def _visible_tables(
    layout: WorkspaceLayout, kind: str, add: Report, state: CatalogState
) -> tuple[list, bool]:
    """Tables of the files readers include for ``kind``, and whether the main file was readable."""
    main, suffix = (
        (layout.catalog_meta, META_SUFFIX) if kind == "meta" else (layout.catalog_data, DATA_SUFFIX)
    )
    columns = _META_COLUMNS if kind == "meta" else ["prediction_id"]
    try:
        opened = open_generation(layout, kind)  # one generation, as readers see it
    except IntegrityError:
        opened = None  # an unreadable main file: reported below
    if opened is not None:
        tables, main_ok = [], True
        try:
            for path, handle in opened:
                state.files += 1
                table = _read(handle, columns, path == main, add, path)
                main_ok = main_ok and (table is not None or path != main)
                if table is not None:
                    tables.append(table)
        finally:
            close_all(opened)
        return tables, main_ok
    tables, done, main_ok = [], set(), True
    if main.exists():
        state.files += 1
        table = _read(main, columns, True, add)
        main_ok = table is not None
        if main_ok:
            tables.append(table)
            done = _compacted(main)
    folder = layout.catalog_fragments_dir
    for path in sorted(folder.glob(f"*{suffix}")) if folder.is_dir() else []:
        if path.name[: -len(suffix)] in done:
            continue  # folded into the main file: invisible, removed by gc
        state.files += 1
        table = _read(path, columns, False, add)
        if table is not None:
            tables.append(table)
    return tables, main_ok


def check_catalog(layout: WorkspaceLayout, add: Report) -> CatalogState:
    """Unreadable files, rows without arrays, repeated rows; returns what the catalog holds."""
    state = CatalogState()
    meta, meta_ok = _visible_tables(layout, "meta", add, state)
    data, data_ok = _visible_tables(layout, "data", add, state)
    meta_ids = [i for t in meta for i in t.column("prediction_id").to_pylist()]
    data_ids = {i for t in data for i in t.column("prediction_id").to_pylist()}
    state.rows = len(meta_ids)
    dangling = set(meta_ids) - data_ids
    if dangling:
        example = sorted(dangling)[0]
        add(
            "dangling-rows",
            layout.catalog_dir,
            f"{len(dangling)} catalog rows have no arrays (e.g. {example})",
            True,
        )
    if len(meta_ids) > len(set(meta_ids)):
        repeated = len(meta_ids) - len(set(meta_ids))
        add("duplicate-rows", layout.catalog_dir, f"{repeated} catalog rows repeat a prediction id", True)
    if not (meta_ok and data_ok):
        return state  # the rows of an unreadable main file are unknown: missing rows are not reported
    state.pipelines = {p for t in meta for p in t.column("pipeline_id").to_pylist()}
    for table in meta:
        datasets, numbers = table.column("dataset").to_pylist(), table.column("pipeline_number").to_pylist()
        for dataset, number in zip(datasets, numbers, strict=True):
            if number is not None and number > state.numbers.get(dataset, 0):
                state.numbers[dataset] = number
    return state


def check_archives(layout: WorkspaceLayout, add: Report) -> int:
    """Registry entries, archives against their manifests, archived predictions; returns how many files."""
    from ..workspace.bundles import check_bundle
    from ..workspace.predictions_csv import read_predictions_csv
    from .archive_registry import entry_paths, read_entry

    registered: set[str] = set()
    for path in entry_paths(layout):
        try:
            entry = read_entry(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            add("registry", path, f"unreadable registry entry ({exc})", True)
            continue
        registered.add(entry.archive)
        if not layout.absolute(entry.archive).is_file():
            add("registry", path, f"names {entry.archive}, which does not exist", True)
    archives = sorted(layout.catalog_archive_dir("pipeline").glob("*.zip"))
    archives += sorted(layout.catalog_archive_dir("runs").glob("*.tar.gz"))
    for archive in archives:
        problems = check_bundle(archive)
        if problems:
            add("archive", archive, f"does not match its manifest: {problems[0]}", False)
        elif layout.relative(archive) not in registered:
            add("unregistered-archive", archive, "no registry entry names it", True)
    copies = sorted(layout.catalog_archive_dir("best_predictions").glob("*.csv"))
    for csv in copies:
        try:
            read_predictions_csv(csv)
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
            add("archive", csv, f"archived predictions are unreadable ({exc})", False)
    return len(archives) + len(copies)
