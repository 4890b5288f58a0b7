"""Workflow files: one-line errors naming the phase and the key, and a stable id."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nirs4all_workspace.errors import ConfigError
from nirs4all_workspace.workflows import load_workflow

EXAMPLE = Path(__file__).parents[2] / "examples" / "nirs_workflow.yaml"
GRID = {"name": "g", "type": "grid", "pipeline": ["snv", "pls"]}


def _write(tmp_path: Path, document: object, name: str = "wf.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return path


def test_the_example_parses_into_its_phases():
    spec = load_workflow(EXAMPLE)
    assert [(p.name, p.type, p.inputs) for p in spec.phases] == [
        ("preprocessing", "grid", ()),
        ("best_preprocessings", "analysis", ("preprocessing",)),
        ("tuning", "grid", ("best_preprocessings",)),
        ("ensemble", "ensemble", ("tuning",)),
        ("validation", "validation", ("ensemble",)),
    ]
    assert spec.workflow_id.startswith("nirs-demo-") and len(spec.workflow_id) == len("nirs-demo-") + 8
    assert spec.dataset_source() is None  # the demo dataset


def test_the_id_follows_the_content_not_the_layout(tmp_path):
    document = {"name": "w", "phases": [GRID]}
    first = load_workflow(_write(tmp_path, document, "a.yaml"))
    relaid = tmp_path / "b.yaml"
    relaid.write_text("# a comment\n" + yaml.safe_dump(document, default_flow_style=True))
    assert load_workflow(relaid).workflow_id == first.workflow_id
    changed = load_workflow(_write(tmp_path, {"name": "w", "phases": [{**GRID, "pipeline": ["msc", "pls"]}]}))
    assert changed.workflow_id != first.workflow_id


@pytest.mark.parametrize(
    ("phases", "message"),
    [
        ([{"name": "g", "type": "sweep"}], "phase 'g': 'type' must be one of grid, analysis"),
        (
            [GRID, {"name": "a", "type": "analysis", "inputs": ["nope"], "group_by": "x"}],
            "phase 'a': 'inputs' names 'nope'",
        ),
        ([GRID, {"name": "a", "type": "analysis", "inputs": ["g"]}], "phase 'a': 'group_by' must name"),
        (
            [GRID, {"name": "a", "type": "analysis", "inputs": ["g"], "group_by": "x", "top": 0}],
            "phase 'a': 'top' must be",
        ),
        ([GRID, {"name": "e", "type": "ensemble", "inputs": ["g"], "partition": "test"}], "look-ahead"),
        (
            [GRID, {"name": "e", "type": "ensemble", "inputs": ["g"], "step": 0.3}],
            "phase 'e': 'step' must divide 1",
        ),
        (
            [GRID, {"name": "e", "type": "ensemble", "inputs": ["g"], "weights": 1}],
            "phase 'e': unknown key(s) weights",
        ),
        (
            [GRID, {"name": "v", "type": "validation", "inputs": ["g", "g"]}],
            "phase 'v': 'inputs' must name exactly one",
        ),
        ([{"name": "g", "type": "grid"}], "phase 'g': give 'pipeline'"),
        ([GRID, GRID], "phase 'g': the name is used by an earlier phase"),
        ([{"name": "t", "type": "grid", "model": "pls", "inputs": ["x"]}], "phase 't': 'inputs' names 'x'"),
    ],
)
def test_bad_phases_are_one_line_errors_naming_phase_and_key(tmp_path, phases, message):
    path = _write(tmp_path, {"name": "w", "phases": phases})
    with pytest.raises(ConfigError) as caught:
        load_workflow(path)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert "wf.yaml" in text


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"name": "w"}, "'phases' must be a non-empty list"),
        ({"name": "../w", "phases": [GRID]}, "'name'"),
        ({"name": "w", "phases": [GRID], "metric": "test_rmse"}, "'metric'"),
        ({"name": "w", "phases": [GRID], "datasets": "x"}, "unknown key(s) datasets"),
    ],
)
def test_bad_workflow_keys(tmp_path, document, message):
    with pytest.raises(ConfigError, match=None) as caught:
        load_workflow(_write(tmp_path, document))
    assert message in str(caught.value)


def test_unreadable_file_is_a_config_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"workflow file .*broken\.yaml is not valid YAML"):
        load_workflow(path)
