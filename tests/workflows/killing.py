"""Running a workflow command in a subprocess and killing it (SIGKILL) at a chosen point."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def workflow_command(example: Path, root: Path) -> list[str]:
    """``nirs4all workflow run EXAMPLE --workspace ROOT`` as a new Python process."""
    return [
        sys.executable,
        "-m",
        "nirs4all_workspace.cli",
        "workflow",
        "run",
        str(example),
        "--workspace",
        str(root),
    ]


def outputs(root: Path) -> dict[str, bytes]:
    """The bytes of every ``analysis/*.json`` of the workspace's one workflow."""
    (folder,) = (root / "workflows").iterdir()
    return {p.name: p.read_bytes() for p in sorted((folder / "analysis").glob("*.json"))}


def log_text(root: Path) -> str:
    """The workflow's log so far ('' before it exists)."""
    try:
        return next((root / "workflows").glob("*/workflow.log")).read_text()
    except (StopIteration, FileNotFoundError):
        return ""


def kill_when(process: subprocess.Popen, ready: Callable[[], bool], deadline: float) -> bool:
    """SIGKILL ``process`` once ``ready()`` is true; False if it finished first."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if ready():
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.005)
    process.kill()
    process.wait()
    raise AssertionError("the workflow neither finished nor reached the kill point in time")
