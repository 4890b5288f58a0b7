"""A grid phase on a real Dask LocalCluster stores the same pipelines and scores as loky."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.workflows import run_workflow

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'nirs4all-workspace[cluster]')"
)

GRID = """
name: dask-grid
dataset: demo
phases:
  - name: grid
    type: grid
    pipeline:
      pipeline:
        - _or_: [null, snv, msc]
        - model: {class: pls, params: {n_components: {_or_: [4, 8]}}}
  - name: by_preprocessing
    type: analysis
    inputs: [grid]
    group_by: preprocessing
"""


def _outputs(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.glob("workflows/*/analysis/*.json"))}


def test_grid_phase_on_a_local_dask_cluster_matches_loky(tmp_path):
    workflow = tmp_path / "grid.yaml"
    workflow.write_text(GRID)
    local = run_workflow(Workspace.open(tmp_path / "loky"), workflow, n_jobs=1)
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        remote = run_workflow(
            Workspace.open(tmp_path / "dask"), workflow, backend="dask", scheduler=cluster.scheduler_address
        )
        executed = {
            name: sum(prefix.states.values()) for name, prefix in cluster.scheduler.task_prefixes.items()
        }
    # execute_and_serialize, or execute_group_and_serialize for variants sharing a preprocessing prefix
    assert any("execute" in name and "serialize" in name for name in executed), f"the cluster ran {executed}"
    assert local.ran == remote.ran == ["grid", "by_preprocessing"]
    assert remote.document["attempts"][-1]["backend"] == "dask"
    loky, dask = _outputs(tmp_path / "loky"), _outputs(tmp_path / "dask")
    assert loky == dask  # same hashes, same scores, same groups, byte for byte
    results = json.loads(dask["grid.json"])["results"]
    assert len(results) == 6
    assert all(r["status"] == "completed" and r["metrics"]["val"]["rmse"] > 0 for r in results)
    # Numbering follows the grid order on both backends: the calling process writes.
    folders = {
        root: [p.parent.name for p in sorted((tmp_path / root / "runs" / "demo").glob("*/pipeline.json"))]
        for root in ("loky", "dask")
    }
    assert folders["loky"] == folders["dask"]
