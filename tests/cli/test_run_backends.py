"""``nirs4all run --backend loky|dask|ray [--scheduler ADDRESS]``: the calling process alone writes."""

from __future__ import annotations

import importlib.util
import json
import socket
from pathlib import Path

import pytest

GRID = """
pipeline:
  - _or_: [null, snv, msc]
  - model: {class: pls, params: {n_components: {_or_: [4, 8]}}}
"""


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stored(root: Path) -> dict[str, object]:
    """What a run stored per pipeline: metrics, predictions, hashes, fitted-object digests (byte for byte)."""
    stored: dict[str, object] = {}
    for folder in sorted((root / "runs" / "demo").glob("0*")):
        record = json.loads((folder / "pipeline.json").read_text())
        stored[folder.name] = {
            "metrics.json": (folder / "metrics.json").read_bytes(),
            "predictions.csv": (folder / "predictions.csv").read_bytes(),
            "hash": record["hash"],
            "artifacts": record["artifacts"],
            "status": record["status"],
        }
    return stored


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="ray is installed")
def test_backend_ray_without_ray_says_what_to_install(cli, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    status, out, err = cli("run", "-p", str(grid), "--backend", "ray")
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'nirs4all-workspace[ray]'" in lines[0]
    assert "Traceback" not in out + err
    assert not (cli.root / "runs").exists()


def test_a_scheduler_without_dask_and_an_unknown_backend_are_refused(cli, tmp_path):
    status, _, err = cli("run", "--backend", "loky", "--scheduler", "tcp://127.0.0.1:8786")
    assert status == 2 and "use it with --backend dask" in err
    status, _, err = cli("run", "--backend", "spark")
    assert status == 2 and "--backend must be one of loky, dask, ray" in err
    status, _, err = cli("run", "--from-zip", str(tmp_path / "any.zip"), "--backend", "dask")
    assert status == 2 and "--from-zip runs on this machine" in err
    assert not cli.root.exists()


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(cli, tmp_path):
    pytest.importorskip("distributed")
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    status, out, err = cli("run", "-p", str(grid), "--backend", "dask", "--scheduler", address)
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and f"cannot reach the dask scheduler at '{address}'" in lines[0], err
    assert "Traceback" not in out + err
    assert not cli.root.exists()


@pytest.mark.slow
def test_a_run_on_a_local_dask_cluster_stores_what_loky_stores(cli, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    from nirs4all_workspace.cli import main

    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    monkeypatch.setenv("NIRS4ALL_WORKERS", "always")  # loky in worker processes too
    loky = tmp_path / "loky"
    assert main(["run", "-p", str(grid), "-j", "2", "--plots", "none", "--workspace", str(loky)]) == 0
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        status, _, err = cli(
            "run",
            "-p",
            str(grid),
            "--plots",
            "none",
            "--backend",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
        )
        executed = {name: sum(p.states.values()) for name, p in cluster.scheduler.task_prefixes.items()}
    assert status == 0, err
    assert any("execute" in name and "serialize" in name for name in executed), f"the cluster ran {executed}"
    local, remote = _stored(loky), _stored(cli.root)
    assert len(local) == 6 and all(p["status"] == "completed" for p in local.values())
    assert local == remote  # same folders (numbering), metrics, predictions and hashes, byte for byte
    assert "sent to the dask workers" in (cli.root / "runs" / "demo" / "run.log").read_text()
    assert "started 2 worker processes" in (loky / "runs" / "demo" / "run.log").read_text()
