"""PLS sweeps and shared preprocessing against the plain scikit-learn loop (issue 14).

The plain loop is what one writes without nirs4all: for every variant of the
grid, ``cross_val_predict`` of the scikit-learn ``Pipeline`` (same 5 folds) then
a refit on all samples, one BLAS thread like the engine. Ours is
``run_experiment`` (``-j 1``, ``plots="none"``: every pipeline folder, metrics,
predictions, fitted objects and catalog rows written) and, for the big sweep,
the whole ``nirs4all run`` command in a new process. Scores are compared
variant by variant (out-of-fold RMSE, relative difference).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

PREPROCESSINGS: list[Any] = [
    None,
    "snv",
    "msc",
    "detrend",
    {"class": "savgol", "params": {"window_length": 15, "deriv": 1}},
    {"class": "savgol", "params": {"window_length": 15, "deriv": 2}},
    ["snv", {"class": "savgol", "params": {"window_length": 15, "deriv": 1}}],
    ["msc", {"class": "savgol", "params": {"window_length": 15, "deriv": 1}}],
    {"class": "sg_smooth", "params": {"window_length": 11, "polyorder": 2}},
    "norm_scaler",
]


def spectra(n: int, p: int, seed: int = 0) -> Any:
    """Synthetic NIR-like spectra (smooth bands, scatter, noise) and a target: a SpectraDataset."""
    from nirs4all_workspace.engines.sklearn import SpectraDataset

    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, p)
    bands = np.stack([np.exp(-(((grid - c) / w) ** 2)) for c, w in ((0.2, 0.05), (0.45, 0.1), (0.7, 0.04))])
    conc = rng.uniform(0, 1, size=(n, 3))
    X = conc @ bands
    X = (
        X * rng.uniform(0.8, 1.2, size=(n, 1))
        + rng.normal(0, 0.05, size=(n, 1))
        + rng.normal(0, 0.002, (n, p))
    )
    y = conc[:, 1] * 10 + rng.normal(0, 0.05, n)
    names = [str(1000 + i) for i in range(p)]
    return SpectraDataset("bench", "bench", X, y, names, "y", "regression", np.arange(n))


def _plain_loop(specs: list[Any], data: Any) -> tuple[float, dict[int, float]]:
    """cross_val_predict + refit per variant; returns seconds and the out-of-fold RMSE of each."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.pipeline import Pipeline
    from threadpoolctl import threadpool_limits

    from nirs4all_workspace.engines.sklearn.config import build_pipeline

    cv = KFold(n_splits=5, shuffle=True, random_state=42)
    rmse = {}
    _CPU.append(time.process_time())
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        for spec in specs:
            built = build_pipeline(spec.config)
            pipeline = Pipeline([(f"step{i}", obj) for i, obj in built.steps])
            pred = np.ravel(cross_val_predict(pipeline, data.X, data.y, cv=cv))
            clone(pipeline).fit(data.X, data.y)
            rmse[spec.index] = float(np.sqrt(np.mean((pred - data.y) ** 2)))
    seconds = time.perf_counter() - start
    _CPU.append(time.process_time() - _CPU.pop())
    return seconds, rmse


def _ours(work: Path, specs: list[Any], data: Any) -> tuple[float, dict[int, float]]:
    from nirs4all_workspace.engines.sklearn import SklearnEngine
    from nirs4all_workspace.experiment import run_experiment
    from nirs4all_workspace.facade import Workspace

    ws = Workspace.open(work / f"ws-{time.perf_counter_ns()}")
    cpu = time.process_time()
    start = time.perf_counter()
    report = run_experiment(ws, SklearnEngine(), data, {}, specs=specs, session="bench", plots="none")
    seconds = time.perf_counter() - start
    _CPU.append(time.process_time() - cpu)
    rmse = {}
    for spec, saved in zip(specs, report.saved, strict=True):  # saved in grid order
        rmse[spec.index] = saved.metrics["val"]["rmse"]
    return seconds, rmse


# CPU seconds of the last measurements (this process only): on a loaded machine the ratio of CPU
# times is steadier than the ratio of wall times, which counts the waits for a core.
_CPU: list[float] = []


def _cpu_ratio() -> float:
    """plain loop CPU / ours CPU, from the two last measurements (ours first, then the plain loop)."""
    plain, ours = _CPU.pop(), _CPU.pop()
    return plain / ours


def _worst(plain: dict[int, float], ours: dict[int, float]) -> float:
    return max(abs(ours[index] - value) / abs(value) for index, value in plain.items())


def _grid(preprocessings: list[Any], sizes: list[int]) -> dict[str, Any]:
    return {
        "pipeline": [
            {"class": "kfold", "params": {"n_splits": 5, "shuffle": True, "random_state": 42}},
            {"_or_": preprocessings},
            {"model": {"class": "pls", "params": {"n_components": {"_or_": sizes}}}},
        ]
    }


def _cli_run(work: Path, data: Any, grid: dict[str, Any]) -> float:
    """The whole ``nirs4all run`` command in a new process, on a Parquet file of ``data``."""
    import polars as pl

    frame = pl.from_numpy(data.X, schema=data.feature_names, orient="row").with_columns(
        pl.Series("y", data.y)
    )
    path = work / "sweep.parquet"
    frame.write_parquet(path)
    pipeline = work / "sweep.json"
    pipeline.write_text(json.dumps(grid))
    args = ["run", "--dataset", str(path), "--pipeline", str(pipeline), "--plots", "none"]
    command = [sys.executable, "-m", "nirs4all_workspace.cli", *args, "--workspace", str(work / "cli-ws")]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def measure(work: Path, quick: bool) -> dict[str, Any]:
    """Every figure of the issue-14 goals (smaller sizes with ``quick``)."""
    from nirs4all_workspace.engines.sklearn import SklearnEngine

    work.mkdir(parents=True, exist_ok=True)
    engine = SklearnEngine()
    out: dict[str, Any] = {"load_before": os.getloadavg()}

    n, p, top = (500, 500, 10) if quick else (2000, 2000, 30)
    data = spectra(n, p)
    grid = _grid([None], list(range(1, top + 1)))
    specs = engine.expand(grid)
    ours_s, ours_rmse = _ours(work, specs, data)
    cli_s = _cli_run(work, data, grid)
    plain_s, plain_rmse = _plain_loop(specs, data)
    cpu_ratio = _cpu_ratio()
    out["sweep"] = {
        "shape": [n, p],
        "sizes": top,
        "plain_loop_s": plain_s,
        "ours_s": ours_s,
        "cli_s": cli_s,
        "ratio": plain_s / ours_s,
        "cli_ratio": plain_s / cli_s,
        "cpu_ratio": cpu_ratio,
        "max_rel_diff": _worst(plain_rmse, ours_rmse),
    }

    demo = engine.demo_dataset()
    demo_specs = engine.expand(engine.default_config())
    ours_s, ours_rmse = _ours(work, demo_specs, demo)
    plain_s, plain_rmse = _plain_loop(demo_specs, demo)
    out["demo"] = {
        "pipelines": len(demo_specs),
        "plain_loop_s": plain_s,
        "ours_s": ours_s,
        "ratio": plain_s / ours_s,
        "cpu_ratio": _cpu_ratio(),
        "max_rel_diff": _worst(plain_rmse, ours_rmse),
    }

    n, p, sizes = (300, 300, 10) if quick else (1000, 1000, 20)
    data = spectra(n, p, seed=1)
    grid_specs = engine.expand(_grid(PREPROCESSINGS, list(range(1, sizes + 1))))
    ours_s, ours_rmse = _ours(work, grid_specs, data)
    plain_s, plain_rmse = _plain_loop(grid_specs, data)
    out["grid"] = {
        "shape": [n, p],
        "pipelines": len(grid_specs),
        "plain_loop_s": plain_s,
        "ours_s": ours_s,
        "ratio": plain_s / ours_s,
        "cpu_ratio": _cpu_ratio(),
        "max_rel_diff": _worst(plain_rmse, ours_rmse),
    }
    out["cache"] = _cache_peak(work, data, grid_specs)
    out["load_after"] = os.getloadavg()
    sweep, demo, grid, cache = out["sweep"], out["demo"], out["grid"], out["cache"]
    out["gates"] = {  # issue 14's gates: name -> (measured, target, met)
        "sweep: whole `nirs4all run` vs plain loop": (sweep["cli_ratio"], ">= 20x", sweep["cli_ratio"] >= 20),
        "sweep: run_experiment vs plain loop": (sweep["ratio"], ">= 20x", sweep["ratio"] >= 20),
        "demo grid (78 pipelines)": (demo["ratio"], ">= 5x", demo["ratio"] >= 5),
        "10 preprocessings x PLS 1..20": (grid["ratio"], ">= 10x", grid["ratio"] >= 10),
        "scores vs plain loop (worst)": (
            max(sweep["max_rel_diff"], demo["max_rel_diff"], grid["max_rel_diff"]),
            "<= 1e-8 rel",
            max(sweep["max_rel_diff"], demo["max_rel_diff"], grid["max_rel_diff"]) <= 1e-8,
        ),
        "preprocessing cache peak (bytes)": (
            cache["peak_bytes"],
            "<= cap",
            cache["peak_bytes"] <= cache["cap_bytes"],
        ),
    }
    out["goals"] = {name: met for name, (_, _, met) in out["gates"].items()}  # for `python -m bench`
    return out


def _cache_peak(work: Path, data: Any, specs: list[Any]) -> dict[str, Any]:
    """The grid again with a cap smaller than what it could keep: the cache's peak stays under it."""
    from nirs4all_workspace.engines.sklearn import engine as engine_module
    from nirs4all_workspace.engines.sklearn.prefix_cache import PrefixCache

    cap = 8 * data.X.nbytes  # less than the 10 preprocessings x (5 folds + refit) it could hold
    saved = list(engine_module._CACHE)
    engine_module._CACHE[:] = [PrefixCache(cap_bytes=cap)]
    try:
        seconds, _ = _ours(work, specs, data)
        cache = engine_module._CACHE[0]
        return {
            "cap_bytes": cap,
            "peak_bytes": cache.peak_bytes,
            "hits": cache.hits,
            "misses": cache.misses,
            "seconds": seconds,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "data_bytes": data.X.nbytes,
        }
    finally:
        engine_module._CACHE[:] = saved


def print_section(result: dict[str, Any]) -> None:
    sweep, demo, grid, cache = result["sweep"], result["demo"], result["grid"], result["cache"]
    print(
        f"\nPLS sweep 1..{sweep['sizes']} on {sweep['shape'][0]}x{sweep['shape'][1]}, 5-fold: plain loop "
        f"{sweep['plain_loop_s']:.1f} s, run_experiment {sweep['ours_s']:.2f} s (x{sweep['ratio']:.1f}), "
        f"nirs4all run {sweep['cli_s']:.2f} s (x{sweep['cli_ratio']:.1f}); "
        f"max rel diff {sweep['max_rel_diff']:.1e}"
    )
    print(
        f"demo grid ({demo['pipelines']} pipelines): plain loop {demo['plain_loop_s']:.2f} s, ours "
        f"{demo['ours_s']:.2f} s (x{demo['ratio']:.1f}); max rel diff {demo['max_rel_diff']:.1e}"
    )
    print(
        f"{grid['pipelines']} pipelines (10 preprocessings x PLS sizes) "
        f"on {grid['shape'][0]}x{grid['shape'][1]}: "
        f"plain loop {grid['plain_loop_s']:.1f} s, ours {grid['ours_s']:.2f} s (x{grid['ratio']:.1f}); "
        f"max rel diff {grid['max_rel_diff']:.1e}"
    )
    print(
        f"preprocessing cache: peak {cache['peak_bytes'] / 2**20:.0f} MiB "
        f"of a {cache['cap_bytes'] / 2**20:.0f} MiB cap "
        f"({cache['hits']} hits, {cache['misses']} misses), "
        f"process peak RSS {cache['peak_rss_bytes'] / 2**20:.0f} MiB"
    )
    print(
        f"CPU-time ratios (this process; steadier than wall time on a loaded machine): "
        f"sweep x{sweep['cpu_ratio']:.1f}, demo x{demo['cpu_ratio']:.1f}, grid x{grid['cpu_ratio']:.1f}"
    )
    before, after = result["load_before"], result["load_after"]
    cores = os.cpu_count() or 1
    loaded = "  (LOADED: re-measure on a quiet machine)" if max(before[0], after[0]) > cores else ""
    print(
        f"\nissue-14 gates (wall time), load average {before[0]:.1f} before -> {after[0]:.1f} after "
        f"on {cores} cores{loaded}"
    )
    for name, (value, target, met) in result["gates"].items():
        shown = f"x{value:.1f}" if target.endswith("x") else f"{value:.2g}"
        print(f"  {'MET   ' if met else 'MISSED'} {name}: {shown} (target {target})")


def main() -> int:
    """``python -m bench.nirs_sweeps [--quick]``: this benchmark alone."""
    import tempfile

    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory(prefix="nirs4all-sweeps-") as tmp:
        result = measure(Path(tmp), quick)
    print_section(result)
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
