"""Running workflows in-process: phases, checkpoints, reuse of pipelines, look-ahead, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.cli import main
from nirs4all_workspace.errors import InputError, WorkspaceError
from nirs4all_workspace.workflows import load_workflow, run_workflow
from nirs4all_workspace.workflows.phases import run_validation
from nirs4all_workspace.workspace.locking import FileLock

SMALL = """
name: small
dataset: demo
phases:
  - name: search
    type: grid
    pipeline:
      pipeline:
        - _or_: [null, snv, msc]
        - model: {class: pls, params: {n_components: {_or_: [4, 8]}}}
  - name: by_preprocessing
    type: analysis
    inputs: [search]
    group_by: preprocessing
    top: 2
  - name: tuning
    type: grid
    inputs: [by_preprocessing]
    model: {class: ridge, params: {alpha: {_or_: [0.01, 0.1]}}}
  - name: blend
    type: ensemble
    inputs: [search]
    top: 3
    method: evolution
    generations: 5
    population: 8
    seed: 3
  - name: check
    type: validation
    inputs: [blend]
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    workflow = folder / "small.yaml"
    workflow.write_text(SMALL)
    workspace = Workspace.open(folder / "ws")
    report = run_workflow(workspace, workflow)
    return workspace, workflow, report


def _outputs(workspace: Workspace) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in workspace.root.glob("workflows/*/analysis/*.json")}


def _log(workspace: Workspace, workflow_id: str) -> str:
    return workspace.layout.workflow_log(workflow_id).read_text()


def _folders(workspace: Workspace) -> list[str]:
    return sorted(p.name for p in (workspace.root / "runs" / "demo").iterdir() if p.name[0].isdigit())


def test_a_run_writes_every_phase_and_its_checkpoint(small):
    workspace, _, report = small
    assert report.ran == ["search", "by_preprocessing", "tuning", "blend", "check"]
    folder = workspace.root / "workflows" / report.workflow_id
    for phase in report.ran:
        assert (folder / "analysis" / f"{phase}.json").is_file()
        assert json.loads((folder / "checkpoints" / f"{phase}.json").read_text())["phase"] == phase
    document = json.loads((folder / "workflow.json").read_text())
    assert document["status"] == "completed"
    assert all(p["status"] == "completed" and p["duration_s"] >= 0 for p in document["phases"])
    assert document["phases"][2]["inputs"] == [
        f"workflows/{report.workflow_id}/analysis/by_preprocessing.json"
    ]
    assert "phase tuning: completed" in (folder / "workflow.log").read_text()
    assert len(_folders(workspace)) == 6 + 2 * 2  # the search grid, then ridge on the two best preprocessings


def test_analysis_keeps_the_best_of_each_group(small):
    outputs = _outputs(small[0])
    results = outputs["search"]["results"]
    groups = outputs["by_preprocessing"]["groups"]
    assert [g["group"] for g in groups] == sorted(
        {r["preprocessing"] for r in results},
        key=lambda p: min(r["metrics"]["val"]["rmse"] for r in results if r["preprocessing"] == p),
    )
    for group in groups:
        members = [r for r in results if r["preprocessing"] == group["group"]]
        assert group["score"] == min(r["metrics"]["val"]["rmse"] for r in members)
    assert outputs["by_preprocessing"]["selected"] == groups[:2]
    tuned = {r["preprocessing"] for r in outputs["tuning"]["results"]}
    assert tuned == {g["group"] for g in groups[:2]}
    assert {r["model"] for r in outputs["tuning"]["results"]} == {"Ridge"}


def test_ensemble_weights_and_validation(small):
    outputs = _outputs(small[0])
    blend, check = outputs["blend"], outputs["check"]
    weights = [m["weight"] for m in blend["members"]]
    assert len(weights) == 3 and sum(weights) == pytest.approx(1.0, abs=1e-5)
    # A weighted average of predictions is never worse than its worst member (convexity).
    assert 0 < blend["scores"]["val"]["rmse"] <= max(m["score"] for m in blend["members"]) + 1e-9
    assert blend["candidates"] > 8 and blend["method"] == "evolution"
    assert check["chosen_on"] == ["val"] and check["look_ahead"] is False
    assert check["scores"]["val"]["rmse"] == pytest.approx(blend["scores"]["val"]["rmse"])
    assert 0 < check["scores"]["test"]["rmse"] < 5


def test_running_again_redoes_nothing(small):
    workspace, workflow, _ = small
    before_outputs, before_folders = _outputs(workspace), _folders(workspace)
    report = run_workflow(workspace, workflow)
    assert report.ran == [] and len(report.resumed) == 5
    assert _outputs(workspace) == before_outputs
    assert _folders(workspace) == before_folders


def test_a_lost_checkpoint_reruns_its_phase_only_without_refitting(small):
    workspace, workflow, first = small
    before_outputs, before_folders = _outputs(workspace), _folders(workspace)
    folder = workspace.root / "workflows" / first.workflow_id
    (folder / "checkpoints" / "search.json").unlink()
    (folder / "analysis" / "blend.json").unlink()  # a lost output
    report = run_workflow(workspace, workflow)
    assert report.ran == ["search", "blend"]
    assert _outputs(workspace) == before_outputs
    assert _folders(workspace) == before_folders  # every pipeline of the grid was reused
    assert "phase search: 6 pipelines, 6 reused, 0 to run" in (folder / "workflow.log").read_text()


def test_another_workflow_reuses_pipelines_of_the_dataset(small, tmp_path):
    workspace, _, _ = small
    other = tmp_path / "other.yaml"
    other.write_text(SMALL.replace("name: small", "name: other").replace("[4, 8]", "[4, 8, 12]"))
    before = _folders(workspace)
    report = run_workflow(workspace, other)
    assert report.workflow_id == load_workflow(other).workflow_id and report.workflow_id.startswith("other-")
    assert "phase search: 9 pipelines, 6 reused, 3 to run" in _log(workspace, report.workflow_id)
    hashes = [
        json.loads(p.read_text())["hash"] for p in (workspace.root / "runs" / "demo").glob("*/pipeline.json")
    ]
    assert len(hashes) == len(set(hashes)) and len(hashes) >= len(before) + 3  # nothing fitted twice


def test_validation_refuses_a_choice_made_on_the_test_split(small):
    from nirs4all_workspace.workflows.phases import PhaseContext
    from nirs4all_workspace.workflows.spec import PhaseSpec

    workspace = small[0]
    upstream = {**_outputs(workspace)["blend"], "chosen_on": ["val", "test"]}
    ctx = PhaseContext(workspace, None, None, "rmse", "min", "s", Path())
    with pytest.raises(InputError, match="'blend' used test scores: look-ahead"):
        run_validation(ctx, PhaseSpec("check", "validation", ("blend",)), {"blend": upstream})


def test_one_workflow_runs_in_one_process_at_a_time(small):
    workspace, workflow, first = small
    with (
        FileLock(workspace.layout.workflow_lock(first.workflow_id)),
        pytest.raises(WorkspaceError, match="already running"),
    ):
        run_workflow(workspace, workflow)


def test_cli_run_status_and_list(small, capsys):
    workspace, workflow, first = small
    root = str(workspace.root)
    assert main(["workflow", "run", str(workflow), "--workspace", root, "--json"]) == 0
    ran = json.loads(capsys.readouterr().out)
    assert ran["id"] == first.workflow_id and ran["ran"] == []
    assert main(["workflow", "status", first.workflow_id, "--workspace", root, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert [p["status"] for p in status["phases"]] == ["completed"] * 5
    assert main(["workflow", "list", "--workspace", root, "--json"]) == 0
    assert first.workflow_id in [w["id"] for w in json.loads(capsys.readouterr().out)]
    assert main(["workflow", "list", "--workspace", root]) == 0
    assert first.workflow_id in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "nope"], "no workflow 'nope'"),
        (["run", "WF", "--backend", "spark"], "--backend must be one of loky, dask, ray"),
        (["run", "WF", "--scheduler", "tcp://h:8786"], "--scheduler is the address of a dask scheduler"),
        (["run", "missing.yaml"], "workflow file"),
    ],
)
def test_cli_bad_input_exits_2(small, capsys, args, message):
    workspace, workflow, _ = small
    args = [str(workflow) if a == "WF" else a for a in args]
    assert main(["workflow", *args, "--workspace", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split())


def test_ray_without_ray_is_one_clear_line(small, capsys):
    import importlib.util

    if importlib.util.find_spec("ray") is not None:
        pytest.skip("ray is installed: the refusal cannot be shown")
    workspace, workflow, _ = small
    assert (
        main(["workflow", "run", str(workflow), "--backend", "ray", "--workspace", str(workspace.root)]) == 2
    )
    assert "--backend ray needs ray" in capsys.readouterr().err


def test_evolution_is_deterministic(small, tmp_path):
    workflow = tmp_path / "again.yaml"
    workflow.write_text(SMALL)
    report = run_workflow(Workspace.open(tmp_path / "ws2"), workflow)
    assert report.ran[-1] == "check"
    again = {p.stem: p.read_bytes() for p in (tmp_path / "ws2").glob("workflows/*/analysis/*.json")}
    first = {
        p.stem: p.read_bytes() for p in small[0].root.glob(f"workflows/{report.workflow_id}/analysis/*.json")
    }
    assert again == first
    assert np.isclose(sum(m["weight"] for m in json.loads(again["blend"])["members"]), 1.0)
