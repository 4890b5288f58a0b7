"""Checking a workspace (``nirs4all workspace verify``): every rule of the layout, file by file.

Checks, each reported as a :class:`Problem` with a short ``check`` name:

- ``incomplete-pipeline``: a folder without ``pipeline.json`` or not finished;
  ``corrupt-file``: an unparseable ``pipeline.json`` or session file;
  ``unreadable-file``: something that cannot be read at all (e.g. a folder
  where a file should be);
- ``missing-binary`` / ``binary-digest``: a binary a ``pipeline.json``
  references is absent or does not match its recorded SHA-256;
- ``numbering``: the high-water mark is missing, unreadable or below a folder
  number or a catalog row's number; ``duplicate-number``: two folders share one;
- ``best``: not exactly one ``best_*.csv`` matching ``_state/best.json``, or a
  better completed pipeline exists;
- ``corrupt-parquet``: a catalog file readers include cannot be read;
  ``dangling-rows``: meta rows whose arrays are missing; ``duplicate-rows``;
  ``missing-rows``: finished pipelines without catalog rows;
- ``archive``: an archive that does not match its manifest; ``registry``: an
  archive registry entry that is unreadable or names a missing archive;
  ``unregistered-archive``: an archive no entry names;
- ``stray-temporary``: a ``.*.partial`` file; ``trash-folder``: a ``_trash_*`` folder;
  ``trash-entry``: an entry of a dataset's ``_trash/`` that an interrupted
  deletion, restore or purge left half-moved (``--repair`` finishes it).

The catalog and archive checks live in :mod:`nirs4all_workspace.catalog.check`.
A killed process can only leave the kinds in :data:`CRASH_LEFTOVERS`; the
others mean that something damaged files. ``verify(..., repair=True)`` fixes
what can be fixed (:mod:`.repair`) and checks again. Run it while no other
nirs4all process writes to the workspace: a run in progress looks incomplete.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog.check import CatalogState, check_archives, check_catalog
from ..errors import InputError, IntegrityError
from ..facade import Workspace
from ..workspace.dataset_info import current_digest
from ..workspace.locking import FileLock
from ..workspace.manifest import FINISHED_STATUSES
from ..workspace.numbering import MAX_JUMP, known_numbers, parse_mark
from ..workspace.trash import entry_names
from .gc import stray_temporaries, trash_folders
from .repair import repair_problems
from .retention import best_criterion
from .trash import entry_problem

_READ_ONLY_ERRORS = (errno.EROFS, errno.EACCES, errno.EPERM)
CRASH_LEFTOVERS = frozenset(
    {
        "incomplete-pipeline",
        "stray-temporary",
        "trash-folder",
        "trash-entry",
        "numbering",
        "missing-rows",
        "best",
        "unregistered-archive",
    }
)


@dataclass
class Problem:
    """One thing that breaks a rule of the workspace."""

    check: str
    path: str  # relative to the workspace root
    message: str
    repairable: bool
    action: str | None = None  # what --repair did about it
    targets: list[str] = field(default_factory=list, repr=False)  # e.g. the folders missing rows

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "targets"}


@dataclass
class VerifyReport:
    """Problems found, and those left after ``--repair`` (the same list without it)."""

    problems: list[Problem]
    remaining: list[Problem]
    checked: dict[str, int]
    repaired: bool = False
    read_only: bool = False  # checked without locks: nothing can be repaired there

    @property
    def ok(self) -> bool:
        return not self.remaining

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "repaired": self.repaired,
            "read_only": self.read_only,
            "checked": self.checked,
            "problems": [p.to_dict() for p in self.problems],
            "remaining": [p.to_dict() for p in self.remaining],
        }


def verify(workspace: Workspace, repair: bool = False) -> VerifyReport:
    """Check every rule; with ``repair``, fix what can be fixed and check again."""
    if not repair:
        found = Checker(workspace).run()
        return VerifyReport(found.problems, list(found.problems), found.counts, read_only=found.read_only)
    read_only = InputError(
        f"workspace {workspace.root} is read-only: verify can check it but not repair it; "
        "repair a writable copy (or remount it read-write)"
    )
    with contextlib.ExitStack() as quiet:
        # Runs hold a shared lease on their dataset: wait for them, so that a pipeline
        # being written is never taken for an interrupted one.
        try:
            for dataset in workspace.datasets():
                quiet.enter_context(FileLock(workspace.layout.writers_lock(dataset), timeout=3600.0))
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise read_only from None
            raise
        found = Checker(workspace).run()
        if found.read_only:
            raise read_only
        if not found.problems:
            return VerifyReport(found.problems, list(found.problems), found.counts)

        repair_problems(workspace, found)
        again = Checker(workspace).run()
    return VerifyReport(found.problems, again.problems, again.counts, repaired=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Checker:
    """One pass over the workspace; ``run()`` fills ``problems`` and ``counts``."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.layout = workspace.layout
        self.problems: list[Problem] = []
        self.counts: dict[str, int] = Counter()
        self.records: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}  # dataset -> finished records
        self.catalog = CatalogState()
        self.read_only = False  # a dataset lock could not be opened for writing

    def add(self, check: str, path: Path | str, message: str, repairable: bool, **extra: Any) -> None:
        relative = self.layout.relative(path) if isinstance(path, Path) else path
        self.problems.append(Problem(check, relative, message, repairable, **extra))

    def run(self) -> Checker:
        self.catalog = check_catalog(self.layout, self.add)
        for dataset in self.ws.datasets():
            self.counts["datasets"] += 1
            self.check_folders(dataset)
            self.check_numbering(dataset)
            self.check_binaries(dataset)
            self.check_best(dataset)
            self.check_session_files(dataset)
            self.check_missing_rows(dataset)
            self.check_trash(dataset)
        self.counts["archives"] += check_archives(self.layout, self.add)
        for path in trash_folders(self.ws):
            self.add("trash-folder", path, "left by an interrupted deletion", repairable=True)
        for path in stray_temporaries(self.layout.root):
            self.add("stray-temporary", path, "temporary left by an interrupted write", repairable=True)
        self.counts.update(catalog_files=self.catalog.files, catalog_rows=self.catalog.rows)
        self.counts = dict(self.counts)
        return self

    # -- run folders ---------------------------------------------------------------
    def check_folders(self, dataset: str) -> None:
        records: dict[tuple[str, str], dict[str, Any]] = {}
        root = self.layout.dataset_dir(dataset)
        for parsed in self.ws.manifests.list_folders(dataset):
            self.counts["pipelines"] += 1
            # Plain strings for the files every folder has (100,000 folders: no Path per file).
            folder = os.path.join(root, parsed.folder)  # noqa: PTH118
            name = os.path.join(folder, "pipeline.json")  # noqa: PTH118
            path = Path(name)
            try:
                with open(name, encoding="utf-8") as handle:  # noqa: PTH123
                    record = json.load(handle)
            except FileNotFoundError:
                self.add(
                    "incomplete-pipeline",
                    path.parent,
                    "no pipeline.json: never finished",
                    True,
                    targets=[dataset, parsed.folder],
                )
                continue
            except (ValueError, UnicodeDecodeError) as exc:
                self.add(
                    "corrupt-file",
                    path,
                    f"pipeline.json is unreadable ({exc})",
                    repairable=True,
                    targets=[dataset, parsed.folder],
                )
                continue
            except OSError as exc:
                self.add("unreadable-file", path, f"cannot be read ({exc.strerror or exc})", repairable=False)
                continue
            if not isinstance(record, dict) or record.get("status") not in FINISHED_STATUSES:
                status = record.get("status") if isinstance(record, dict) else None
                self.add(
                    "incomplete-pipeline",
                    path.parent,
                    f"status {status!r} is not finished",
                    True,
                    targets=[dataset, parsed.folder],
                )
                continue
            records[(dataset, parsed.folder)] = record
            needed = ("metrics.json", "predictions.csv") if record["status"] == "completed" else ()
            for file in needed:
                if not os.path.isfile(os.path.join(folder, file)):  # noqa: PTH113, PTH118
                    self.add(
                        "unreadable-file",
                        path.parent / file,
                        "is missing or not a regular file",
                        repairable=False,
                    )
        self.records[dataset] = records

    def check_numbering(self, dataset: str) -> None:
        state = self.layout.state_dir(dataset)
        hw_path = self.layout.high_water_file(dataset)
        # Under the dataset lock: a run creates a folder and raises the mark together.
        if state.is_dir():
            try:
                with FileLock(self.layout.dataset_lock(dataset)):
                    folders = self.ws.manifests.list_folders(dataset)
                    raw = hw_path.read_text() if hw_path.is_file() else None
            except OSError as exc:
                if exc.errno not in _READ_ONLY_ERRORS:
                    raise
                # A read-only workspace (or no write permission): nobody can be writing
                # through this mount, so read without the lock.
                self.read_only = True
                folders = self.ws.manifests.list_folders(dataset)
                raw = hw_path.read_text() if hw_path.is_file() else None
        else:
            folders, raw = self.ws.manifests.list_folders(dataset), None
        numbers = Counter(f.number for f in folders)
        for number, count in sorted(numbers.items()):
            if count > 1:
                names = ", ".join(f.folder for f in folders if f.number == number)
                self.add(
                    "duplicate-number",
                    self.layout.dataset_dir(dataset),
                    f"{count} folders share number {number}: {names}",
                    repairable=False,
                )
        highest = max([*numbers, self.catalog.numbers.get(dataset, 0)], default=0)
        if raw is None:
            if highest:
                self.add(
                    "numbering",
                    hw_path,
                    f"high-water mark is missing (highest number used: {highest})",
                    True,
                    targets=[dataset],
                )
            return
        mark = parse_mark(raw)
        if mark is None:
            self.add(
                "numbering",
                hw_path,
                f"high-water mark {raw.strip()[:20]!r} is not a plausible number",
                True,
                targets=[dataset],
            )
            return
        if mark > MAX_JUMP:
            known = max(known_numbers(self.layout, dataset).values(), default=0)
            if mark > known + MAX_JUMP:
                self.add(
                    "numbering",
                    hw_path,
                    f"high-water mark {mark} is far above the highest number known ({known})",
                    True,
                    targets=[dataset],
                )
                return
        if mark < highest:
            self.add(
                "numbering",
                hw_path,
                f"high-water mark {mark} is below number {highest} already used",
                True,
                targets=[dataset],
            )

    def check_binaries(self, dataset: str) -> None:
        users: dict[str, list[str]] = {}  # binary -> folders referencing it
        digests: dict[str, set[str]] = {}  # binary -> digests recorded for it
        for (_, folder), record in self.records.get(dataset, {}).items():
            for artifact in record.get("artifacts", []):
                users.setdefault(artifact.get("file", ""), []).append(folder)
                digests.setdefault(artifact.get("file", ""), set()).add(str(artifact.get("digest")))
        for name, folders in sorted(users.items()):
            self.counts["binaries"] += 1
            path = self.layout.binaries_dir(dataset) / name
            who = f"{folders[0]}" + (f" and {len(folders) - 1} more pipelines" if len(folders) > 1 else "")
            try:
                actual = _sha256(path) if path.is_file() else None
            except OSError:
                actual = None
            if actual is None:
                self.add("missing-binary", path, f"referenced by {who} but missing or unreadable", False)
            elif digests[name] != {actual}:
                self.add(
                    "binary-digest", path, f"does not match the SHA-256 recorded by {who}; re-run them", False
                )

    def _score(self, dataset: str, folder: str, metric: str, partition: str) -> float | None:
        paths = self.layout.pipeline(dataset, folder)
        try:
            metrics = json.loads(paths.metrics_json.read_text(encoding="utf-8"))
            value = metrics.get(partition, {}).get(metric)
        except (OSError, ValueError, AttributeError):
            return None
        if value is None or not paths.predictions_csv.is_file():
            return None
        value = float(value)
        return value if math.isfinite(value) else None

    def check_best(self, dataset: str) -> None:
        state = self.layout.best_state_file(dataset)
        files = [p.name for p in self.layout.best_csv_files(dataset)]
        try:
            best = self.ws.best.current(dataset)
        except IntegrityError as exc:
            self.add("best", state, str(exc).split(";")[0], repairable=True)
            return
        metric, direction, partition = best_criterion(self.ws, dataset)
        newest = current_digest(self.layout, dataset)  # only the newest data version competes
        scores = {
            folder: self._score(dataset, folder, metric, partition)
            for (_, folder), record in self.records.get(dataset, {}).items()
            if record.get("status") == "completed" and record.get("data_digest") == newest
        }
        valid = [s for s in scores.values() if s is not None]
        optimum = (min if direction == "min" else max)(valid) if valid else None
        where = self.layout.dataset_dir(dataset)
        if best is None:
            if optimum is not None:
                self.add(
                    "best", where, "no best result recorded although completed pipelines have scores", True
                )
            elif files:
                self.add("best", where, f"best files without _state/best.json: {', '.join(files)}", True)
            return
        expected = self.layout.best_csv(dataset, best.folder).name
        if files != [expected]:
            self.add("best", where, f"expected exactly {expected}, found: {', '.join(files) or 'none'}", True)
        if best.folder not in scores:
            self.add("best", state, f"names {best.folder}, which is not a completed pipeline", True)
            return
        source = self.layout.pipeline(dataset, best.folder).predictions_csv
        copy = self.layout.best_csv(dataset, best.folder)
        try:
            same = copy.read_bytes() == source.read_bytes()
        except OSError:
            same = copy.name not in files  # a missing copy is reported above
        if not same:
            self.add("best", copy, f"is not a copy of {best.folder}/predictions.csv", True)
        if optimum is not None and optimum != best.score:
            self.add(
                "best",
                state,
                f"{best.folder} scores {best.score:.6g} but a pipeline scores {optimum:.6g}",
                True,
            )

    def check_trash(self, dataset: str) -> None:
        for entry in entry_names(self.layout, dataset):
            self.counts["trash_entries"] += 1
            found = entry_problem(self.ws, dataset, entry)
            if found is not None:
                message, repairable = found
                path = self.layout.trash_entry(dataset, entry)
                self.add("trash-entry", path, message, repairable, targets=[dataset, entry])

    def check_session_files(self, dataset: str) -> None:
        for path in (self.layout.run_config_json(dataset), self.layout.run_summary_json(dataset)):
            if not path.exists():
                continue
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                self.add("corrupt-file", path, f"unreadable ({exc})", repairable=True)
            except OSError as exc:
                self.add("unreadable-file", path, f"cannot be read ({exc.strerror or exc})", repairable=False)

    def check_missing_rows(self, dataset: str) -> None:
        if self.catalog.pipelines is None:
            return
        missing = sorted(
            folder
            for (_, folder), record in self.records.get(dataset, {}).items()
            if str(record.get("id")) not in self.catalog.pipelines
        )
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            self.add(
                "missing-rows",
                self.layout.dataset_dir(dataset),
                f"{len(missing)} finished pipelines have no catalog rows: {shown}",
                True,
                targets=missing,
            )
