"""The regime-adaptive signals example: its four phases, and killed (SIGKILL) then resumed.

Each kill trial uses a fresh workspace: the first command is killed right after
the k-th pipeline of the grid (or of the validation) phase was saved, or right
after a random phase starts or ends (both read from workflow.log); the same
command is then run to the end. The resumed run must write the same analysis files (per-regime choices,
weights, validation metrics) byte for byte as the uninterrupted run, and no
completed pipeline may have been computed twice: one completed folder per
config hash in each dataset (training bars, held-out bars).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from nirs4all_workspace.errors import ConfigError
from nirs4all_workspace.workflows import load_workflow
from nirs4all_workspace.workflows.spec import parse_workflow
from tests.workflows.killing import kill_when, log_text, outputs, workflow_command

EXAMPLE = Path(__file__).parents[2] / "examples" / "regime_adaptive.yaml"
PHASES = ("grid", "by_regime", "ensemble", "validation")
TRIALS = 10
# Lines of workflow.log a kill may follow (besides the k-th saved pipeline of a phase).
EVENTS = (
    "phase grid (grid): start",
    "phase grid: completed",
    "phase by_regime (analysis): start",
    "phase ensemble (ensemble): start",
    "phase ensemble: completed",
    "phase validation (validation): start",
)


def _completed(root: Path) -> list[tuple[str, str]]:
    """(dataset, config hash) of every completed pipeline folder."""
    found = []
    for path in sorted((root / "runs").glob("*/*/pipeline.json")):
        record = json.loads(path.read_text())
        if record["status"] == "completed":
            found.append((path.parents[1].name, record["hash"]))
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference") / "ws"
    subprocess.run(workflow_command(EXAMPLE, root), check=True, capture_output=True)
    return root


def test_the_example_chooses_on_training_bars_and_validates_on_held_out_ones(reference):
    root = reference
    written = {name: json.loads(text) for name, text in outputs(root).items()}
    assert set(written) == {f"{p}.json" for p in PHASES}
    grid, analysis = written["grid.json"], written["by_regime.json"]
    ensemble, validation = written["ensemble.json"], written["validation.json"]
    assert grid["bars"] == [0, 12000] and grid["dataset"] == "SYNTH_1m_0_12000"
    assert all(r["status"] == "completed" for r in grid["results"])
    assert analysis["chosen_on"] == ["train"] and analysis["classifier"] == "vol_60_780_1.25"
    assert {g["regime"] for g in analysis["groups"]} <= {"low", "normal", "high"}
    weights = [m["weight"] for m in ensemble["members"]]
    assert abs(sum(weights) - 1) < 1e-9 and ensemble["candidates"] > 1
    assert [m["hash"] for m in ensemble["members"]] == [g["best"]["hash"] for g in analysis["groups"]]
    assert validation["look_ahead"] is False
    assert validation["bars"] == {"train": [0, 12000], "test": [12000, 19890]}
    assert validation["scores"]["train"] == ensemble["scores"]["train"]
    assert "sharpe" in validation["scores"]["test"]
    # Only the chosen variants were computed on the held-out bars.
    held_out = {h for d, h in _completed(root) if d == "SYNTH_1m_12000_19890"}
    assert held_out == {m["hash"] for m in ensemble["members"]}


def test_signals_keys_are_checked_when_the_file_is_read(tmp_path):
    spec = load_workflow(EXAMPLE)
    assert [p.type for p in spec.phases] == ["grid", "analysis", "ensemble", "validation"]
    document = json.loads(json.dumps(spec.phases[0].to_dict()))
    base = {"name": "x", "engine": "signals", "phases": [document]}
    document["bars"] = [5, 2]
    with pytest.raises(ConfigError, match="'bars' must be"):
        parse_workflow(base, tmp_path / "x.yaml")
    document["bars"] = [0, 10]
    with pytest.raises(ConfigError, match="unknown key"):  # not a key of the NIRS phases
        parse_workflow({**base, "engine": "sklearn"}, tmp_path / "x.yaml")


def test_killed_regime_workflow_resumes_to_the_same_results(tmp_path, reference):
    ref_root = reference
    expected = outputs(ref_root)
    ref_completed = sorted(_completed(ref_root))
    assert len(ref_completed) == len(set(ref_completed))
    rng = random.Random(8)
    inside_grid = reused = 0
    for trial in range(TRIALS):
        root = tmp_path / f"trial{trial}" / "ws"
        process = subprocess.Popen(
            workflow_command(EXAMPLE, root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if trial % 2 == 0 or trial == TRIALS - 1:  # right after the k-th saved pipeline of a phase
            phase, k = ("validation", 1) if trial == TRIALS - 1 else ("grid", rng.randint(1, 12))
            pattern = re.compile(rf"phase {phase}: pipeline {k}/\d+ ")
        else:  # at a random point between phases (a delay could outlast the run on a fast machine)
            phase, pattern = "", re.compile(re.escape(rng.choice(EVENTS)))
        killed = kill_when(
            process, lambda p=pattern, r=root: bool(p.search(log_text(r))), time.monotonic() + 60
        )
        checkpoint = next(root.glob(f"workflows/*/checkpoints/{phase}.json"), None)
        inside_grid += phase == "grid" and killed and checkpoint is None
        assert killed, f"trial {trial}: the workflow finished before it could be killed"

        resumed = subprocess.run(workflow_command(EXAMPLE, root), capture_output=True, text=True, check=False)
        assert resumed.returncode == 0, resumed.stderr
        reused += sum(int(n) for n in re.findall(r"pipelines, (\d+) reused", log_text(root)))
        assert outputs(root) == expected, f"trial {trial}: resumed outputs differ from the uninterrupted run"
        per_hash = Counter(_completed(root))
        assert max(per_hash.values()) == 1, (
            f"trial {trial}: recomputed {[h for h, n in per_hash.items() if n > 1]}"
        )
        assert sorted(per_hash) == ref_completed
        document = json.loads(next(root.glob("workflows/*/workflow.json")).read_text())
        assert document["status"] == "completed"
        assert [p["status"] for p in document["phases"]] == ["completed"] * len(PHASES)
    assert inside_grid >= TRIALS // 2 - 1, f"only {inside_grid} kills landed inside the grid phase"
    assert reused > 0, "no resumed run reused a pipeline of its killed run"
