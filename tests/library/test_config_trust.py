"""A zip's configurations name classes: every form is vetted before any module is imported."""

import json
import os
import sys

import pytest

from nirs4all_workspace.engines.sklearn.config import class_references
from nirs4all_workspace.errors import TrustRequired
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.predict import predict_file
from nirs4all_workspace.library.reproduce import rerun_zip
from nirs4all_workspace.library.trained import import_trained, show_trained

from .helpers import nirs4all, tree
from .hostile import build, read

# Each form a configuration may name a class in; "{mod}.Zen" is a module whose import writes a marker.
FORMS = {
    "string step": lambda cfg, ref: cfg["pipeline"].insert(0, ref),
    "model string": lambda cfg, ref: cfg["pipeline"].__setitem__(-1, {"model": ref}),
    "or of strings": lambda cfg, ref: cfg["pipeline"].insert(0, {"_or_": [ref]}),
    "or not kept by count": lambda cfg, ref: cfg["pipeline"].insert(0, {"_or_": [None, ref], "count": 1}),
    "class key": lambda cfg, ref: cfg["pipeline"].insert(0, {"class": ref}),
    "class from a generator": lambda cfg, ref: cfg["pipeline"].insert(0, {"class": {"_or_": [ref]}}),
    "nested in params": lambda cfg, ref: cfg["pipeline"].insert(
        0, {"class": "sklearn.feature_selection.SelectFromModel", "params": {"estimator": {"class": ref}}}
    ),
    "deep in params": lambda cfg, ref: cfg["pipeline"].insert(
        0, {"class": "sklearn.compose.ColumnTransformer", "params": {"x": {"y": [{"class": ref}]}}}
    ),
}


def _marker_module(folder, name):
    """A module whose top-level code writes ``<name>.imported``: importing it is running its code."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"{name}.imported"
    (folder / f"{name}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "class Zen:\n    def fit(self, X, y=None):\n        return self\n"
        "    def transform(self, X):\n        return X\n    def predict(self, X):\n        return X[:, 0]\n"
    )
    return marker


def _edited_zip(source, path, form, ref):
    """``source`` with the default pipeline's configuration edited; listing and checksum recomputed."""
    manifest, members = read(source)
    wanted = f"pipelines/{manifest['default_pipeline']}/pipeline.json"
    changed = []
    for name, data in members:
        record = json.loads(data) if name == wanted else None
        if record is not None:
            FORMS[form](record["config"], ref)
        changed.append((name, data if record is None else json.dumps(record).encode()))
    path.write_bytes(build(manifest, changed))
    return path


def test_the_walker_finds_every_form():
    config = {"pipeline": ["snv", "pls"]}
    for form, edit in FORMS.items():
        edit(config, f"pkg.{form.replace(' ', '_')}.Zen")
    found = class_references(config)
    assert {f"pkg.{form.replace(' ', '_')}.Zen" for form in FORMS} <= set(found)
    assert class_references({"pipeline": ["SNV", {"model": {"class": "pls"}}]}) == [
        "chemotools.scatter.StandardNormalVariate",  # the alias table's snv (issue 14)
        "sklearn.cross_decomposition.PLSRegression",
    ]


@pytest.mark.parametrize("form", list(FORMS))
def test_no_form_of_an_untrusted_class_is_imported(trained, tmp_path, monkeypatch, form):
    module = "zen_" + form.replace(" ", "_")
    marker = _marker_module(tmp_path / "code", module)
    monkeypatch.syspath_prepend(str(tmp_path / "code"))
    path = _edited_zip(trained.zips["fullrun"], tmp_path / "edited.zip", form, f"{module}.Zen")
    ws = Workspace.open(tmp_path / "ws")
    (tmp_path / "new.csv").write_bytes(trained.csv.read_bytes())
    before = tree(tmp_path)
    attempts = {
        "import": lambda: import_trained(ws.layout, path),
        "predict": lambda: predict_file(ws.layout, path, tmp_path / "new.csv", tmp_path / "out.csv"),
        "re-run": lambda: rerun_zip(ws, path),
    }
    try:
        for action, attempt in attempts.items():
            with pytest.raises(TrustRequired) as caught:
                attempt()
            message = str(caught.value)
            assert f"{module}.Zen" in message and "--trust" in message, action
            assert "\n" not in message
            assert not marker.exists(), f"{action} imported the module"
        assert show_trained(ws.layout, str(path)).config_needs == {trained.best: [f"{module}.Zen"]}
        assert not marker.exists()
        assert tree(tmp_path) == before
    finally:
        sys.modules.pop(module, None)


def test_the_cli_refuses_an_untrusted_string_step_with_exit_2(trained, tmp_path):
    marker = _marker_module(tmp_path / "code", "zen_cli")
    path = _edited_zip(trained.zips["fullrun"], tmp_path / "edited.zip", "string step", "zen_cli.Zen")
    ws = str(tmp_path / "ws")
    (tmp_path / "new.csv").write_bytes(trained.csv.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "code")}
    commands = {
        "run --from-zip": ["run", "--from-zip", str(path)],
        "predict": ["predict", "--model", str(path), "--data", str(tmp_path / "new.csv"), "-o", "o.csv"],
        "library import": ["library", "import", str(path)],
    }
    for command, args in commands.items():
        done = nirs4all(*args, "--workspace", ws, cwd=tmp_path, env=env)
        assert done.returncode == 2, (command, done.stderr)
        assert "zen_cli.Zen" in done.stderr and "--trust" in done.stderr, command
        assert "Traceback" not in done.stderr
        assert not marker.exists(), command
    assert not (tmp_path / "o.csv").exists()
