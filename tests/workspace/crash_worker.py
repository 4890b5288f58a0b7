"""Lifecycle operations in a loop until the process is killed (driven by test_crash.py).

``python -m tests.workspace.crash_worker ROOT SEED`` runs, compacts, archives,
deletes, collects garbage and rebuilds on dataset ``crash`` of the workspace at
ROOT, forever. It prints each phase as it enters it (flushed), so that the test
knows where its SIGKILL landed.
"""

from __future__ import annotations

import random
import sys

import numpy as np

from nirs4all_workspace import Workspace
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.maintenance.archive_pipeline import archive_pipeline
from nirs4all_workspace.maintenance.archive_runs import archive_runs, plan_runs_archive
from nirs4all_workspace.maintenance.gc import collect_garbage
from nirs4all_workspace.maintenance.rebuild import rebuild_catalog
from nirs4all_workspace.maintenance.retention import delete_pipelines, plan_deletion
from tests.fakes import FakeDataset, FakeEngine

DATASET = "crash"
N_SAMPLES = 400


def dataset() -> FakeDataset:
    return FakeDataset(name=DATASET, y=np.linspace(0.0, 10.0, N_SAMPLES))


def phase(name: str) -> None:
    print(name, flush=True)  # the test reads these lines


def main(root: str, seed: int) -> None:
    rng = random.Random(seed)
    ws = Workspace.open(root)
    engine = FakeEngine()
    data = dataset()
    for iteration in range(1, 10_000):
        sessions = []
        for part in ("a", "b"):
            session = f"t{seed}-{iteration}{part}"
            scales = sorted(rng.sample(range(5, 40), 8))
            config = {"scales": [s / 20 for s in scales], "offsets": [0.0, 0.25], "fail_on": [scales[0] / 20]}
            phase(f"run {session}")
            run_experiment(ws, engine, data, config, session=session, plots="none")
            sessions.append(session)
        phase("compact")
        ws.predictions.compact()
        best = ws.best.current(DATASET)
        if best is not None:
            phase("catalog-archive")
            archive_pipeline(ws, f"{DATASET}/{best.folder}")
        phase("runs-archive")
        archive_runs(ws, plan_runs_archive(ws, DATASET, session=sessions[0]), binaries_min_age_s=0)
        phase("delete")
        delete_pipelines(
            ws, plan_deletion(ws, DATASET, session=sessions[1]), force=True, binaries_min_age_s=0
        )
        phase("gc")
        collect_garbage(ws, min_age_s=0)
        phase("rebuild")
        rebuild_catalog(ws)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
