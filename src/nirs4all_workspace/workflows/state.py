"""The state of a workflow on disk: ``workflow.json``, checkpoints and the log.

``workflows/<id>/workflow.json`` lists the phases with their status, input and
output paths and timings; ``analysis/<phase>.json`` holds what a phase
produced; ``checkpoints/<phase>.json`` is written (atomically) only after that
output, with its SHA-256, so a phase counts as done exactly when its checkpoint
exists and still matches its output. ``workflow.log`` is an append-only text log.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import WorkspaceError
from ..workspace.atomic import atomic_write_json, atomic_write_text, read_json
from ..workspace.layout import WorkspaceLayout
from ..workspace.locking import FileLock
from ..workspace.manifest import utc_now
from .spec import WorkflowSpec

FORMAT_VERSION = 1


def output_text(document: dict[str, Any]) -> str:
    """The bytes of an output file: sorted keys, so equal results are equal files."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


class WorkflowState:
    """Reads and writes the files of one workflow folder (the caller holds its lock)."""

    def __init__(
        self, layout: WorkspaceLayout, workflow_id: str, echo: Callable[[str], None] | None = None
    ) -> None:
        self.layout = layout
        self.workflow_id = workflow_id
        self.echo = echo
        self.document: dict[str, Any] = {}

    # -- workflow.json -------------------------------------------------------
    @property
    def path(self) -> Path:
        return self.layout.workflow_json(self.workflow_id)

    def open(self, spec: WorkflowSpec, options: dict[str, Any]) -> dict[str, Any]:
        """Load ``workflow.json`` (or start it) and record a new attempt with ``options``."""
        document = read_json(self.path) if self.path.exists() else None
        if document is None:
            document = {
                "format_version": FORMAT_VERSION,
                "id": self.workflow_id,
                "name": spec.name,
                "digest": spec.digest,
                "engine": spec.engine,
                "dataset": spec.dataset,
                "created_at": utc_now(),
                "attempts": [],
                "phases": [
                    {
                        "name": p.name,
                        "type": p.type,
                        "inputs": [self.relative_output(i) for i in p.inputs],
                        "output": self.relative_output(p.name),
                        "checkpoint": self.layout.relative(
                            self.layout.workflow_checkpoint(self.workflow_id, p.name)
                        ),
                        "status": "pending",
                    }
                    for p in spec.phases
                ],
            }
        document["file"] = str(spec.source)
        document["status"] = "running"
        document["attempts"].append({"started_at": utc_now(), **options})
        self.document = document
        self.save()
        return document

    def read(self) -> dict[str, Any]:
        """``workflow.json``; a "running" workflow whose process is gone reads as "interrupted"."""
        document = read_json(self.path)
        if document.get("status") == "running" and not self._running():
            document["status"] = "interrupted"
        return document

    def _running(self) -> bool:
        try:
            with FileLock(self.layout.workflow_lock(self.workflow_id), timeout=0.0):
                return False
        except WorkspaceError:
            return True

    def save(self) -> None:
        self.document["updated_at"] = utc_now()
        atomic_write_json(self.path, self.document)

    def phase_entry(self, name: str) -> dict[str, Any]:
        return next(p for p in self.document["phases"] if p["name"] == name)

    def update_phase(self, name: str, **fields: Any) -> None:
        self.phase_entry(name).update(fields)
        self.save()

    def finish(self, status: str) -> None:
        self.document["status"] = status
        self.document["attempts"][-1]["finished_at"] = utc_now()
        self.document["attempts"][-1]["status"] = status
        self.save()

    # -- outputs and checkpoints -------------------------------------------------
    def relative_output(self, phase: str) -> str:
        return self.layout.relative(self.layout.workflow_output(self.workflow_id, phase))

    def write_output(self, phase: str, document: dict[str, Any]) -> None:
        """Write the phase's output, then its checkpoint (both atomically, in that order)."""
        text = output_text(document)
        atomic_write_text(self.layout.workflow_output(self.workflow_id, phase), text)
        checkpoint = {
            "phase": phase,
            "output": self.relative_output(phase),
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "completed_at": utc_now(),
        }
        atomic_write_json(self.layout.workflow_checkpoint(self.workflow_id, phase), checkpoint)

    def completed_output(self, phase: str) -> dict[str, Any] | None:
        """The output of a phase whose checkpoint matches it; None if the phase must run (again)."""
        try:
            checkpoint = read_json(self.layout.workflow_checkpoint(self.workflow_id, phase))
            data = self.layout.workflow_output(self.workflow_id, phase).read_bytes()
        except (OSError, ValueError):
            return None
        if checkpoint.get("sha256") != hashlib.sha256(data).hexdigest():
            return None
        return json.loads(data)

    def log(self, message: str) -> None:
        """Append one line to ``workflow.log`` (one write per line)."""
        path = self.layout.workflow_log(self.workflow_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{utc_now()} {message}\n".encode())
        finally:
            os.close(fd)
        if self.echo is not None:
            self.echo(message)


def list_workflows(layout: WorkspaceLayout) -> list[dict[str, Any]]:
    """The ``workflow.json`` of every workflow of the workspace, by id (unreadable ones skipped)."""
    root = layout.workflows_dir
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] not in "._"):
        try:
            found.append(WorkflowState(layout, folder.name).read())
        except (OSError, ValueError):
            continue
    return found
