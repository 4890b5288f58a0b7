"""The signals engine: the 15,470-combination grid end to end, sparse replay, vectorbt side by side.

Sections (``python -m bench.signals [--quick] [--json PATH]`` runs this one alone):

- **grid**: 238 strategies x 65 classifiers = 15,470 combinations on the first
  19,500 real one-minute SPY bars (``../shared/data/SPY_1m.parquet``; the
  synthetic demo bars if absent), fees 0. ``compute``: every variant executed
  in one process, nothing stored. ``run -j1``/``run -j2``: ``run_experiment``
  end to end (signals, storage, catalog, regime metrics, analytics). Each in a
  fresh process; peak memory is the largest resident size of the process and
  its workers together (``/proc``, sampled every 50 ms) and ``ru_maxrss``.
- **storage**: stored change rows / bars of the signals and classifiers, bytes.
- **replay**: regime filter of stored signals, change points only, against the
  same filter bar by bar in Python (and a vectorised numpy version, for scale).
- **vectorbt** (when importable, in its own process): the same signals with
  ``Portfolio.from_orders`` (target percent, rebalanced every bar: the engine's
  convention), in chunks; simulation and metrics times, peak memory. Agreement:
  long-only versions of the signals (identical conventions), and the long/short
  signals (vectorbt sizes shorts against its cash, so a few 1e-9 differ per bar).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

SPY = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "SPY_1m.parquet"
REFERENCE_BARS = 19_500
VBT_CHUNK = 250


def load_reference_bars() -> Any:
    """The first 19,500 SPY bars, else the synthetic demo bars."""
    from nirs4all_workspace.engines.signals import load_bars, make_demo_bars

    if SPY.is_file():
        return load_bars(SPY).slice(0, REFERENCE_BARS)
    return make_demo_bars()


# -- memory of a process tree -------------------------------------------------------


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(text.split(" ", 1)[0]))
    total, stack, page = 0, [root], os.sysconf("SC_PAGE_SIZE")
    while stack:
        pid = stack.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        stack.extend(children.get(pid, []))
    return total


def _child(mode: str, work: Path, *extra: str) -> dict[str, Any]:
    """Run ``python -m bench.signals --child MODE`` and return its JSON with the tree's peak memory."""
    args = [sys.executable, "-m", "bench.signals", "--child", mode, "--work", str(work), *extra]
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_rss(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"bench.signals --child {mode} failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_tree_mib"] = peak[0] / 2**20
    return result


def maxrss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- children ----------------------------------------------------------------------


def _compute_child() -> dict[str, Any]:
    from nirs4all_workspace.engines.signals import SignalsEngine, reference_config

    bars, engine = load_reference_bars(), SignalsEngine()
    specs = engine.expand(reference_config(0.0))
    start = time.perf_counter()
    for spec in specs:
        engine.execute(spec, bars)
    return {"seconds": time.perf_counter() - start, "variants": len(specs), "maxrss_mib": maxrss_mib()}


def _grid_child(work: Path, jobs: int) -> dict[str, Any]:
    import polars as pl
    import pyarrow.parquet as pq

    from nirs4all_workspace.engines.signals import SignalsEngine, reference_config
    from nirs4all_workspace.experiment import run_experiment
    from nirs4all_workspace.facade import Workspace

    from .common import tree_size

    bars, engine = load_reference_bars(), SignalsEngine()
    config = reference_config(0.0)
    ws = Workspace.open(work)
    start = time.perf_counter()
    report = run_experiment(ws, engine, bars, config, n_jobs=jobs, session=f"bench-j{jobs}", plots="none")
    seconds = time.perf_counter() - start
    folder = ws.layout.dataset_dir(bars.name)
    performance = pl.read_parquet(folder / "_analytics" / "performance_matrix.parquet")
    regimes = pl.read_parquet(folder / "_analytics" / "regime_performance.parquet")
    classifier_changes = sum(
        int(json.loads(pq.read_schema(p).metadata[b"nirs4all.changes"]))
        for p in (folder / "_classifiers").iterdir()
    )
    classifiers = len(list((folder / "_classifiers").iterdir()))
    signal_bytes = sum((folder / f / "signals.parquet").stat().st_size for f in performance["pipeline"])
    return {
        "seconds": seconds,
        "jobs": jobs,
        "bars": bars.n_samples,
        "dataset": bars.name,
        "variants": report.summary.completed,
        "failed": report.summary.failed,
        "classifiers": classifiers,
        "combinations": report.summary.completed * classifiers,
        "regime_rows": regimes.height,
        "signal_changes": int(performance["changes"].sum()),
        "signal_compression": float(performance["changes"].sum() / (performance.height * bars.n_samples)),
        "classifier_changes": classifier_changes,
        "classifier_compression": classifier_changes / (classifiers * bars.n_samples),
        "signal_bytes": signal_bytes,
        "dense_signal_bytes": performance.height * bars.n_samples * 5,  # int8 signal + float32 confidence
        "workspace": tree_size(ws.root),
        "maxrss_mib": maxrss_mib(),
        "analytics_error": report.engine_summary.error if report.engine_summary else None,
    }


def stored_variants(ws_root: Path) -> tuple[Any, list[dict[str, Any]], dict[str, Any], Any]:
    """Bars, stored variants (record, sparse signal, metrics, regime rows), classifier tables, context."""
    import io

    import polars as pl

    from nirs4all_workspace.engines.signals.engine import dataset_cache
    from nirs4all_workspace.engines.signals.sparse import read_regime_table, read_signal_table
    from nirs4all_workspace.facade import Workspace
    from nirs4all_workspace.stored_results import stored_pipelines

    bars = load_reference_bars()
    ws = Workspace.open(ws_root, create=False)
    variants = []
    for stored in stored_pipelines(ws, bars.name, "signals"):
        rows = pl.read_parquet(io.BytesIO(stored.read("regime_metrics.parquet")))
        variants.append(
            {
                "record": stored.record,
                "signal": read_signal_table(stored.read("signals.parquet"))[0],
                "metrics": json.loads(stored.read("metrics.json"))["val"],
                "regimes": {(r["classifier"], r["regime"]): r for r in rows.iter_rows(named=True)},
            }
        )
    regimes = {}
    for name in variants[0]["record"]["dataset_files"]:
        table, meta = read_regime_table(ws.layout.dataset_shared_file(bars.name, name))
        regimes[meta["classifier"]] = table
    return bars, variants, regimes, dataset_cache(bars).context(bars.bars_per_year)


def _dense_replay(signal: np.ndarray, regime: np.ndarray, target: int) -> np.ndarray:
    """The regime filter bar by bar, as an event loop over dense arrays would do it."""
    out = np.zeros(len(signal), dtype=np.int8)
    state, previous = 0, 0
    for t in range(len(signal)):
        value = signal[t]
        if value != previous:
            previous = value
            state = value if value != 0 and regime[t] == target else 0
        out[t] = state
    return out


def _dense_replay_numpy(signal: np.ndarray, regime: np.ndarray, target: int) -> np.ndarray:
    """The same filter vectorised over all bars (dense, no loop)."""
    starts = np.flatnonzero(np.diff(signal, prepend=np.int8(0)) != 0)
    owner = np.zeros(len(signal), dtype=np.int64)
    owner[starts] = starts
    owner = np.maximum.accumulate(owner)
    return np.where(regime[owner] == target, signal, 0).astype(np.int8)


def replay_speed(ws_root: Path, samples: int) -> dict[str, Any]:
    """Per-replay time of the sparse filter vs the per-bar loop (and numpy), on stored signals."""
    from nirs4all_workspace.engines.signals.replay import regime_filter
    from nirs4all_workspace.engines.signals.sparse import decode, decode_regimes

    _bars, variants, regimes, _ctx = stored_variants(ws_root)
    rng = np.random.default_rng(0)
    names = sorted(regimes)
    combos = [
        (
            variants[rng.integers(len(variants))]["signal"],
            regimes[names[rng.integers(len(names))]],
            int(rng.integers(3)),
        )
        for _ in range(samples)
    ]
    start = time.perf_counter()
    sparse_out = [regime_filter(signal, regime, target) for signal, regime, target in combos]
    sparse_s = (time.perf_counter() - start) / samples
    dense = [(decode(s)[0], decode_regimes(r)[0], t) for s, r, t in combos]
    looped = max(10, samples // 20)
    start = time.perf_counter()
    loop_out = [_dense_replay(*d) for d in dense[:looped]]
    loop_s = (time.perf_counter() - start) / looped
    start = time.perf_counter()
    numpy_out = [_dense_replay_numpy(*d) for d in dense]
    numpy_s = (time.perf_counter() - start) / samples
    agree = all(np.array_equal(decode(s)[0], d) for s, d in zip(sparse_out, loop_out, strict=False)) and all(
        np.array_equal(decode(s)[0], d) for s, d in zip(sparse_out, numpy_out, strict=True)
    )
    return {
        "samples": samples,
        "bars": sparse_out[0].total_bars,
        "mean_signal_changes": float(np.mean([c[0].changes for c in combos])),
        "sparse_us": sparse_s * 1e6,
        "dense_loop_us": loop_s * 1e6,
        "dense_numpy_us": numpy_s * 1e6,
        "speedup_vs_loop": loop_s / sparse_s,
        "speedup_vs_numpy": numpy_s / sparse_s,
        "identical": agree,
    }


def vectorbt_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("vectorbt") is not None


# -- the section ----------------------------------------------------------------------


def measure(work: Path, quick: bool) -> dict[str, Any]:
    """Every measurement of this module (``quick``: vectorbt on 1,000 columns instead of 15,470)."""
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"data": "SPY_1m[0:19500]" if SPY.is_file() else "SYNTH_1m (SPY file absent)"}
    print("signals: compute only...", file=sys.stderr)
    result["compute"] = _child("compute", work / "compute")
    print("signals: grid -j1...", file=sys.stderr)
    result["run_j1"] = _child("grid", work / "ws_j1", "--jobs", "1")
    print("signals: grid -j2...", file=sys.stderr)
    result["run_j2"] = _child("grid", work / "ws_j2", "--jobs", "2")
    print("signals: replay...", file=sys.stderr)
    result["replay"] = replay_speed(work / "ws_j1", 500 if quick else 3000)
    if vectorbt_available():
        columns = "1000" if quick else "15470"
        print(f"signals: vectorbt on {columns} columns...", file=sys.stderr)
        result["vectorbt"] = _child("vectorbt", work / "ws_j1", "--columns", columns, "--agreement", "500")
    else:
        result["vectorbt"] = None
    best = min(result["run_j1"]["seconds"], result["run_j2"]["seconds"])
    peak = max(result["run_j1"]["peak_tree_mib"], result["run_j2"]["peak_tree_mib"])
    vbt = result["vectorbt"]
    result["goals"] = {
        "grid<60s": best < 60,
        "grid<4GB": peak < 4096,
        "replay>=48x": result["replay"]["speedup_vs_loop"] >= 48,
        "vectorbt_agree_1e-9": None if vbt is None else max(vbt["long_only_max_difference"].values()) <= 1e-9,
    }
    return result


def print_section(result: dict[str, Any]) -> None:
    """The signals lines of the benchmark table."""
    grid, one, two = result["compute"], result["run_j1"], result["run_j2"]
    print(
        f"\nsignals engine on {result['data']}: {one['variants']} strategies x {one['classifiers']} "
        f"classifiers = {one['combinations']:,} combinations ({one['regime_rows']:,} regime rows)"
    )
    print(
        f"  compute only {grid['seconds']:.1f} s; end to end -j1 {one['seconds']:.1f} s "
        f"(peak {one['peak_tree_mib']:.0f} MiB), -j2 {two['seconds']:.1f} s "
        f"(peak {two['peak_tree_mib']:.0f} MiB)"
    )
    print(
        f"  stored signals: {one['signal_changes']:,} changes = {one['signal_compression']:.4f} of the bars "
        f"({one['signal_bytes'] / 2**20:.1f} MiB vs {one['dense_signal_bytes'] / 2**20:.1f} MiB dense); "
        f"classifiers {one['classifier_compression']:.4f}"
    )
    replay = result["replay"]
    print(
        f"  replay: sparse {replay['sparse_us']:.0f} us, per-bar loop {replay['dense_loop_us']:.0f} us "
        f"(x{replay['speedup_vs_loop']:.0f}), dense numpy {replay['dense_numpy_us']:.0f} us "
        f"(x{replay['speedup_vs_numpy']:.1f}); identical: {replay['identical']}"
    )
    vbt = result["vectorbt"]
    if vbt is None:
        print("  vectorbt: not installed (pip install -e '.[bench]')")
    else:
        print(
            f"  vectorbt {vbt['version']} on {vbt['columns']:,} columns: simulate {vbt['simulate_s']:.1f} s, "
            f"metrics {vbt['metrics_s']:.1f} s (+{vbt['jit_s']:.1f} s JIT), "
            f"peak {vbt['peak_tree_mib']:.0f} MiB in chunks of {vbt['chunk']}"
        )
        print(
            "  agreement, long-only (same conventions), max relative difference: "
            + ", ".join(f"{k} {v:.1e}" for k, v in vbt["long_only_max_difference"].items())
        )
        print(
            "  long/short (vectorbt sizes shorts against its cash): "
            + ", ".join(f"{k} {v:.1e}" for k, v in vbt["long_short_max_difference"].items())
        )
    print(
        "  goals: "
        + ", ".join(
            f"{k} {'ok' if v else '-' if v is None else 'MISSED'}" for k, v in result["goals"].items()
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.signals", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="vectorbt on 1,000 columns, fewer replays")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--work", type=Path, help="work folder (default: a new temporary folder)")
    parser.add_argument("--child", choices=("compute", "grid", "vectorbt"), help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--columns", type=int, default=15_470, help=argparse.SUPPRESS)
    parser.add_argument("--agreement", type=int, default=500, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        if args.child == "compute":
            out = _compute_child()
        elif args.child == "grid":
            out = _grid_child(args.work, args.jobs)
        else:
            from .signals_vectorbt import compare

            out = compare(args.work, args.columns, args.agreement, VBT_CHUNK)
        print(json.dumps(out, default=str))
        return 0
    import shutil
    import tempfile

    from .common import machine

    work = args.work or Path(tempfile.mkdtemp(prefix="nirs4all-bench-signals-"))
    try:
        result = {"machine": machine(), "quick": args.quick, **measure(work, args.quick)}
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print_section(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
