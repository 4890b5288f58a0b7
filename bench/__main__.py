"""``python -m bench [--quick] [--json PATH]``: every benchmark, one table, one JSON summary."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import catalog_scale, nirs_sweeps, reference, run_overhead, scale_100k, signals, to_markdown
from .common import machine, package_version


def _ratio(ours: float, theirs: float | None) -> float | None:
    """How many times faster (or smaller) ours is."""
    return None if theirs is None or ours <= 0 else theirs / ours


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes")
    parser.add_argument("--json", type=Path, help="write the summary here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--work", type=Path, help="where to build the data (default: a new temporary folder)")
    parser.add_argument("--markdown", type=Path, help="write the goals table (docs/benchmarks.md) here")
    args = parser.parse_args(argv)

    sizes = {
        "reference_runs": 200 if args.quick else 1000,
        "catalog_rows": 100_000 if args.quick else 1_000_000,
        "cli_rows": 100_000,
        "scale_pipelines": 10_000 if args.quick else 100_000,
    }
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="nirs4all-bench-", dir=args.work))
    summary: dict[str, Any] = {
        "load_before": os.getloadavg(),
        "machine": machine(),
        "quick": args.quick,
        "sizes": sizes,
        "versions": {
            "nirs4all_workspace": package_version("nirs4all-workspace"),
            "mlflow": package_version("mlflow"),
            "polars": package_version("polars"),
        },
    }
    try:
        print("1,000-run reference (ours and MLflow where installed)...", file=sys.stderr)
        ref = reference.run(work / "reference", sizes["reference_runs"])
        print("catalog at scale...", file=sys.stderr)
        catalog = catalog_scale.measure(work / "catalog", sizes["catalog_rows"])
        print("CLI start-up...", file=sys.stderr)
        cli = catalog_scale.cli_startup(work / "cli", sizes["cli_rows"])
        print("run overhead...", file=sys.stderr)
        overhead = run_overhead.measure(work / "runs", args.quick)
        print("signals engine (grid, replay, vectorbt where installed)...", file=sys.stderr)
        signal_bench = signals.measure(work / "signals", args.quick)
        print("PLS sweeps and shared preprocessing (against the plain scikit-learn loop)...", file=sys.stderr)
        sweeps = nirs_sweeps.measure(work / "sweeps", args.quick)
        print(f"{sizes['scale_pipelines']:,} pipelines in one dataset...", file=sys.stderr)
        summary["scale"] = scale_100k.measure(work / "scale", sizes["scale_pipelines"])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    ours, same = ref["ours"], ref["ours_same_content"]
    file_store, sqlite_store = ref.get("mlflow_file"), ref.get("mlflow_sqlite")
    summary.update(reference=ref, catalog=catalog, cli=cli, run=overhead, signals=signal_bench, sweeps=sweeps)
    summary["ratios"] = {
        "bookkeeping_vs_mlflow_file_ratio": _ratio(
            ours["bookkeeping_ms"], file_store and file_store["logging_ms"]
        ),
        "bookkeeping_vs_mlflow_sqlite_ratio": _ratio(
            ours["bookkeeping_ms"], sqlite_store and sqlite_store["logging_ms"]
        ),
        "best_query_vs_mlflow_file_ratio": _ratio(
            ours["best_query_s"], file_store and file_store["best_query_s"]
        ),
        "best_query_vs_mlflow_sqlite_ratio": _ratio(
            ours["best_query_s"], sqlite_store and sqlite_store["best_query_s"]
        ),
        "storage_vs_mlflow_file_ratio": _ratio(same["bytes"], file_store and file_store["bytes"]),
        "storage_vs_mlflow_sqlite_ratio": _ratio(same["bytes"], sqlite_store and sqlite_store["bytes"]),
        "disk_vs_mlflow_file_ratio": _ratio(same["disk_bytes"], file_store and file_store["disk_bytes"]),
        "disk_vs_mlflow_sqlite_ratio": _ratio(
            same["disk_bytes"], sqlite_store and sqlite_store["disk_bytes"]
        ),
        "files_vs_mlflow_file_ratio": _ratio(same["files"], file_store and file_store["files"]),
    }
    summary["goals"] = {
        "bookkeeping_ms<=1.5": ours["bookkeeping_ms"] <= 1.5,
        "bookkeeping>=20x_mlflow_file": (summary["ratios"]["bookkeeping_vs_mlflow_file_ratio"] or 0) >= 20,
        "bookkeeping>=25x_mlflow_sqlite": (summary["ratios"]["bookkeeping_vs_mlflow_sqlite_ratio"] or 0)
        >= 25,
        "storage<=1/5_mlflow_file": (summary["ratios"]["storage_vs_mlflow_file_ratio"] or 0) >= 5,
        "best_1M<=100ms": catalog["best_ms"] <= 100,
        "top10_1M<=100ms": catalog["top10_filtered_ms"] <= 100,
        "arrays_one<=50ms": catalog["arrays_one_ms"] <= 50,
        "append_150<=50ms": catalog["append_150_ms"] <= 50,
        "compact>=1M_rows_per_s": catalog["compact_rows_per_s"] >= 1e6,
        "cli_best<=0.5s": cli["catalog_best_process_s"] <= 0.5,
        **run_overhead.goals(overhead),
        **{f"signals_{k}": v for k, v in signal_bench["goals"].items() if v is not None},
        **{f"sweeps_{k}": v for k, v in sweeps["goals"].items()},
        **{f"scale_{k}": v for k, v in summary["scale"]["goals"].items()},
    }
    summary["load_after"] = os.getloadavg()
    _print_table(summary)
    run_overhead.print_section(overhead)
    signals.print_section(signal_bench)
    nirs_sweeps.print_section(sweeps)
    scale_100k.print_section(summary["scale"])
    print(f"load average before {summary['load_before']}, after {summary['load_after']}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if args.markdown:
        to_markdown.write(to_markdown.render(json.loads(json.dumps(summary, default=str))), args.markdown)
    return 0


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _print_table(summary: dict[str, Any]) -> None:
    ref, catalog, cli, run = summary["reference"], summary["catalog"], summary["cli"], summary["run"]
    ours, mfile, msql = ref["ours"], ref.get("mlflow_file") or {}, ref.get("mlflow_sqlite") or {}
    same = ref["ours_same_content"]
    rows = [
        ("bookkeeping per run (ms)", ours["bookkeeping_ms"], mfile.get("logging_ms"), msql.get("logging_ms")),
        (
            "best-by-test-rmse query (s)",
            ours["best_query_s"],
            mfile.get("best_query_s"),
            msql.get("best_query_s"),
        ),
        ("files (same content)", same["files"], mfile.get("files"), msql.get("files")),
        ("bytes (same content)", same["bytes"], mfile.get("bytes"), msql.get("bytes")),
        ("disk bytes (same content)", same["disk_bytes"], mfile.get("disk_bytes"), msql.get("disk_bytes")),
        ("bytes with 200 predictions/run", ours["bytes"], None, None),
        (
            "identical artifact copies",
            ours["artifact_copies"],
            mfile.get("artifact_copies"),
            msql.get("artifact_copies"),
        ),
    ]
    print(f"\n{ref['n_runs']}-run reference      ours        mlflow-file  mlflow-sqlite")
    for label, *values in rows:
        print(f"  {label:28s} " + " ".join(f"{_fmt(v):>12s}" for v in values))
    print(
        f"\ncatalog of {catalog['rows']:,} rows: best {catalog['best_ms']:.1f} ms, filtered top-10 "
        f"{catalog['top10_filtered_ms']:.1f} ms, arrays of one {catalog['arrays_one_ms']:.1f} ms, append 150 "
        f"{catalog['append_150_ms']:.1f} ms, compact {catalog['compact_rows_per_s'] / 1e6:.2f} M rows/s"
    )
    print(
        f"CLI 'catalog best' on {cli['rows']:,} rows: {cli['catalog_best_process_s']:.3f} s "
        f"(heavy modules loaded: {cli['heavy_modules_loaded'] or 'none'})"
    )
    print(
        f"run of {run['pipelines']} pipelines: plain loop {run['plain_loop_s']:.2f} s, "
        f"-j1 {run['run_j1_s']:.2f} s "
        f"(overhead {run['overhead_j1'] * 100:+.1f}%), -j2 {run['run_j2_s']:.2f} s "
        f"(x{run['speedup_j2_vs_j1']:.2f})"
    )
    print(
        "\nratios (times better than the other): "
        + ", ".join(f"{k}={_fmt(v)}" for k, v in summary["ratios"].items())
    )
    print("goals: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in summary["goals"].items()))


if __name__ == "__main__":
    sys.exit(main())
