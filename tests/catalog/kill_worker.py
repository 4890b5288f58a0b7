"""A run that stops after its K-th pipeline and waits to be killed (driven by test_restore.py).

``python -m tests.catalog.kill_worker ROOT K`` runs a 30-pipeline grid of the fake
engine on dataset ``fake``; after the K-th pipeline is saved it prints ``saved K``
(flushed) and sleeps, its catalog batch still unwritten.
"""

from __future__ import annotations

import sys
import time

from nirs4all_workspace import Workspace, experiment
from nirs4all_workspace.experiment import run_experiment
from tests.fakes import FakeDataset, FakeEngine

GRID = {"scales": [0.5 + i / 20 for i in range(15)], "offsets": [0.0, 0.5], "fail_on": [0.6]}


def main(root: str, k: int) -> None:
    # The batch must still hold every saved pipeline when the kill lands: on a busy machine
    # saving K pipelines can take longer than the batch's time limit, which would flush it.
    experiment.CATALOG_BATCH_SECONDS = float("inf")

    def progress(saved, done, total) -> None:
        if done == k:
            print(f"saved {k}", flush=True)
            time.sleep(600)

    run_experiment(
        Workspace.open(root),
        FakeEngine(),
        FakeDataset(),
        GRID,
        session="killed",
        progress=progress,
        plots="none",
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
