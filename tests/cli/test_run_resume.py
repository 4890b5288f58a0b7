"""``nirs4all run --resume`` after a SIGKILL, and Ctrl-C (SIGINT) during ``nirs4all run``.

A real ``nirs4all run`` process on tests/data/tiny_nirs (a 24-variant grid) is
killed after its k-th saved pipeline (seeded k); the same command with
``--resume`` must complete the grid without fitting any config hash twice and
print the same summary (counts, best, ranked scores) as an uninterrupted run.
"""

from __future__ import annotations

import json
import random
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.workflows.killing import kill_when

TINY = Path(__file__).parents[1] / "data" / "tiny_nirs"
GRID = """
pipeline:
  - _or_: [null, snv, msc, detrend]
  - model: {class: pls, params: {n_components: {_or_: [2, 3, 4, 5, 6, 8]}}}
"""
GRID_SIZE = 24
CLI = [sys.executable, "-m", "nirs4all_workspace.cli"]

pytestmark = pytest.mark.slow


def _args(grid: Path, root: Path) -> list[str]:
    return ["run", "-d", str(TINY), "-p", str(grid), "--plots", "none", "--workspace", str(root)]


def _records(root: Path) -> list[dict]:
    records = []
    for path in sorted((root / "runs" / "tiny_nirs").glob("*/pipeline.json")):
        try:
            records.append(json.loads(path.read_text()))
        except ValueError:  # written atomically: never half a file, but be safe while it runs
            continue
    return records


def _completed(root: Path) -> int:
    return sum(r["status"] == "completed" for r in _records(root))


def _summary(document: dict) -> dict:
    """What the user reads: counts, best and ranked scores (pipelines by name and hash, not number)."""
    (run,) = document["runs"]

    def unnumbered(folder: str) -> str:
        return folder.split("_", 1)[1]

    keys = ("dataset", "metric", "partition", "direction", "pipelines", "completed", "failed")
    return {
        **{k: run[k] for k in keys},
        "best": (unnumbered(run["best"]["folder"]), run["best"]["score"]),
        "top": [(unnumbered(t["folder"]), t["model"], t["preprocessing"], t["score"]) for t in run["top"]],
    }


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("grid") / "grid.yaml"
    path.write_text(GRID)
    return path


@pytest.fixture(scope="module")
def reference(grid, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("reference") / "ws"
    done = subprocess.run([*CLI, *_args(grid, root), "--json"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_resume_after_a_kill_completes_the_grid_once_with_the_same_summary(grid, reference, tmp_path):
    expected = _summary(reference)
    assert expected["pipelines"] == GRID_SIZE
    for trial, k in enumerate(random.Random(11).sample(range(1, GRID_SIZE - 6), 3)):
        root = tmp_path / f"trial{trial}" / "ws"
        process = subprocess.Popen(
            [*CLI, *_args(grid, root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        killed = kill_when(process, lambda r=root, n=k: _completed(r) >= n, time.monotonic() + 120)
        assert killed, f"trial {trial}: the run finished before its {k}th pipeline could be killed"
        before = {r["hash"] for r in _records(root) if r["status"] == "completed"}
        assert k <= len(before) < GRID_SIZE

        resumed = subprocess.run(
            [*CLI, *_args(grid, root), "--resume", "--json"], capture_output=True, text=True, check=False
        )
        assert resumed.returncode == 0, resumed.stderr
        document = json.loads(resumed.stdout)
        assert _summary(document) == expected, f"trial {trial} (killed after {len(before)})"
        assert document["runs"][0]["reused"] == len(before)

        completed = [r for r in _records(root) if r["status"] == "completed"]
        per_hash = Counter(r["hash"] for r in completed)
        assert len(per_hash) == GRID_SIZE and max(per_hash.values()) == 1, f"trial {trial}: refitted"
        session = document["runs"][0]["session"]
        this_session = {r["hash"] for r in completed if r["session"] == session}
        assert this_session == set(per_hash) - before  # only what the killed run had not completed


def test_ctrl_c_prints_one_line_exits_130_and_resume_completes_it(grid, reference, tmp_path):
    root = tmp_path / "ws"
    process = subprocess.Popen(
        [*CLI, *_args(grid, root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while _completed(root) < 3:
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before Ctrl-C"
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err + out
    lines = [line for line in err.splitlines() if "interrupted" in line]
    assert len(lines) == 1, err
    saved = sum(r["status"] in ("completed", "failed") for r in _records(root))
    assert f"interrupted: {saved} pipeline(s) saved; to run the rest: nirs4all run " in lines[0]
    assert saved < GRID_SIZE

    command = shlex.split(lines[0].split("to run the rest: ", 1)[1])
    assert command[0] == "nirs4all" and command[-1] == "--resume"
    resumed = subprocess.run([*CLI, *command[1:], "--json"], capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert _summary(json.loads(resumed.stdout)) == _summary(reference)
    per_hash = Counter(r["hash"] for r in _records(root) if r["status"] == "completed")
    assert len(per_hash) == GRID_SIZE and max(per_hash.values()) == 1
