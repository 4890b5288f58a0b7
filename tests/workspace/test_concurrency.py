"""Many processes saving into one workspace at once: numbers, catalog and best stay exact."""

from __future__ import annotations

import multiprocessing
import random
import time

import numpy as np
import polars as pl
import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.maintenance.verify import verify
from tests.fakes import FakeDataset, FakeEngine

WRITERS = 4
PER_WRITER = 250
OTHER = 200


def _writer(root: str, dataset: str, scales: list[float], session: str, barrier, results) -> None:
    ws = Workspace(root)
    engine, data = FakeEngine(), FakeDataset(name=dataset)
    barrier.wait()  # every process starts saving at the same moment
    report = run_experiment(ws, engine, data, {"scales": scales}, session=session, plots="none")
    results.put((session, [s.handle.number for s in report.saved]))


@pytest.mark.slow
def test_four_processes_saving_250_pipelines_each_into_one_dataset(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace.open(root)
    # Scales 0.5 .. 1.499: val rmse is |scale - 1| x rms(y), so 1.0 (k = 500) is the one best.
    ks = list(range(WRITERS * PER_WRITER))
    random.Random(7).shuffle(ks)
    chunks = [[0.5 + k / 1000 for k in ks[w::WRITERS]] for w in range(WRITERS)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS + 1)
    results = context.Queue()
    jobs = [("shared", chunk, f"w{w}") for w, chunk in enumerate(chunks)]
    jobs.append(("other", [0.5 + k / OTHER for k in range(OTHER)], "other"))
    processes = [
        context.Process(target=_writer, args=(str(root), d, scales, s, barrier, results))
        for d, scales, s in jobs
    ]
    start = time.perf_counter()
    for process in processes:
        process.start()
    outcome = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    elapsed = time.perf_counter() - start

    total = WRITERS * PER_WRITER
    folders = ws.manifests.list_folders("shared")
    assert [f.number for f in folders] == list(range(1, total + 1))  # distinct, consecutive, no gap
    assert sorted(n for s, numbers in outcome.items() if s != "other" for n in numbers) == list(
        range(1, total + 1)
    )
    assert all(numbers == sorted(numbers) for numbers in outcome.values())
    assert all(ws.manifests.status("shared", f.folder) == "completed" for f in folders)
    assert ws.manifests.high_water("shared") == total
    assert [f.number for f in ws.manifests.list_folders("other")] == list(range(1, OTHER + 1))

    meta = ws.predictions.frame(dataset="shared", fold=None)
    every = ws.predictions.collect(ws.predictions.scan())
    assert meta["pipeline_id"].n_unique() == total
    assert every["prediction_id"].n_unique() == every.height  # no duplicate row
    assert every.filter(pl.col("dataset") == "shared").height == total * 4  # 2 folds + val + train each
    assert every.filter(pl.col("dataset") == "other").height == OTHER * 4

    best_row = meta.filter(pl.col("partition") == "val").sort("rmse").row(0, named=True)
    best = ws.best.current("shared")
    assert best.folder == best_row["pipeline_folder"] and best.score == best_row["rmse"] == 0.0
    files = ws.layout.best_csv_files("shared")
    assert [p.name for p in files] == [f"best_{best.folder}.csv"]
    assert files[0].read_bytes() == ws.layout.pipeline("shared", best.folder).predictions_csv.read_bytes()
    assert np.isclose(float(best.folder.split("_")[1].split("-")[0][1:]), 1.0)

    report = verify(ws)
    assert report.ok, [p.to_dict() for p in report.problems]
    print(f"\n{total} + {OTHER} pipelines from {len(processes)} processes in {elapsed:.1f} s")
    assert elapsed < 120
