"""100,000 pipelines in one dataset: numbering, reading commands, verify, report, the folder listing.

The dataset is built as runs of 1,000 pipelines through the path ``nirs4all run``
takes once a pipeline is fitted (``SimulationSaver.save``, catalog rows in batches
of 64 pipelines, the best-file offer; at the end of each run its session summary and
the automatic catalog compaction), with synthetic results (no fits): 20 predictions
per pipeline, one shared fitted object. Measured:

- the time of each allocation (``ManifestManager.allocate``) and of each whole
  ``save``, first 1,000 against last 1,000 pipelines (goal: the last within 1.5x);
- whole-process ``nirs4all runs list``, ``runs show DS --top 10`` and ``catalog best DS``
  (goal: each under 0.5 s);
- ``workspace verify`` and ``catalog report`` at a quarter, half and all the pipelines:
  time per pipeline at each size (linear or better: it does not grow), and the
  marginal time per pipeline once the fixed cost measured on 100 pipelines is taken off;
- ``os.scandir`` of ``runs/<dataset>/`` (what a file manager lists) and a ``stat`` of
  each entry (what it shows).

``python -m bench.scale_100k [--quick] [--n N] [--work DIR]`` runs it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import median

DATASET = "scale"
PREDICTIONS = 10  # per partition (val and test)
FIRST_LAST = 1000
RUN_SIZE = 1000  # pipelines per simulated run (one session each)
BASE = 100  # pipelines on which the fixed cost of verify and report is measured


def _specs_and_results(i: int, scaler_artifact: Any) -> tuple[Any, Any, list[Any]]:
    from nirs4all_workspace.engines.base import PipelineResult, PipelineSpec, PredictionBlock

    rng = np.random.default_rng(i)
    y = rng.normal(size=2 * PREDICTIONS)
    pred = y + rng.normal(scale=0.05 + (i % 997) / 1000, size=2 * PREDICTIONS)
    ids = np.arange(PREDICTIONS)
    params = {"n_components": i % 30 + 1, "preprocessing": ("snv", "msc", "d1")[i % 3], "seed": i}
    blocks = []
    metrics = {}
    for k, partition in enumerate(("val", "test")):
        part = slice(k * PREDICTIONS, (k + 1) * PREDICTIONS)
        err = pred[part] - y[part]
        scores = {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err)))}
        metrics[partition] = scores
        blocks.append(PredictionBlock(partition, y[part], pred[part], ids, scores))
    spec = PipelineSpec(
        config={"pipeline": params},
        name=f"pls-{i % 30 + 1}",
        params=params,
        model="PLSRegression",
        preprocessing=params["preprocessing"],
        index=i,
    )
    result = PipelineResult(
        status="completed", task="regression", metrics=metrics, predictions=blocks, fitted=[], duration_s=0.01
    )
    return spec, result, [scaler_artifact]


class Builder:
    """Adds pipelines to one dataset of one workspace, timing each allocation and save."""

    def __init__(self, root: Path) -> None:
        from nirs4all_workspace.experiment import _CatalogBatch
        from nirs4all_workspace.facade import Workspace
        from nirs4all_workspace.workspace.artifacts import serialize

        self.ws = Workspace.open(root)
        self.batch = _CatalogBatch(self.ws)
        self.artifact = serialize(0, "StandardScaler", {"mean": np.zeros(50), "scale": np.ones(50)})
        self.count = 0
        self.allocate_s: list[float] = []
        self.save_s: list[float] = []
        manager = self.ws.manifests
        plain = manager.allocate

        def timed_allocate(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return plain(*args, **kwargs)
            finally:
                self.allocate_s.append(time.perf_counter() - start)

        manager.allocate = timed_allocate  # type: ignore[method-assign]

    def add(self, n: int) -> float:
        """Add ``n`` pipelines as runs of up to RUN_SIZE; returns the seconds it took."""
        start_all = time.perf_counter()
        while n > 0:
            size = min(n, RUN_SIZE)
            self._run(size)
            n -= size
        return time.perf_counter() - start_all

    def _run(self, n: int) -> None:
        from datetime import UTC, datetime

        from nirs4all_workspace.experiment import AUTO_COMPACT_FRAGMENTS
        from nirs4all_workspace.workspace.sessions import SessionSummary

        session = f"s{self.count // RUN_SIZE:05d}"
        self.ws.sessions.begin(DATASET, session, {"n_variants": n})
        summary = SessionSummary(session=session, started_at=datetime.now(UTC).isoformat())
        for _ in range(n):
            i = self.count
            spec, result, artifacts = _specs_and_results(i, self.artifact)
            start = time.perf_counter()
            saved = self.ws.saver.save(DATASET, spec, result, artifacts, session=session, engine="sklearn")
            self.batch.add(saved)
            self.ws.best.offer(DATASET, saved, "rmse", "min", "val")
            self.save_s.append(time.perf_counter() - start)
            self.count += 1
            summary.pipelines += 1
            summary.completed += 1
            number = saved.handle.number
            summary.first_number = summary.first_number or number
            summary.last_number = number
        self.batch.flush()
        summary.finished_at = datetime.now(UTC).isoformat()
        self.ws.sessions.finish(DATASET, summary)
        self.ws.manifests.leases.release(DATASET)
        if len(self.ws.predictions.fragment_ids()) >= AUTO_COMPACT_FRAGMENTS:
            self.ws.predictions.compact()


def _cli(root: Path, *args: str, repeat: int = 3) -> dict[str, Any]:
    """Median whole-process seconds of ``nirs4all ARGS`` (exit status 0 or 1 accepted)."""
    import subprocess

    command = [sys.executable, "-m", "nirs4all_workspace.cli", *args, "--workspace", str(root)]
    times = []
    status = None
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        status = done.returncode
        if done.returncode not in (0, 1):
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return {"s": median(times), "exit": status}


def _listing(root: Path) -> dict[str, float]:
    folder = root / "runs" / DATASET
    start = time.perf_counter()
    with os.scandir(folder) as entries:
        names = [e.name for e in entries]
    scandir_s = time.perf_counter() - start
    start = time.perf_counter()
    for name in names:
        os.lstat(folder / name)
    stat_s = time.perf_counter() - start
    return {"entries": len(names), "scandir_s": scandir_s, "scandir_and_stat_s": scandir_s + stat_s}


def measure(work: Path, n: int) -> dict[str, Any]:
    """Build ``n`` pipelines in one dataset, measuring along the way (see the module docstring)."""
    work.mkdir(parents=True, exist_ok=True)
    root = work / "workspace"
    builder = Builder(root)
    sizes = sorted({max(n // 4, BASE + 1), max(n // 2, BASE + 1), max(n, BASE + 1)})
    # The fixed cost of each command (process start, imports, the catalog files) is measured
    # on the first BASE pipelines and taken off: what is left, per pipeline, must stay flat.
    build_s = builder.add(BASE)
    base = {
        "verify_s": _cli(root, "workspace", "verify", "--json", repeat=3)["s"],
        "report_s": _cli(root, "catalog", "report", repeat=3)["s"],
    }
    repeat = 3 if n <= 20_000 else 1  # medians where a run is short enough for noise to matter
    maintenance: list[dict[str, Any]] = []
    for size in sizes:
        build_s += builder.add(size - builder.count)
        verify = _cli(root, "workspace", "verify", "--json", repeat=repeat)
        report = _cli(root, "catalog", "report", repeat=repeat)
        maintenance.append(
            {
                "pipelines": size,
                "verify_s": verify["s"],
                "verify_exit": verify["exit"],
                "verify_ms_per_1000": verify["s"] / size * 1e6,
                "verify_marginal_ms_per_1000": (verify["s"] - base["verify_s"]) / (size - BASE) * 1e6,
                "report_s": report["s"],
                "report_ms_per_1000": report["s"] / size * 1e6,
                "report_marginal_ms_per_1000": (report["s"] - base["report_s"]) / (size - BASE) * 1e6,
            }
        )
        print(
            f"  {size:,} pipelines: verify {verify['s']:.2f} s, report {report['s']:.2f} s", file=sys.stderr
        )
    first = min(FIRST_LAST, n // 10 or 1)
    allocate_first = median(builder.allocate_s[:first]) * 1000
    allocate_last = median(builder.allocate_s[-first:]) * 1000
    save_first = median(builder.save_s[:first]) * 1000
    save_last = median(builder.save_s[-first:]) * 1000
    commands = {
        "runs_list_s": _cli(root, "runs", "list")["s"],
        "runs_show_top10_s": _cli(root, "runs", "show", DATASET, "--top", "10")["s"],
        "catalog_best_s": _cli(root, "catalog", "best", DATASET)["s"],
    }
    listing = _listing(root)

    def growth(kind: str) -> float:
        """Whole-command time per pipeline at the largest size over that at the smallest: a fixed
        cost makes it fall, linear work keeps it at most 1, anything worse than linear raises it."""
        return maintenance[-1][f"{kind}_ms_per_1000"] / maintenance[0][f"{kind}_ms_per_1000"]

    result = {
        "pipelines": n,
        "build_s": build_s,
        "first_last_window": first,
        "allocate_first_ms": allocate_first,
        "allocate_last_ms": allocate_last,
        "allocate_last_over_first": allocate_last / allocate_first,
        "save_first_ms": save_first,
        "save_last_ms": save_last,
        "save_last_over_first": save_last / save_first,
        **commands,
        "maintenance_base": {"pipelines": BASE, **base},
        "maintenance": maintenance,
        "verify_per_pipeline_growth": growth("verify"),
        "report_per_pipeline_growth": growth("report"),
        "listing": listing,
    }
    result["goals"] = {
        "allocation_last<=1.5x_first": result["allocate_last_over_first"] <= 1.5,
        "runs_list<0.5s": commands["runs_list_s"] < 0.5,
        "runs_show_top10<0.5s": commands["runs_show_top10_s"] < 0.5,
        "catalog_best<0.5s": commands["catalog_best_s"] < 0.5,
        # Linear (or better): the time per pipeline at the largest size within 1.5x of that at the
        # smallest (the marginal time per pipeline, fixed cost taken off, is in the result too).
        "verify_linear": result["verify_per_pipeline_growth"] <= 1.5,
        "report_linear": result["report_per_pipeline_growth"] <= 1.5,
    }
    return result


def print_section(result: dict[str, Any]) -> None:
    n = result["pipelines"]
    print(
        f"\n{n:,} pipelines in one dataset (built in {result['build_s']:.0f} s): allocation "
        f"{result['allocate_first_ms']:.3f} ms (first {result['first_last_window']:,}) -> "
        f"{result['allocate_last_ms']:.3f} ms (last) x{result['allocate_last_over_first']:.2f}; save "
        f"{result['save_first_ms']:.3f} -> {result['save_last_ms']:.3f} ms"
    )
    print(
        f"  runs list {result['runs_list_s']:.3f} s, runs show --top 10 {result['runs_show_top10_s']:.3f} s, "
        f"catalog best {result['catalog_best_s']:.3f} s"
    )
    base = result["maintenance_base"]
    print(
        f"  fixed cost (measured on {base['pipelines']} pipelines): verify {base['verify_s']:.2f} s, "
        f"report {base['report_s']:.2f} s"
    )
    for m in result["maintenance"]:
        print(
            f"  {m['pipelines']:>7,}: workspace verify {m['verify_s']:.2f} s "
            f"({m['verify_ms_per_1000']:.0f} ms per 1,000, marginal {m['verify_marginal_ms_per_1000']:.0f}), "
            f"catalog report {m['report_s']:.2f} s ({m['report_ms_per_1000']:.0f} ms per 1,000, "
            f"marginal {m['report_marginal_ms_per_1000']:.0f})"
        )
    listing = result["listing"]
    print(
        f"  runs/{DATASET}/: {listing['entries']:,} entries, scandir {listing['scandir_s'] * 1000:.0f} ms, "
        f"with a stat of each {listing['scandir_and_stat_s'] * 1000:.0f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_100k", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 pipelines instead of 100,000")
    parser.add_argument("--n", type=int, help="number of pipelines (overrides --quick)")
    parser.add_argument("--work", type=Path, help="where to build (default: a new temporary folder)")
    parser.add_argument("--json", type=Path, help="write the result here")
    args = parser.parse_args(argv)
    n = args.n or (10_000 if args.quick else 100_000)
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="nirs4all-scale-", dir=args.work))
    try:
        result = measure(work, n)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_section(result)
    print("goals: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in result["goals"].items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
