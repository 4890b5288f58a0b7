"""A whole ``nirs4all run`` against the same fits in a plain scikit-learn loop (goal 4).

The plain loop executes every pipeline of the grid with the same engine code
(cross-validation and refit, one BLAS thread) and keeps nothing. Ours is
``run_experiment`` with ``-j 1`` and ``-j 2``: the same fits plus everything the
workspace stores. Overhead = ours / plain - 1. The figures and the session report drawn once at the
end of a run (``--plots best``, about a second, whatever the grid size) are
reported apart: ``docs/reports.md``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .common import median


def measure(work: Path, quick: bool) -> dict[str, Any]:
    from nirs4all_workspace.engines.sklearn import SklearnEngine
    from nirs4all_workspace.experiment import run_experiment
    from nirs4all_workspace.facade import Workspace

    engine = SklearnEngine()
    dataset = engine.demo_dataset()
    specs = engine.expand(engine.default_config())
    if quick:
        specs = specs[::3]
    repeats = 1 if quick else 3

    def plain() -> None:
        for spec in specs:
            engine.execute(spec, dataset)

    def ours(jobs: int, tag: str) -> None:
        ws = Workspace.open(work / f"{tag}-{time.perf_counter_ns()}")
        # plots="none": the grid's bookkeeping only (the end-of-run figures are measured apart).
        run_experiment(ws, engine, dataset, {}, specs=specs, n_jobs=jobs, session="bench", plots="none")

    engine.execute(specs[0], dataset)  # warm imports and caches for everyone
    plain_s, one_s, two_s = [], [], []
    for _ in range(repeats):  # interleaved, so that drifts of the machine hit all three
        start = time.perf_counter()
        plain()
        plain_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours(1, "j1")
        one_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours(2, "j2")
        two_s.append(time.perf_counter() - start)
    plain_t, one_t, two_t = median(plain_s), median(one_s), median(two_s)
    return {
        "pipelines": len(specs),
        "plain_loop_s": plain_t,
        "run_j1_s": one_t,
        "run_j2_s": two_t,
        "overhead_j1": one_t / plain_t - 1,
        "speedup_j2_vs_j1": one_t / two_t,
    }
