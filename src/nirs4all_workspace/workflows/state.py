"""The state of a workflow on disk: ``workflow.json``, checkpoints and the log.

``workflows/<id>/workflow.json`` lists the phases with their status, input and
output paths and timings; ``analysis/<phase>.json`` holds what a phase
produced; ``checkpoints/<phase>.json`` is written (atomically) only after that
output, with its SHA-256 and the digests of everything the phase read
(``inputs``), so a phase counts as done exactly when its checkpoint exists,
still matches its output and its inputs are unchanged. An output that no longer
matches its checkpoint was edited by hand and is kept. ``workflow.log`` is an
append-only text log.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import InputError, WorkspaceError
from ..workspace.atomic import atomic_write_json, atomic_write_text, read_json
from ..workspace.layout import WorkspaceLayout
from ..workspace.locking import FileLock
from ..workspace.manifest import utc_now
from .inputs import changes
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

    def write_output(
        self, phase: str, document: dict[str, Any], inputs: dict[str, Any] | None = None
    ) -> None:
        """Write the phase's output, then its checkpoint (both atomically, in that order).

        The checkpoint records ``inputs``, the digests of what the phase read
        (workflows/inputs.py). Call :meth:`discard_checkpoint` before running the
        phase, so that a kill between the two writes leaves no stale checkpoint
        that would make the new output look edited by hand.
        """
        text = output_text(document)
        atomic_write_text(self.layout.workflow_output(self.workflow_id, phase), text)
        checkpoint = {
            "phase": phase,
            "output": self.relative_output(phase),
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "completed_at": utc_now(),
            "inputs": inputs,
        }
        atomic_write_json(self.layout.workflow_checkpoint(self.workflow_id, phase), checkpoint)

    def discard_checkpoint(self, phase: str) -> None:
        """Remove the phase's checkpoint: it is about to run again."""
        self.layout.workflow_checkpoint(self.workflow_id, phase).unlink(missing_ok=True)

    def checkpoint(self, phase: str) -> dict[str, Any] | None:
        """The phase's checkpoint, or None if there is none (or it cannot be read)."""
        try:
            document = read_json(self.layout.workflow_checkpoint(self.workflow_id, phase))
        except (OSError, ValueError):
            return None
        return document if isinstance(document, dict) else None

    def output_sha256(self, phase: str) -> str | None:
        """SHA-256 of the phase's output file as it is now (None if there is none)."""
        try:
            data = self.layout.workflow_output(self.workflow_id, phase).read_bytes()
        except OSError:
            return None
        return hashlib.sha256(data).hexdigest()

    def read_output(self, phase: str) -> dict[str, Any]:
        """The phase's output document; InputError if it is not a JSON mapping (an edit gone wrong)."""
        path = self.layout.workflow_output(self.workflow_id, phase)
        try:
            document = json.loads(path.read_bytes())
        except ValueError as exc:
            raise InputError(
                f"{path} is not valid JSON ({exc}); fix it, or run with --from {phase} to recompute it"
            ) from None
        if not isinstance(document, dict):
            raise InputError(f"{path} must hold a JSON mapping; fix it, or run with --from {phase}")
        return document

    def assess(self, phase: str, current: dict[str, Any]) -> tuple[str, list[str]]:
        """What to do with a phase whose inputs now have the digests ``current``, and why.

        ``run`` (no checkpoint or output: it never finished), ``stale`` (what it
        read changed: reasons), ``edited`` (its output no longer matches its
        checkpoint: edited by hand, kept), ``kept`` (edited earlier and kept;
        reasons say what changed since) or ``done``.
        """
        checkpoint = self.checkpoint(phase)
        sha = self.output_sha256(phase)
        if checkpoint is None or sha is None:
            return "run", []
        reasons = changes(checkpoint.get("inputs"), current)
        if checkpoint.get("sha256") != sha:
            return "edited", reasons
        if checkpoint.get("edited_by_hand"):
            return "kept", reasons
        return ("stale", reasons) if reasons else ("done", [])

    def accept_edit(self, phase: str) -> None:
        """Record a hand-edited output as the phase's result: its checkpoint takes the new SHA-256."""
        checkpoint = self.checkpoint(phase) or {}
        previous = checkpoint.get("sha256")
        checkpoint.update(
            sha256=self.output_sha256(phase),
            edited_by_hand={"detected_at": utc_now(), "previous_sha256": previous},
        )
        atomic_write_json(self.layout.workflow_checkpoint(self.workflow_id, phase), checkpoint)

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
