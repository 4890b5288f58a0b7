"""A whole ``nirs4all run`` against the same fits in a plain scikit-learn loop (goal 4).

The plain loop executes every pipeline of the grid with the same engine code
(cross-validation and refit, one BLAS thread) and keeps nothing. Ours is
``run_experiment`` with ``-j 1`` and ``-j 2`` and its defaults: the same fits
plus everything the workspace stores **and the end of the run** (the post-run
steps: engine summary, the session report with its inline SVG figures, exports).
Overhead = ours / plain - 1; the goal is at most 5 % with ``-j 1``. The report
step's own time (``report.outputs``: goal at most 0.3 s) is printed apart, and so
is what ``--plots best`` (the best pipeline's PNGs, matplotlib) would add.

``python -m bench`` runs it with the others; ``python -m bench.run_overhead
[--quick]`` alone.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import median

OVERHEAD_GOAL = 0.05
REPORT_GOAL_S = 0.3


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
    report_s: list[float] = []

    def plain() -> None:
        for spec in specs:
            engine.execute(spec, dataset)

    def ours(jobs: int, tag: str, **options: Any) -> float:
        ws = Workspace.open(work / f"{tag}-{time.perf_counter_ns()}")
        # the defaults of nirs4all run: the session report and its figures included
        report = run_experiment(ws, engine, dataset, {}, specs=specs, n_jobs=jobs, session="bench", **options)
        if report.outputs is None or report.outputs.error:
            raise RuntimeError(f"the end-of-run report failed: {report.outputs and report.outputs.error}")
        return report.outputs.seconds

    engine.execute(specs[0], dataset)  # warm imports and caches for everyone
    plain_s, one_s, two_s = [], [], []
    for _ in range(repeats):  # interleaved, so that drifts of the machine hit all three
        start = time.perf_counter()
        plain()
        plain_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        report_s.append(ours(1, "j1"))
        one_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours(2, "j2")
        two_s.append(time.perf_counter() - start)
    # What the PNGs of the best pipeline add (matplotlib's import included): once, at the end.
    pngs_s = ours(1, "png", plots="best")
    plain_t, one_t, two_t = median(plain_s), median(one_s), median(two_s)
    report_t = median(report_s)
    return {
        "pipelines": len(specs),
        "plain_loop_s": plain_t,
        "run_j1_s": one_t,
        "run_j2_s": two_t,
        "overhead_j1": one_t / plain_t - 1,
        "overhead_j1_without_report": (one_t - report_t) / plain_t - 1,
        "report_step_s": report_t,
        "report_step_plots_best_s": pngs_s,
        "speedup_j2_vs_j1": one_t / two_t,
    }


def goals(result: dict[str, Any]) -> dict[str, bool]:
    return {
        "run_overhead_j1<=5%": result["overhead_j1"] <= OVERHEAD_GOAL,
        "report_step<=0.3s": result["report_step_s"] <= REPORT_GOAL_S,
    }


def print_section(result: dict[str, Any]) -> None:
    """The run-overhead lines of the benchmark table, with the two gates."""
    met = goals(result)
    word = {True: "MET", False: "MISSED"}
    print(
        f"\nrun overhead ({result['pipelines']} pipelines, -j1, report included): plain loop "
        f"{result['plain_loop_s']:.2f} s, run {result['run_j1_s']:.2f} s: "
        f"{result['overhead_j1'] * 100:+.1f}% (goal <= {OVERHEAD_GOAL:.0%}: "
        f"{word[met['run_overhead_j1<=5%']]}); without the report "
        f"{result['overhead_j1_without_report'] * 100:+.1f}%"
    )
    print(
        f"  end-of-run report step (session report + SVG figures): {result['report_step_s']:.3f} s "
        f"(goal <= {REPORT_GOAL_S} s: {word[met['report_step<=0.3s']]}); with --plots best "
        f"(PNGs, matplotlib): {result['report_step_plots_best_s']:.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_overhead", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a third of the grid, one repeat")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="nirs4all-bench-run-"))
    try:
        print_section(measure(work, args.quick))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
