"""Session files of a dataset: ``run_config.json``, ``run_summary.json``, ``run.log``.

A session is one ``nirs4all run`` on one dataset. ``run_config.json`` keeps the
configuration each session ran (the template, with its generators);
``run_summary.json`` keeps the counts, errors and best of each session; ``run.log``
is an append-only text log. The JSON files are read, changed and replaced
atomically under the dataset's lock, so concurrent sessions never lose an entry.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import IntegrityError
from .atomic import atomic_write_json
from .layout import WorkspaceLayout
from .locking import FileLock
from .manifest import utc_now


@dataclass
class SessionSummary:
    """Counts and outcome of one session on one dataset."""

    session: str
    started_at: str
    finished_at: str | None = None
    duration_s: float = 0.0
    pipelines: int = 0
    completed: int = 0
    failed: int = 0
    first_number: int | None = None
    last_number: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    interrupted: bool = False


class SessionLog:
    """Reads and updates the session files of datasets."""

    def __init__(self, layout: WorkspaceLayout) -> None:
        self.layout = layout

    def _load(self, path: Any) -> dict[str, Any]:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"sessions": []}
        except json.JSONDecodeError as exc:
            raise IntegrityError(
                f"{path} is corrupt ({exc}); run 'nirs4all workspace verify --repair'"
            ) from None

    def begin(self, dataset: str, session: str, entry: dict[str, Any]) -> None:
        """Record a starting session's configuration in ``run_config.json``."""
        path = self.layout.run_config_json(dataset)
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(self.layout.dataset_lock(dataset)):
            document = self._load(path)
            document["dataset"] = dataset
            document["sessions"].append({"session": session, "started_at": utc_now(), **entry})
            atomic_write_json(path, document)
        self.log(dataset, f"session {session} started: {entry.get('n_variants', '?')} pipelines")

    def finish(self, dataset: str, summary: SessionSummary) -> None:
        """Record a finished (or interrupted) session in ``run_summary.json``."""
        path = self.layout.run_summary_json(dataset)
        with FileLock(self.layout.dataset_lock(dataset)):
            document = self._load(path)
            document["dataset"] = dataset
            document["sessions"] = [s for s in document["sessions"] if s.get("session") != summary.session]
            document["sessions"].append(summary.__dict__)
            totals = {"sessions": len(document["sessions"]), "pipelines": 0, "completed": 0, "failed": 0}
            for entry in document["sessions"]:
                for key in ("pipelines", "completed", "failed"):
                    totals[key] += int(entry.get(key, 0))
            document["totals"] = totals
            if summary.best is not None:
                document["best"] = summary.best
            atomic_write_json(path, document)
        state = "interrupted" if summary.interrupted else "finished"
        self.log(
            dataset,
            f"session {summary.session} {state}: {summary.completed} completed, "
            f"{summary.failed} failed in {summary.duration_s:.1f} s",
        )
        for error in summary.errors:  # every failure, one line each: the CLI shows only the first few
            message = " ".join(str(error.get("error") or "failed without a message").split())
            self.log(dataset, f"session {summary.session} pipeline {error.get('folder')} failed: {message}")

    def sessions(self, dataset: str) -> list[dict[str, Any]]:
        """Summaries of the finished sessions of ``dataset``, oldest first."""
        return self._load(self.layout.run_summary_json(dataset))["sessions"]

    def log(self, dataset: str, message: str) -> None:
        """Append one line to ``run.log`` (one write, so lines of processes never interleave)."""
        path = self.layout.run_log(dataset)
        line = f"{utc_now()} {message}\n".encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
