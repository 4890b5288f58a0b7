"""`nirs4all run` and the lifecycle commands refuse bad input in one line, exit 2 (issue 12)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.snapshots import lost, snapshot

RIDGE = "pipeline:\n  - {model: {class: ridge, params: {alpha: {_or_: [0.1, 1.0]}}}}\n"


def spectra_csv(path: Path, rows: int, features: int = 6, header: list[str] | None = None) -> Path:
    rng = np.random.default_rng(rows)
    X = rng.normal(size=(rows, features))
    y = X[:, 0] * 3 + rng.normal(size=rows) * 0.1
    names = header or [str(1000 + 2 * i) for i in range(features)] + ["protein"]
    lines = [",".join(names)] + [",".join(repr(float(v)) for v in [*r, t]) for r, t in zip(X, y, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def ridge(tmp_path: Path) -> Path:
    path = tmp_path / "ridge.yaml"
    path.write_text(RIDGE)
    return path


def run(cli, data: Path, pipeline: Path | None, *extra: str):
    args = ["run", "--dataset", str(data), "--plots", "none", "--session", "s", *extra]
    return cli(*args, *(["--pipeline", str(pipeline)] if pipeline else []))


def refused(cli, args, message: str, status: int = 2) -> str:
    before = snapshot(cli.root) if cli.root.exists() else None
    code, _out, err = cli(*args)
    assert code == status, err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    if before is not None:
        assert lost(before, snapshot(cli.root)) == []
    return err


# item 1: literal paths ----------------------------------------------------------------


def test_run_reads_the_literal_dataset_path(cli, tmp_path, ridge):
    spectra_csv(tmp_path / "g" / "ab.csv", 30)
    spectra_csv(tmp_path / "g" / "a[b].csv", 8)
    code, _out, err = run(cli, tmp_path / "g" / "a[b].csv", ridge)
    assert code == 0, err
    folder = next((cli.root / "runs" / "a[b]").glob("0001_*"))
    with (folder / "predictions.csv").open() as handle:
        ids = {int(row["sample_id"]) for row in csv.DictReader(handle)}
    assert ids == set(range(8))


# item 13: tracebacks become one line -----------------------------------------------------


@pytest.fixture
def ran(cli, tmp_path, ridge):
    code, _out, err = run(cli, spectra_csv(tmp_path / "wheat.csv", 12), ridge)
    assert code == 0, err
    return cli.root


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "show", "wheat", "--top", "-3"),
        ("runs", "show", "wheat", "--top", "0"),
        ("catalog", "list", "--top", "-1"),
    ],
)
def test_negative_top_is_refused(ran, cli, args):
    refused(cli, args, "--top")


@pytest.mark.parametrize("age", ["99999999999d", "999999999d", "1e400d"])
def test_an_absurd_age_is_refused(ran, cli, age):
    refused(cli, ("runs", "delete", "wheat", "--older-than", age, "--yes"), "age")


def test_a_list_target_is_refused(cli, tmp_path, ridge):
    path = tmp_path / "nested.parquet"
    pl.DataFrame({"1000": [0.1, 0.2, 0.3, 0.4], "y": [[1.0], [2.0], [3.0], [4.0]]}).write_parquet(path)
    refused(cli, ("run", "--dataset", str(path), "--pipeline", str(ridge)), "has type List")
    assert not cli.root.exists()


# item 14: refuse instead of guessing -------------------------------------------------------


def test_duplicate_columns_are_refused(cli, tmp_path, ridge):
    names = ["1000", "1002", "1000", "protein"]
    path = spectra_csv(tmp_path / "dup.csv", 6, features=3, header=names)
    refused(cli, ("run", "--dataset", str(path), "--pipeline", str(ridge)), "'1000' more than once")
    assert not cli.root.exists()


def test_a_fifo_dataset_is_refused_at_once(tmp_path):
    fifo = tmp_path / "spectra.csv"
    os.mkfifo(fifo)
    main = "import sys; from nirs4all_workspace.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", main, "run", "--dataset", str(fifo)]
    done = subprocess.run(
        [*command, "--workspace", str(tmp_path / "ws")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "not a regular file" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "ws").exists()


def test_a_utf16_csv_runs(cli, tmp_path, ridge):
    plain = spectra_csv(tmp_path / "plain.csv", 10)
    wide = tmp_path / "wide.csv"
    wide.write_bytes(plain.read_text().encode("utf-16"))
    code, _out, err = run(cli, wide, ridge)
    assert code == 0, err


def test_a_dataset_name_differing_only_by_case_is_refused(ran, cli, tmp_path, ridge):
    other = spectra_csv(tmp_path / "other" / "Wheat.csv", 12)
    err = refused(cli, ("run", "--dataset", str(other), "--pipeline", str(ridge)), "'wheat'")
    assert "case" in err and "--name" in err
    assert sorted(p.name for p in (cli.root / "runs").iterdir()) == ["wheat"]


def test_deleting_an_unknown_session_is_refused(ran, cli):
    err = refused(cli, ("runs", "delete", "wheat", "--session", "nope", "--yes"), "no session 'nope'")
    assert "s" in err.split("sessions:")[-1]
    refused(cli, ("runs", "archive", "wheat", "--session", "nope", "--yes"), "no session 'nope'")


# item 15: -j ---------------------------------------------------------------------------------


def test_jobs_beyond_cores_and_grid_are_capped(tmp_path, ridge):
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    data = spectra_csv(tmp_path / "wheat.csv", 12)
    main = "import sys; from nirs4all_workspace.cli import main; sys.exit(main())"
    args = ["run", "--dataset", str(data), "--pipeline", str(ridge), "--plots", "none", "-j", "1000"]
    # A subprocess with a timeout: uncapped, 1000 worker processes never finished on 2 cores.
    done = subprocess.run(
        [sys.executable, "-c", main, *args, "--workspace", str(tmp_path / "ws")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"-j 1000: using {min(cores, 2)} process" in done.stderr


@pytest.mark.parametrize("jobs", ["0", "-2"])
def test_jobs_zero_or_below_minus_one_are_refused(cli, tmp_path, ridge, jobs):
    data = spectra_csv(tmp_path / "wheat.csv", 12)
    refused(cli, ("run", "--dataset", str(data), "--pipeline", str(ridge), "-j", jobs), "-j must be")
    assert not cli.root.exists()


def test_jobs_minus_one_uses_every_core(cli, tmp_path, ridge):
    code, _out, err = run(cli, spectra_csv(tmp_path / "wheat.csv", 12), ridge, "-j", "-1")
    assert code == 0, err
    stored = cli.json("runs", "show", "wheat")
    assert stored["overview"]["completed"] == 2
