"""Generations of the catalog: what one reader sees, and the one way to move to the next.

A *generation* of one kind of catalog file (``meta`` or ``data``) is its main
file plus the fragments that file has not folded in (its Parquet key-value
metadata ``nirs4all.compacted`` lists those it holds). Writers never change a
file in place: appends add fragments; :func:`replace_main` writes a new main
file beside the old one and renames it over it, after which the fragments it
folded in may be deleted (:func:`remove_fragments`).

Readers resolve one generation per query with :func:`open_generation`: they
open the main file, read its list, open every fragment it does not hold, and
then check that the main path still names the file they opened. If a
compaction, rebuild or repair moved on meanwhile (a fragment vanished, or the
main file was replaced), they start again. What they hold then are open file
handles: a later rename or delete cannot change what they read (the OS keeps
an opened file's bytes until it is closed), so a query never sees a
half-replaced file, never a row twice, and never a corruption that is not on
disk. Handles also make every path literal: polars never globs them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import IO

import polars as pl

from ..errors import IntegrityError
from ..workspace.atomic import atomic_write_with
from ..workspace.layout import WorkspaceLayout
from ..workspace.schema import parquet_metadata

COMPACTED_KEY = "nirs4all.compacted"
META_SUFFIX = ".meta.parquet"
DATA_SUFFIX = ".data.parquet"
SUFFIX = {"meta": META_SUFFIX, "data": DATA_SUFFIX}
ATTEMPTS = 200  # a generation moves on once per compaction: a reader retries rarely

Opened = list[tuple[Path, IO[bytes]]]


def main_path(layout: WorkspaceLayout, kind: str) -> Path:
    return layout.catalog_meta if kind == "meta" else layout.catalog_data


def fragment_path(layout: WorkspaceLayout, fragment_id: str, kind: str) -> Path:
    return layout.catalog_fragments_dir / f"{fragment_id}{SUFFIX[kind]}"


def listed_fragments(layout: WorkspaceLayout, kind: str) -> list[str]:
    """Ids of every ``kind`` fragment on disk, folded or not (time-ordered)."""
    suffix = SUFFIX[kind]
    try:
        names = [p.name for p in layout.catalog_fragments_dir.iterdir()]
    except FileNotFoundError:
        return []
    return sorted(n[: -len(suffix)] for n in names if n.endswith(suffix))


def compacted_in(source: Path | IO[bytes]) -> set[str]:
    """Fragments a main file holds (its ``nirs4all.compacted`` list); IntegrityError if unreadable."""
    try:
        raw = pl.read_parquet_metadata(source).get(COMPACTED_KEY)
    except Exception as exc:  # polars raises several types for a bad footer
        name = source if isinstance(source, Path) else getattr(source, "name", "?")
        raise IntegrityError(
            f"catalog file {name} is corrupt ({type(exc).__name__}); run 'nirs4all workspace verify --repair'"
        ) from None
    finally:
        if not isinstance(source, Path):
            source.seek(0)
    return set(json.loads(raw)) if raw else set()


def _still_named(path: Path, handle: IO[bytes] | None) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return handle is None
    if handle is None:
        return False
    opened = os.fstat(handle.fileno())
    return (on_disk.st_ino, on_disk.st_dev) == (opened.st_ino, opened.st_dev)


def close_all(opened: Opened) -> None:
    for _, handle in opened:
        handle.close()


def open_generation(layout: WorkspaceLayout, kind: str, skip: Collection[str] = ()) -> Opened:
    """Open handles on the files of one generation of ``kind``: the main file (if any) first,
    then its live fragments in time order, except the fragments in ``skip``. The caller closes
    them (:func:`close_all`)."""
    main = main_path(layout, kind)
    for _ in range(ATTEMPTS):
        opened: Opened = []
        try:
            handle = None
            with contextlib.suppress(FileNotFoundError):
                handle = main.open("rb")
                opened.append((main, handle))
            done = compacted_in(handle) if handle is not None else set()
            for fragment in listed_fragments(layout, kind):
                if fragment not in done and fragment not in skip:
                    path = fragment_path(layout, fragment, kind)
                    opened.append((path, path.open("rb")))
            if _still_named(main, handle):
                return opened
        except FileNotFoundError:
            pass  # a fragment was folded and removed while we listed: start again
        except BaseException:
            close_all(opened)
            raise
        close_all(opened)
    raise IntegrityError(
        f"the catalog in {layout.catalog_dir} changed {ATTEMPTS} times while it was being read; try again"
    )


@contextlib.contextmanager
def os_errors(target: Path) -> Iterator[None]:
    """Turn a polars write failure of the file system (disk full, permissions) into the OSError
    it is, naming ``target``: one line for the user, never a damaged catalog."""
    try:
        yield
    except pl.exceptions.PolarsError as exc:
        code = re.search(r"\(os error (\d+)\)", str(exc))
        if code is None:
            raise
        number = int(code.group(1))
        raise OSError(number, os.strerror(number), str(target)) from None


def replace_main(
    layout: WorkspaceLayout, kind: str, write: Callable[[Path, dict[str, str]], None], covered: set[str]
) -> None:
    """Swap in the next generation of ``kind``: ``write(temporary, metadata)`` writes the new main
    file (with ``metadata`` as its Parquet key-value metadata), renamed over the old one.
    ``covered`` are the fragments it holds; call under the catalog lock."""
    metadata = parquet_metadata({COMPACTED_KEY: json.dumps(sorted(covered))})
    target = main_path(layout, kind)
    with os_errors(target):
        atomic_write_with(target, lambda p: write(p, metadata))


def remove_fragments(layout: WorkspaceLayout, fragments: set[str]) -> int:
    """Delete fragment pairs already held by both main files; returns how many pairs."""
    removed = 0
    for fragment in sorted(fragments):
        for kind in ("data", "meta"):
            with contextlib.suppress(FileNotFoundError):
                fragment_path(layout, fragment, kind).unlink()
                removed += kind == "meta"
    return removed
