"""``workflow run`` ends with what a person wants: the chosen pipeline or blend and its scores."""

from __future__ import annotations

import json
import re

from nirs4all_workspace.cli import main

BLEND = """
name: blend
dataset: demo
metric: rmse
phases:
  - name: search
    type: grid
    pipeline:
      pipeline:
        - _or_: [snv, msc]
        - model: {class: pls, params: {n_components: 6}}
  - name: blend
    type: ensemble
    inputs: [search]
    top: 2
    method: grid
    step: 0.5
  - name: check
    type: validation
    inputs: [blend]
"""

GRID = """
name: grid
dataset: demo
metric: rmse
phases:
  - name: search
    type: grid
    pipeline:
      pipeline:
        - snv
        - model: {class: pls, params: {n_components: {_or_: [2, 6]}}}
"""


def test_workflow_run_ends_with_the_blend_and_its_scores(tmp_path, capsys):
    workflow = tmp_path / "blend.yaml"
    workflow.write_text(BLEND)
    assert main(["workflow", "run", str(workflow), "--workspace", str(tmp_path / "ws")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    check = next((tmp_path / "ws" / "workflows").glob("blend-*/analysis/check.json"))
    scores = json.loads(check.read_text())["scores"]
    chosen = r"result \(phase check\): (blend of \d+ pipelines|pipeline \S+)"
    match = re.search(chosen + r".* val rmse ([\d.]+), test rmse ([\d.]+)", out)
    assert match, out
    assert abs(float(match[2]) - scores["val"]["rmse"]) < 1e-3
    assert abs(float(match[3]) - scores["test"]["rmse"]) < 1e-3
    assert main(["workflow", "run", str(workflow), "--json", "--workspace", str(tmp_path / "ws")]) == 0
    result = json.loads(capsys.readouterr().out)["result"]
    assert result["phase"] == "check" and result["scores"]["test"] == scores["test"]["rmse"]


def test_workflow_run_of_a_grid_ends_with_the_chosen_pipeline(tmp_path, capsys):
    workflow = tmp_path / "grid.yaml"
    workflow.write_text(GRID)
    assert main(["workflow", "run", str(workflow), "--json", "--workspace", str(tmp_path / "ws")]) == 0
    result = json.loads(capsys.readouterr().out)["result"]
    assert result["kind"] == "pipeline" and result["phase"] == "search" and result["metric"] == "rmse"
    best = main(["catalog", "best", "demo", "--json", "--workspace", str(tmp_path / "ws")])
    chosen = json.loads(capsys.readouterr().out)
    assert best == 0 and result["scores"]["val"] == chosen["rmse"]
