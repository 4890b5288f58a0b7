"""Readers see one generation of the catalog, whatever appends, compacts, rebuilds or repairs meanwhile.

One process writes as a run does (fragments, then ``compact(full=True)`` every few
fragments; or a real run while ``catalog rebuild`` and ``workspace verify --repair``
loop); one process reads in a tight loop through :class:`Predictions`; the CLI
(``catalog query``) reads in subprocesses. Every read must succeed, hold each
prediction id once, and count between the rows committed before it started and
the rows whose append had begun when it ended.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.catalog.predictions import Predictions

ROWS = 7  # rows per fragment
COMPACT_EVERY = 3  # fragments between full compactions
READS = 10_000
CLI_READS = 12
DEADLINE_S = 45
SQL = "SELECT count(*) AS n, count(DISTINCT prediction_id) AS u FROM predictions"


def _rows(start: int) -> tuple[list[dict], list[dict]]:
    meta, data = [], []
    for i in range(start, start + ROWS):
        pid = f"p{i:07d}"
        meta.append(
            {
                "prediction_id": pid,
                "pipeline_id": f"q{i // ROWS}",
                "dataset": f"d{i % 3}",
                "partition": "val",
                "status": "completed",
                "rmse": float(i),
            }
        )
        data.append(
            {
                "prediction_id": pid,
                "partition": "val",
                "y_true": [1.0, 2.0],
                "y_pred": [1.0, 2.5],
                "sample_indices": [0, 1],
            }
        )
    return meta, data


def _appender(root: str, started, committed, stop) -> None:
    predictions = Predictions(Workspace(root).layout)
    fragments = 0
    while not stop.is_set():
        with started.get_lock():
            start = started.value
            started.value += ROWS
        predictions.append(*_rows(start))
        with committed.get_lock():
            committed.value += ROWS
        fragments += 1
        if fragments % COMPACT_EVERY == 0:
            predictions.compact(full=True)


def _reader(root: str, started, committed, stop, out) -> None:
    predictions = Predictions(Workspace(root).layout)
    reads, errors, bad = 0, [], []
    while reads < READS and not stop.is_set():
        low = committed.value
        try:
            frame = predictions.collect(
                predictions.scan().select(pl.len().alias("n"), pl.col("prediction_id").n_unique().alias("u"))
            )
            n, u = frame["n"][0], frame["u"][0]
        except Exception as exc:  # every failure is a finding
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            reads += 1
            continue
        high = started.value
        if n != u or not low <= n <= high:
            bad.append((low, n, u, high))
        reads += 1
    out.put(
        {"reads": reads, "errors": errors[:5], "n_errors": len(errors), "bad": bad[:5], "n_bad": len(bad)}
    )


def _cli_reads(root: Path, started, committed) -> tuple[int, list[str], list[tuple]]:
    errors, bad = [], []
    for _ in range(CLI_READS):
        low = committed.value
        proc = subprocess.run(
            [
                str(Path(sys.executable).with_name("nirs4all")),
                "catalog",
                "query",
                SQL,
                "--json",
                "--workspace",
                str(root),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        high = started.value
        if proc.returncode != 0:
            errors.append(proc.stderr.strip()[-300:])
            continue
        row = json.loads(proc.stdout)[0]
        if row["n"] != row["u"] or not low <= row["n"] <= high:
            bad.append((low, row["n"], row["u"], high))
    return CLI_READS, errors, bad


@pytest.mark.slow
def test_readers_see_one_generation_while_a_run_appends_and_compacts(tmp_path):
    root = tmp_path / "ws"
    Workspace.open(root)
    context = multiprocessing.get_context("spawn")
    started, committed = context.Value("q", 0), context.Value("q", 0)
    stop, out = context.Event(), context.Queue()
    writer = context.Process(target=_appender, args=(str(root), started, committed, stop))
    reader = context.Process(target=_reader, args=(str(root), started, committed, stop, out))
    writer.start()
    reader.start()
    try:
        cli_reads, cli_errors, cli_bad = _cli_reads(root, started, committed)
        result = out.get(timeout=DEADLINE_S)
    finally:
        stop.set()
        writer.join(timeout=30)
        reader.join(timeout=30)
    assert writer.exitcode == 0
    assert result["n_errors"] == 0 and not cli_errors, (result["errors"], cli_errors)
    assert result["n_bad"] == 0 and not cli_bad, (result["bad"], cli_bad)
    assert result["reads"] + cli_reads >= READS
    print(f"reads: {result['reads']} in process + {cli_reads} CLI; rows written: {committed.value}")
    assert committed.value > 20 * ROWS  # the writer did write while the readers read
    final = Predictions(Workspace(root).layout)
    assert final.count() == committed.value


def _run_writer(root: str, done) -> None:
    from nirs4all_workspace.experiment import run_experiment
    from tests.fakes import FakeDataset, FakeEngine

    config = {"scales": [0.5 + k / 400 for k in range(400)]}
    run_experiment(Workspace(root), FakeEngine(), FakeDataset(), config, session="s", plots="none")
    done.set()


def _maintainer(root: str, done, out) -> None:
    from nirs4all_workspace.maintenance.rebuild import rebuild_catalog
    from nirs4all_workspace.maintenance.verify import verify

    ws, rounds, errors = Workspace(root), 0, []
    while not done.is_set():
        try:
            rebuild_catalog(ws) if rounds % 2 == 0 else verify(ws, repair=True)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
        rounds += 1
    out.put({"rounds": rounds, "errors": errors[:5]})


def _loose_reader(root: str, done, out) -> None:
    predictions = Predictions(Workspace(root).layout)
    reads, errors, bad, last = 0, [], [], 0
    while not done.is_set():
        try:
            frame = predictions.collect(
                predictions.scan().select(pl.len().alias("n"), pl.col("prediction_id").n_unique().alias("u"))
            )
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        n, u = frame["n"][0], frame["u"][0]
        if n != u:
            bad.append((n, u))
        last = max(last, n)
        reads += 1
    out.put({"reads": reads, "errors": errors[:5], "n_errors": len(errors), "bad": bad[:5], "last": last})


@pytest.mark.slow
def test_rebuild_and_repair_during_a_run_lose_and_repeat_nothing(tmp_path):
    root = tmp_path / "ws"
    Workspace.open(root)
    context = multiprocessing.get_context("spawn")
    done, out = context.Event(), context.Queue()
    processes = [
        context.Process(target=_run_writer, args=(str(root), done)),
        context.Process(target=_maintainer, args=(str(root), done, out)),
        context.Process(target=_loose_reader, args=(str(root), done, out)),
    ]
    for process in processes:
        process.start()
    try:
        results = [out.get(timeout=120) for _ in range(2)]
    finally:
        done.set()
        for process in processes:
            process.join(timeout=60)
    assert processes[0].exitcode == 0
    maintained = next(r for r in results if "rounds" in r)
    read = next(r for r in results if "reads" in r)
    assert maintained["rounds"] >= 2 and not maintained["errors"], maintained
    assert read["n_errors"] == 0 and not read["bad"], read
    predictions = Predictions(Workspace(root).layout)
    ids = predictions.collect(predictions.scan().select("prediction_id"))["prediction_id"]
    assert ids.len() == ids.n_unique()
    folders = Workspace(root).manifests.list_folders("fake")
    assert len(folders) == 400
    pipelines = predictions.collect(predictions.scan().select(pl.col("pipeline_id").n_unique())).item()
    assert pipelines == 400  # every pipeline has its rows, once
