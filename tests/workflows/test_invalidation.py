"""Checkpoints that know their inputs: changed pipeline files, hand-edited outputs, ``--from``.

A workflow is run, then one thing it read is changed and it is run again: the
phases that read the change (directly or through an upstream output) run again
and end as a fresh workspace running the changed workflow would; the others are
left alone. An output edited by hand is kept and feeds the phases downstream.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.cli import main
from nirs4all_workspace.workflows import run_workflow

WORKFLOW = """
name: inval
dataset: demo
phases:
  - name: other
    type: grid
    pipeline:
      pipeline:
        - _or_: [null, snv]
        - model: {class: pls, params: {n_components: 4}}
  - name: other_best
    type: analysis
    inputs: [other]
    group_by: preprocessing
  - name: search
    type: grid
    pipeline: search.yaml
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
    inputs: [tuning]
    top: 3
    step: 0.25
  - name: check
    type: validation
    inputs: [blend]
"""
SEARCH_V1 = """
pipeline:
  - _or_: [null, msc]
  - model: {class: pls, params: {n_components: {_or_: [3, 6]}}}
"""
SEARCH_V2 = """
pipeline:
  - _or_: [snv, detrend]
  - model: {class: pls, params: {n_components: {_or_: [5, 8]}}}
"""
AFFECTED = ["search", "by_preprocessing", "tuning", "blend", "check"]


def _setup(folder: Path, search: str) -> tuple[Workspace, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "search.yaml").write_text(search)
    workflow = folder / "inval.yaml"
    workflow.write_text(WORKFLOW)
    return Workspace.open(folder / "ws"), workflow


def _files(workspace: Workspace, kind: str) -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in sorted(workspace.root.glob(f"workflows/*/{kind}/*.json"))}


def _status(workspace: Workspace, workflow_id: str, capsys) -> dict[str, dict]:
    assert main(["workflow", "status", workflow_id, "--workspace", str(workspace.root), "--json"]) == 0
    return {p["name"]: p for p in json.loads(capsys.readouterr().out)["phases"]}


def test_a_changed_pipeline_file_recomputes_its_phase_and_downstream_only(tmp_path, capsys):
    workspace, workflow = _setup(tmp_path / "a", SEARCH_V1)
    first = run_workflow(workspace, workflow)
    before_outputs, before_checkpoints = _files(workspace, "analysis"), _files(workspace, "checkpoints")
    folder = workspace.root / "workflows" / first.workflow_id
    mtimes = {p: (folder / "analysis" / f"{p}.json").stat().st_mtime_ns for p in ("other", "other_best")}

    (tmp_path / "a" / "search.yaml").write_text(SEARCH_V2)
    status = _status(workspace, first.workflow_id, capsys)
    assert status["search"]["stale"] == ["pipeline file search.yaml changed"]
    assert status["by_preprocessing"]["stale"] == ["'search' will be recomputed"]
    assert all(status[p]["stale"] for p in AFFECTED)
    assert status["other"]["stale"] == [] and status["other_best"]["stale"] == []
    assert main(["workflow", "status", first.workflow_id, "--workspace", str(workspace.root)]) == 0
    assert "pipeline file search.yaml changed" in " ".join(capsys.readouterr().out.split())

    second = run_workflow(workspace, workflow)
    assert second.ran == AFFECTED
    assert second.resumed == ["other", "other_best"]
    after_outputs, after_checkpoints = _files(workspace, "analysis"), _files(workspace, "checkpoints")
    for phase in ("other", "other_best"):  # untouched: same bytes, same file, same checkpoint
        assert after_outputs[phase] == before_outputs[phase]
        assert after_checkpoints[phase] == before_checkpoints[phase]
        assert (folder / "analysis" / f"{phase}.json").stat().st_mtime_ns == mtimes[phase]
    assert all(after_outputs[p] != before_outputs[p] for p in AFFECTED)
    log = (folder / "workflow.log").read_text()
    assert "phase search: stale, recomputed: pipeline file search.yaml changed" in log
    assert "phase by_preprocessing: stale, recomputed: the output of 'search' changed" in log

    fresh, fresh_workflow = _setup(tmp_path / "b", SEARCH_V2)
    assert run_workflow(fresh, fresh_workflow).workflow_id == first.workflow_id
    assert after_outputs == _files(fresh, "analysis")
    assert all(not p["stale"] for p in _status(workspace, first.workflow_id, capsys).values())


def test_a_hand_edited_output_is_kept_and_feeds_the_phases_downstream(tmp_path, capsys):
    workspace, workflow = _setup(tmp_path, SEARCH_V1)
    first = run_workflow(workspace, workflow)
    folder = workspace.root / "workflows" / first.workflow_id
    blend_file = folder / "analysis" / "blend.json"
    blend = json.loads(blend_file.read_text())
    chosen = [m["weight"] for m in blend["members"]]
    edited = [0.0, 1.0, 0.0] if chosen != [0.0, 1.0, 0.0] else [1.0, 0.0, 0.0]
    for member, weight in zip(blend["members"], edited, strict=True):
        member["weight"] = weight
    blend_file.write_text(json.dumps(blend, indent=1))
    edited_bytes = blend_file.read_bytes()

    status = _status(workspace, first.workflow_id, capsys)
    assert status["blend"]["edited_by_hand"] is True
    assert status["check"]["stale"] == ["the output of 'blend' changed"]

    again = run_workflow(workspace, workflow)
    assert again.ran == ["check"]
    assert blend_file.read_bytes() == edited_bytes  # the user's decision, not overwritten
    check = json.loads((folder / "analysis" / "check.json").read_text())
    assert [m["weight"] for m in check["members"]] == edited
    member = blend["members"][edited.index(1.0)]
    assert check["scores"]["val"]["rmse"] == pytest.approx(member["score"])
    log = (folder / "workflow.log").read_text()
    assert "phase blend: output edited by hand" in log
    assert "phase check: stale, recomputed: the output of 'blend' changed" in log
    status = _status(workspace, first.workflow_id, capsys)
    assert status["blend"]["edited_by_hand"] is True and not status["check"]["stale"]
    assert main(["workflow", "status", first.workflow_id, "--workspace", str(workspace.root)]) == 0
    assert "edited by hand" in " ".join(capsys.readouterr().out.split())

    third = run_workflow(workspace, workflow)  # the edit stays accepted: nothing runs
    assert third.ran == [] and blend_file.read_bytes() == edited_bytes
    assert "phase blend: kept (edited by hand)" in (folder / "workflow.log").read_text()

    recomputed = run_workflow(workspace, workflow, from_phase="blend")
    assert recomputed.ran == ["blend", "check"]
    assert [m["weight"] for m in json.loads(blend_file.read_text())["members"]] == chosen
    assert _status(workspace, first.workflow_id, capsys)["blend"]["edited_by_hand"] is False


def test_from_recomputes_a_phase_and_what_reads_it(tmp_path, capsys):
    workspace, workflow = _setup(tmp_path, SEARCH_V1)
    run_workflow(workspace, workflow)
    before = _files(workspace, "analysis")
    root = str(workspace.root)
    assert main(["workflow", "run", str(workflow), "--from", "tuning", "--workspace", root, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ran"] == ["tuning", "blend", "check"]
    assert _files(workspace, "analysis") == before
    assert main(["workflow", "run", str(workflow), "--from", "nope", "--workspace", root]) == 2
    assert "--from 'nope': workflow inval.yaml has no such phase; phases: other," in " ".join(
        capsys.readouterr().err.split()
    )


def test_a_broken_hand_edit_is_one_clear_line(tmp_path, capsys):
    workspace, workflow = _setup(tmp_path, SEARCH_V1)
    first = run_workflow(workspace, workflow)
    blend_file = workspace.root / "workflows" / first.workflow_id / "analysis" / "blend.json"
    blend_file.write_text('{"members": 3')
    assert main(["workflow", "run", str(workflow), "--workspace", str(workspace.root)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "blend.json is not valid JSON" in err and "--from blend" in err
    blend_file.write_text('{"type": "ensemble"}')
    assert main(["workflow", "run", str(workflow), "--workspace", str(workspace.root)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "phase 'check' cannot read the output of 'blend' edited by hand" in err
