"""The NIRS example, killed (SIGKILL) at random points and run again, ends as an uninterrupted run.

Each trial uses a fresh workspace: the first command is killed, either a little
after a random line of workflow.log, or right after the k-th pipeline of a grid
phase was saved (read from workflow.log); the same command is then run to the end. The resumed run must
write the same analysis files (groups, weights, validation scores) as the
reference, and no completed pipeline may have been fitted twice: every config
hash has exactly one completed folder, and every completed pipeline has its
catalog rows.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from nirs4all_workspace import Workspace
from tests.workflows.killing import kill_when, log_text, outputs, workflow_command

EXAMPLE = Path(__file__).parents[2] / "examples" / "nirs_workflow.yaml"
TRIALS = 10
GRID_PHASES = ("preprocessing", "tuning")


def _completed(root: Path) -> list[dict]:
    records = []
    for path in sorted((root / "runs" / "demo").glob("*/pipeline.json")):
        record = json.loads(path.read_text())
        if record["status"] == "completed":
            records.append(record)
    return records


def _after_line(root: Path, line: int, delay: float):
    """A kill point: ``delay`` seconds after the workflow's log reached ``line`` lines."""
    reached: list[float] = []

    def ready() -> bool:
        if not reached and len(log_text(root).splitlines()) >= line:
            reached.append(time.monotonic())
        return bool(reached) and time.monotonic() >= reached[0] + delay

    return ready


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference") / "ws"
    start = time.monotonic()
    subprocess.run(workflow_command(EXAMPLE, root), check=True, capture_output=True)
    return root, time.monotonic() - start


def test_killed_workflow_resumes_to_the_same_results(tmp_path, reference):
    ref_root, ref_seconds = reference
    expected = outputs(ref_root)
    assert set(expected) == {
        f"{p}.json" for p in ("preprocessing", "best_preprocessings", "tuning", "ensemble", "validation")
    }
    ref_hashes = sorted(r["hash"] for r in _completed(ref_root))
    ref_lines = len(log_text(ref_root).splitlines())
    rng = random.Random(8)
    inside_grid = 0
    reused = 0
    for trial in range(TRIALS):
        root = tmp_path / f"trial{trial}" / "ws"
        process = subprocess.Popen(
            workflow_command(EXAMPLE, root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if trial % 2 == 0:  # inside a grid phase: right after its k-th pipeline is saved
            phase = GRID_PHASES[(trial // 2) % 2]
            k = rng.randint(1, 8)
            pattern = re.compile(rf"phase {phase}: pipeline {k}/\d+ ")
            killed = kill_when(
                process, lambda p=pattern, r=root: bool(p.search(log_text(r))), time.monotonic() + 60
            )
            checkpoint = next(root.glob(f"workflows/*/checkpoints/{phase}.json"), None)
            inside_grid += killed and checkpoint is None
        else:  # anywhere: a random share of a line's time after a random line of the log
            # Placed by the log's progress, not by the clock: a machine faster or busier
            # than when the reference ran moves the kill in time, never past the end.
            line = rng.randint(1, int(0.9 * ref_lines))
            delay = rng.uniform(0.0, 0.5) * ref_seconds / ref_lines
            killed = kill_when(process, _after_line(root, line, delay), time.monotonic() + 120)
        assert killed, f"trial {trial}: the workflow finished before it could be killed"

        resumed = subprocess.run(workflow_command(EXAMPLE, root), capture_output=True, text=True, check=False)
        assert resumed.returncode == 0, resumed.stderr

        reused += sum(int(n) for n in re.findall(r"pipelines, (\d+) reused", log_text(root)))
        assert outputs(root) == expected, f"trial {trial}: resumed outputs differ from the uninterrupted run"
        completed = _completed(root)
        per_hash = Counter(r["hash"] for r in completed)
        assert max(per_hash.values()) == 1, (
            f"trial {trial}: refitted {[h for h, n in per_hash.items() if n > 1]}"
        )
        assert sorted(per_hash) == ref_hashes
        catalog = Workspace.open(root).predictions.frame()
        ids = set(catalog.filter(pl.col("status") == "completed")["pipeline_id"].to_list())
        assert {r["id"] for r in completed} <= ids, (
            f"trial {trial}: completed pipelines missing from the catalog"
        )
        document = json.loads(next(root.glob("workflows/*/workflow.json")).read_text())
        assert document["status"] == "completed"
        assert [p["status"] for p in document["phases"]] == ["completed"] * 5
    assert inside_grid >= TRIALS // 2 - 1, f"only {inside_grid} kills landed inside a grid phase"
    assert reused > 0, "no resumed run reused a pipeline of its killed run"
