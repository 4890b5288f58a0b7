"""SIGKILL at random moments never corrupts a workspace, and --repair always recovers it.

Each trial starts ``crash_worker`` on one shared workspace, waits for it to
enter a phase (runs with their binaries, predictions and catalog fragments;
compaction; both archives; deletion; gc; rebuild), kills it after a seeded
random delay, then checks the workspace.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.maintenance.verify import CRASH_LEFTOVERS, verify
from tests.fakes import FakeEngine
from tests.workspace.crash_worker import DATASET, dataset

REPO = Path(__file__).resolve().parents[2]
TRIALS = 40
SEED = 20241123
# Phase to wait for, and the longest random delay before the kill (seconds): about its duration.
TARGETS = [
    ("run", 0.15),
    ("compact", 0.03),
    ("catalog-archive", 0.01),
    ("runs-archive", 0.08),
    ("delete", 0.015),
    ("gc", 0.005),
    ("rebuild", 0.2),
    ("any", 1.0),  # no target: a purely random moment after start-up
]


def _kill_during(root: Path, seed: int, target: str, max_delay: float, rng: random.Random) -> str:
    """Run the worker until it enters ``target``, kill it a random moment later; returns the last phase."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "tests.workspace.crash_worker", str(root), str(seed)]
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    last = "start-up"
    deadline = time.monotonic() + 20
    try:
        if target == "any":
            time.sleep(0.5 + rng.uniform(0, max_delay))
        else:
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break  # the worker died by itself: reported below
                last = line.split()[0]
                if last == target:
                    break
            time.sleep(rng.uniform(0, max_delay))
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL, f"the worker ended by itself:\n{err}"
    lines = [line for line in out.splitlines() if line.strip()]
    return lines[-1].split()[0] if lines else last


def _trials(root: Path, lane: int, trials: range) -> tuple[Counter[str], Counter[str]]:
    """Kill, check, repair and run again, ``len(trials)`` times on one workspace."""
    Workspace.open(root)
    rng = random.Random(SEED + lane)
    killed_in: Counter[str] = Counter()
    found: Counter[str] = Counter()
    engine = FakeEngine()
    for trial in trials:
        target, max_delay = TARGETS[trial % len(TARGETS)]
        killed_in[_kill_during(root, trial, target, max_delay, rng)] += 1
        ws = Workspace(root)
        before = verify(ws)
        kinds = {p.check for p in before.problems}
        found.update(kinds)
        # No corrupt visible file, no row pointing at nothing: only what a crash may leave.
        assert kinds <= CRASH_LEFTOVERS, [p.to_dict() for p in before.problems]
        repaired = verify(ws, repair=True)
        assert repaired.ok, [p.to_dict() for p in repaired.remaining]
        ws = Workspace(root)
        high_water = ws.manifests.high_water(DATASET)
        config = {"scales": [1.0, 1.05]}
        report = run_experiment(ws, engine, dataset(), config, session=f"after-{trial}", plots="none")
        assert (report.summary.first_number, report.summary.last_number) == (high_water + 1, high_water + 2)
        after = verify(ws)
        assert after.ok, [p.to_dict() for p in after.remaining]
    return killed_in, found


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_only_repairable_leftovers(tmp_path):
    lanes = 2  # two workspaces side by side: one worker process each
    with ThreadPoolExecutor(lanes) as pool:
        futures = [
            pool.submit(_trials, tmp_path / f"ws{lane}", lane, range(lane, TRIALS, lanes))
            for lane in range(lanes)
        ]
        results = [future.result() for future in futures]
    killed_in = sum((k for k, _ in results), Counter())
    found = sum((f for _, f in results), Counter())
    print(f"\n{TRIALS} kills, by phase: {dict(killed_in)}; leftovers repaired: {dict(found)}")
    assert sum(killed_in.values()) == TRIALS
    assert len(killed_in) >= 6  # the kills did land in many different phases
