import json

import pytest

from nirs4all_workspace.configs import load_pipeline
from nirs4all_workspace.engines.sklearn import SklearnEngine
from nirs4all_workspace.errors import InputError
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.templates import list_templates, remove_template, save_template
from nirs4all_workspace.workspace.identity import config_hash

from .helpers import TINY


def test_a_saved_template_runs_as_the_same_pipeline(tmp_path):
    engine = SklearnEngine()
    ws = Workspace.open(tmp_path / "ws")
    data = engine.load_dataset(TINY)
    first = run_experiment(
        ws, engine, data, {"pipeline": ["msc", {"class": "pls", "params": {"n_components": 2}}]}
    )
    path = save_template(ws, f"tiny_nirs/{first.best.folder}", "wheat-best")
    assert path == ws.layout.templates_dir / "wheat-best.json"
    document = json.loads(path.read_text())
    assert document["name"] == "wheat-best" and "tiny_nirs/0001" in document["description"]
    config, source = load_pipeline("wheat-best", ws.layout)
    assert source == "template:wheat-best"
    (spec,) = engine.expand(config)
    assert config_hash(spec.config) == first.saved[0].record["hash"]
    again = run_experiment(ws, engine, data, config, specs=[spec], session="from-template")
    assert again.saved[0].record["hash"] == first.saved[0].record["hash"]
    assert again.saved[0].handle.folder == f"0002_wheat-best_{first.saved[0].handle.short_hash}"
    assert again.saved[0].metrics == first.saved[0].metrics


def test_list_shows_hand_written_and_broken_templates_and_remove_deletes(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    ws.layout.templates_dir.mkdir(parents=True)
    (ws.layout.templates_dir / "by-hand.yaml").write_text("pipeline: [snv, pls]\ndescription: mine\n")
    (ws.layout.templates_dir / "broken.json").write_text("{not json")
    entries = {t.name: t for t in list_templates(ws.layout)}
    assert entries["by-hand"].steps == 2 and entries["by-hand"].description == "mine"
    assert "not valid JSON" in entries["broken"].problem
    with pytest.raises(InputError, match="no template 'nope'"):
        remove_template(ws.layout, "nope")
    assert remove_template(ws.layout, "by-hand", dry_run=True).is_file()
    remove_template(ws.layout, "by-hand")
    assert [t.name for t in list_templates(ws.layout)] == ["broken"]


def test_save_refuses_a_taken_name_unless_forced(tmp_path):
    engine = SklearnEngine()
    ws = Workspace.open(tmp_path / "ws")
    report = run_experiment(ws, engine, engine.load_dataset(TINY), {"pipeline": ["pls"]}, session="s")
    save_template(ws, f"tiny_nirs/{report.best.folder}", "t")
    with pytest.raises(InputError, match="template 't' already exists"):
        save_template(ws, f"tiny_nirs/{report.best.folder}", "t")
    save_template(ws, f"tiny_nirs/{report.best.folder}", "t", force=True)
    assert [t.name for t in list_templates(ws.layout)] == ["t"]
