"""A third engine outside the core: examples/plugin-engine, installed by pip like any package.

The module fixture installs the example distribution into a temporary site
folder as an editable install does (a ``.pth`` file to its ``src`` and a
``.dist-info`` with the entry points of its pyproject.toml), then every command
runs in a fresh ``nirs4all`` process that sees it. Nothing in ``src/``
names it: the workspace finds it through the entry point and its declaration.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.engines.contract import EngineContractTests
from tests.engines.plugins import ROOT, nirs4all

EXAMPLE = ROOT / "examples" / "plugin-engine"
WORKFLOW = """\
name: gridfn-demo
engine: gridfn
dataset: demo
phases:
  - name: search
    type: grid
    pipeline:
      function: nirs4all_gridfn.demo:polynomial_ridge
      task: minimize
      grid: {degree: [1, 3, 5], alpha: [0.0, 1.0]}
  - name: by_degree
    type: analysis
    inputs: [search]
    group_by: degree
    top: 2
"""


def install(example: Path, site: Path) -> None:
    """Install ``example`` into ``site`` as pip does for an editable install: its ``src`` on the
    path (a ``.pth`` file) and a ``.dist-info`` whose name, version and entry points are those
    its pyproject.toml declares."""
    project = tomllib.loads((example / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8"
    )
    groups = project.get("entry-points", {})
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items())
            for group, points in groups.items()
        ),
        encoding="utf-8",
    )
    (site / f"{info.stem}.pth").write_text(str(example / "src") + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example installed into a site folder, seen by this process and its subprocesses."""
    target = tmp_path_factory.mktemp("site")
    install(EXAMPLE, target)
    sys.path.insert(0, str(EXAMPLE / "src"))
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    sys.path.remove(str(EXAMPLE / "src"))
    for name in [m for m in sys.modules if m.startswith("nirs4all_gridfn")]:
        del sys.modules[name]


class TestPluginEngineContract(EngineContractTests):
    @pytest.fixture
    def engine(self, site):
        from nirs4all_gridfn.engine import FunctionGridEngine

        return FunctionGridEngine()

    @pytest.fixture
    def dataset(self, engine):
        return engine.demo_dataset()

    @pytest.fixture
    def config(self):
        return {
            "function": "nirs4all_gridfn.demo:polynomial_ridge",
            "grid": {"degree": [1, 3], "alpha": [0.0]},
        }


def test_the_plugin_runs_end_to_end_through_the_cli(site: Path, tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        done = nirs4all(site, *args, "--workspace", ws, cwd=tmp_path, paths=(EXAMPLE / "src",))
        assert done.returncode == 0, f"nirs4all {' '.join(args)}: {done.stderr}"
        return done

    listed = {e["name"]: e for e in json.loads(cli("engines", "--json").stdout)}
    assert listed["gridfn"]["package"] == "nirs4all-gridfn"
    assert listed["gridfn"]["version"] == "0.1.0"
    assert listed["gridfn"]["default_metric"] == {"minimize": "loss", "maximize": "score"}

    run = json.loads(cli("run", "--engine", "gridfn", "--json").stdout)["runs"][0]
    assert run["dataset"] == listed["gridfn"]["demo_dataset"] == "gridfn_demo"
    assert (run["metric"], run["direction"]) == ("loss", "min")
    assert run["completed"] == run["pipelines"] == 12
    assert Path(run["report"]).is_file()

    best = json.loads(cli("catalog", "best", "gridfn_demo", "--json").stdout)
    assert best["metric"] == "loss"
    assert best["score"] == pytest.approx(run["best"]["score"])
    shown = json.loads(cli("runs", "show", "gridfn_demo", "--json").stdout)
    scores = [row["loss"] for row in shown["top"]]
    assert scores == sorted(scores)  # lower is better, as the engine declares

    cli("report", "gridfn_demo")
    cli("catalog", "report")
    assert (tmp_path / "ws" / "catalog" / "reports" / "global_performance.html").is_file()

    workflow = tmp_path / "gridfn.yaml"
    workflow.write_text(WORKFLOW)
    cli("workflow", "run", str(workflow))
    status = json.loads(cli("workflow", "list", "--json").stdout)
    assert [w["status"] for w in status] == ["completed"], status
    analysis = next((tmp_path / "ws" / "workflows").glob("*/analysis/by_degree.json"))
    groups = json.loads(analysis.read_text())["groups"]
    assert {g["group"] for g in groups} == {"1", "3", "5"}

    verified = json.loads(cli("workspace", "verify", "--json").stdout)
    assert verified["ok"] is True, verified


def test_the_core_does_not_name_the_plugin() -> None:
    hits = [p for p in (ROOT / "src").rglob("*.py") if "gridfn" in p.read_text(encoding="utf-8")]
    assert hits == []
