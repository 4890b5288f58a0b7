"""One function per phase type: grid, analysis, ensemble, validation.

Each takes the run context, its phase and the outputs of its inputs, and
returns its output document (JSON-ready, no timings and no folder numbers, so
a resumed workflow writes the same bytes as an uninterrupted one). Pipelines
are named by their config hash; ``nirs4all runs show DATASET`` resolves it.
Every choice records the partitions it read (``chosen_on``) so the validation
phase can check that the test split played no part in it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..configs import load_pipeline
from ..errors import ConfigError, InputError
from ..facade import Workspace
from ..resume import completed_by_hash, data_version, restore_reused, split_completed
from ..workspace.identity import config_hash
from .spec import CHOICE_PARTITIONS, PhaseSpec


@dataclass
class PhaseContext:
    """What every phase needs: the workspace, engine, dataset and how to run pipelines."""

    workspace: Workspace
    engine: Any
    dataset: Any
    metric: str
    direction: str
    session: str
    source_dir: Path
    n_jobs: int = 1
    backend: str = "loky"
    log: Callable[[str], None] = lambda _message: None  # the runner logs to workflow.log


def _better(a: float, b: float, direction: str) -> bool:
    return a < b if direction == "min" else a > b


def _score(entry: dict[str, Any], metric: str, partition: str) -> float | None:
    value = entry.get("metrics", {}).get(partition, {}).get(metric)
    return float(value) if isinstance(value, int | float) and np.isfinite(value) else None


def _ranked(
    results: list[dict[str, Any]], metric: str, direction: str, partition: str
) -> list[dict[str, Any]]:
    """Completed results with a score, best first (ties: grid order)."""
    scored = [r for r in results if r["status"] == "completed" and _score(r, metric, partition) is not None]
    sign = 1.0 if direction == "min" else -1.0
    return sorted(scored, key=lambda r: sign * _score(r, metric, partition))


# -- grid ---------------------------------------------------------------------
def _grid_config(ctx: PhaseContext, phase: PhaseSpec, inputs: dict[str, dict[str, Any]]) -> Any:
    if "pipeline" in phase.options:
        value = phase.options["pipeline"]
        if isinstance(value, str):  # the file's digest goes into the checkpoint (inputs.py)
            from .inputs import pipeline_reference

            return load_pipeline(pipeline_reference(ctx.source_dir, value), ctx.workspace.layout)[0]
        return value
    # 'model' over the pipelines an analysis chose: their steps, this model.
    analysis = inputs[phase.inputs[0]]
    configs = []
    for group in analysis["selected"]:
        config = dict(group["best"]["config"])
        steps = config.get("pipeline")
        if not isinstance(steps, list):
            raise ConfigError(
                f"phase '{phase.name}': 'model' needs configurations with a 'pipeline' list of steps"
            )
        config["pipeline"] = [s for s in steps if not (isinstance(s, dict) and "model" in s)] + [
            {"model": phase.options["model"]}
        ]
        configs.append(config)
    return configs


def run_missing(
    ctx: PhaseContext, phase: PhaseSpec, dataset: Any, specs: list[Any], config: Any
) -> tuple[dict[str, dict[str, Any]], int]:
    """Run the ``specs`` whose config hash has not completed on ``dataset`` yet (resume).

    Returns the completed records of the dataset by hash, after the run, and how
    many of ``specs`` were reused rather than run (the filter is ``resume.py``'s,
    shared with ``nirs4all run --resume``).
    """
    from ..experiment import run_experiment

    version = data_version(dataset)
    done, remaining = split_completed(ctx.workspace, dataset.name, specs, version)
    reused = len(specs) - len(remaining)
    ctx.log(f"phase {phase.name}: {len(specs)} pipelines, {reused} reused, {len(remaining)} to run")
    if not remaining:
        return done, reused

    def progress(saved: Any, finished: int, total: int) -> None:
        ctx.log(f"phase {phase.name}: pipeline {finished}/{total} {saved.handle.folder} {saved.status}")

    run_experiment(
        ctx.workspace,
        ctx.engine,
        dataset,
        config,
        specs=remaining,
        session=f"{ctx.session}-{phase.name}"[:100].rstrip(),
        n_jobs=ctx.n_jobs,
        metric=ctx.metric,
        progress=progress,
        plots="none",
        backend=ctx.backend,
    )
    return completed_by_hash(ctx.workspace, dataset.name, version), reused


def run_grid(ctx: PhaseContext, phase: PhaseSpec, inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run the phase's grid, reusing pipelines whose config hash already completed on the dataset."""
    config = _grid_config(ctx, phase, inputs)
    configs = config if "model" in phase.options else [config]
    specs, seen = [], set()
    for one in configs:
        for spec in ctx.engine.expand(one):
            digest = config_hash(spec.config)
            if digest not in seen:
                seen.add(digest)
                specs.append(spec)
    if not specs:
        raise ConfigError(f"phase '{phase.name}': the pipeline configuration expands to no pipeline")
    dataset = ctx.dataset.name
    done, reused = run_missing(ctx, phase, ctx.dataset, specs, config)
    if reused:
        repair_reused(ctx)
    results = []
    for spec in specs:
        digest = config_hash(spec.config)
        record = done.get(digest)
        entry: dict[str, Any] = {
            "hash": digest,
            "name": spec.name,
            "preprocessing": spec.preprocessing,
            "model": spec.model,
            "params": spec.params,
            "config": spec.config,
            "status": "completed" if record else "failed",
        }
        if record:
            entry["metrics"] = _metrics(ctx.workspace, dataset, record["folder"])
        results.append(entry)
    return {"phase": phase.name, "type": "grid", "dataset": dataset, "metric": ctx.metric, "results": results}


def _metrics(workspace: Workspace, dataset: str, folder: str) -> dict[str, Any]:
    path = workspace.layout.pipeline(dataset, folder).metrics_json
    document = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in document.items() if k in ("train", "val", "test")}


def repair_reused(ctx: PhaseContext) -> None:
    """A run killed mid-way may have saved pipelines without their catalog rows or best file."""
    restored = restore_reused(ctx.workspace, ctx.dataset.name, ctx.metric, ctx.direction)
    if restored:
        ctx.log(f"catalog rows restored for {restored} pipeline(s) saved by an interrupted run")


# -- analysis -----------------------------------------------------------------
def _group_key(entry: dict[str, Any], key: str) -> str:
    for source in (entry, entry.get("params", {})):
        if key in source:
            value = source[key]
            return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "none"


def run_analysis(ctx: PhaseContext, phase: PhaseSpec, inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Group a grid's results by ``group_by``, keep the best of each group, rank the groups."""
    grid = inputs[phase.inputs[0]]
    key = phase.options["group_by"]
    partition = phase.options.get("partition", "val")
    best: dict[str, dict[str, Any]] = {}
    sizes: dict[str, int] = {}
    for entry in _ranked(grid["results"], ctx.metric, ctx.direction, partition):
        group = _group_key(entry, key)
        sizes[group] = sizes.get(group, 0) + 1
        best.setdefault(group, entry)  # ranked: the first seen is the best
    groups = [
        {"group": g, "pipelines": sizes[g], "score": _score(e, ctx.metric, partition), "best": e}
        for g, e in best.items()
    ]
    top = phase.options.get("top", len(groups))
    return {
        "phase": phase.name,
        "type": "analysis",
        "group_by": key,
        "metric": ctx.metric,
        "direction": ctx.direction,
        "chosen_on": [partition],
        "groups": groups,
        "selected": groups[:top],
    }


# -- ensemble -------------------------------------------------------------------
def _val_arrays(
    ctx: PhaseContext, entries: list[dict[str, Any]], partition: str
) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, predictions matrix) of a partition for the given pipelines, from the catalog."""
    workspace, dataset = ctx.workspace, ctx.dataset.name
    done = completed_by_hash(workspace, dataset)
    ids = [f"{done[e['hash']]['id']}-{partition}" for e in entries]
    frame = workspace.predictions.arrays(ids)
    rows = {r["prediction_id"]: r for r in frame.iter_rows(named=True)}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise InputError(
            f"the catalog has no {partition} predictions for {missing[0]}; run 'nirs4all catalog rebuild'"
        )
    order = np.argsort(np.asarray(rows[ids[0]]["sample_indices"]))
    y_true = np.asarray(rows[ids[0]]["y_true"], dtype=np.float64)[order]
    columns = []
    for i in ids:
        samples = np.asarray(rows[i]["sample_indices"])
        if not np.array_equal(np.sort(samples), np.sort(np.asarray(rows[ids[0]]["sample_indices"]))):
            raise InputError(f"prediction {i} covers other samples than {ids[0]}; they cannot be averaged")
        columns.append(np.asarray(rows[i]["y_pred"], dtype=np.float64)[np.argsort(samples)])
    return y_true, np.column_stack(columns)


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """rmse, mae, r2 and rpd, as the scikit-learn engine computes them."""
    error = y_pred - y_true
    rmse = float(np.sqrt(np.mean(error**2)))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    return {
        "rmse": rmse,
        "mae": float(np.mean(np.abs(error))),
        "r2": 1.0 - float(np.sum(error**2)) / total if total else float("nan"),
        "rpd": float(np.std(y_true, ddof=1)) / rmse if rmse else float("nan"),
    }


def _grid_weights(n: int, step: float) -> list[np.ndarray]:
    units = round(1 / step)
    return [
        np.asarray(c, dtype=np.float64) / units
        for c in itertools.product(range(units + 1), repeat=n)
        if sum(c) == units
    ]


def _evolution_weights(
    n: int, options: dict[str, Any], loss: Callable[[np.ndarray], float]
) -> list[np.ndarray]:
    """Candidates of a small seeded (mu + lambda) search on the simplex: the same every run."""
    rng = np.random.default_rng(options.get("seed", 0))
    size = options.get("population", 16)
    population = [np.full(n, 1.0 / n), *rng.dirichlet(np.ones(n), size - 1)]
    seen = list(population)
    for _ in range(options.get("generations", 20)):
        parents = sorted(population, key=loss)[: max(2, size // 4)]
        children = []
        for k in range(size):
            child = np.clip(parents[k % len(parents)] + rng.normal(0.0, 0.1, n), 0.0, None)
            children.append(child / child.sum() if child.sum() > 0 else np.full(n, 1.0 / n))
        population = sorted(parents + children, key=loss)[:size]
        seen += children
    return [np.round(w, 6) for w in seen]


def run_ensemble(ctx: PhaseContext, phase: PhaseSpec, inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Weights over the top pipelines of a grid, chosen on their stored validation predictions."""
    if getattr(ctx.dataset, "task", "regression") != "regression":
        raise InputError(
            f"phase '{phase.name}': ensembles average predictions, which needs a regression task"
        )
    if ctx.metric not in ("rmse", "mae", "r2", "rpd"):
        raise InputError(
            f"phase '{phase.name}': ensembles are scored with rmse, mae, r2 or rpd, not {ctx.metric!r}"
        )
    partition = phase.options.get("partition", "val")
    members = _ranked(inputs[phase.inputs[0]]["results"], ctx.metric, ctx.direction, partition)
    members = members[: phase.options.get("top", 5)]
    if not members:
        raise InputError(f"phase '{phase.name}': the input grid has no completed pipeline to combine")
    y_true, predictions = _val_arrays(ctx, members, partition)
    sign = 1.0 if ctx.direction == "min" else -1.0

    def loss(weights: np.ndarray) -> float:
        return sign * regression_scores(y_true, predictions @ weights)[ctx.metric]

    method = phase.options.get("method", "grid")
    if method == "grid":
        candidates = _grid_weights(len(members), phase.options.get("step", 0.25))
    else:
        candidates = _evolution_weights(len(members), phase.options, loss)
    best = min(candidates, key=loss)  # min keeps the first of equal losses: deterministic
    weights = [round(float(w), 6) for w in best]
    return {
        "phase": phase.name,
        "type": "ensemble",
        "method": method,
        "metric": ctx.metric,
        "chosen_on": [partition],
        "candidates": len(candidates),
        "members": [
            {"hash": m["hash"], "name": m["name"], "weight": w, "score": _score(m, ctx.metric, partition)}
            for m, w in zip(members, weights, strict=True)
        ],
        "scores": {partition: regression_scores(y_true, predictions @ np.asarray(weights))},
    }


# -- validation -------------------------------------------------------------------
def run_validation(ctx: PhaseContext, phase: PhaseSpec, inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Apply the chosen pipeline or weights to the test split and report its scores.

    The choice upstream must have read train/val scores only (``chosen_on``);
    otherwise the phase fails: test scores picked on the test split are look-ahead.
    """
    upstream = inputs[phase.inputs[0]]
    chosen_on = upstream.get("chosen_on", ["val"])
    look_ahead = sorted(set(chosen_on) - set(CHOICE_PARTITIONS))
    if look_ahead:
        raise InputError(
            f"phase '{phase.name}': the choice in '{phase.inputs[0]}' used {', '.join(look_ahead)} "
            "scores: look-ahead, its test scores would be biased"
        )
    if upstream["type"] == "ensemble":
        members = upstream["members"]
        weights = np.asarray([m["weight"] for m in members])
    else:
        if upstream["type"] == "analysis":
            ranked = [g["best"] for g in upstream["selected"]]
        else:
            ranked = _ranked(upstream["results"], ctx.metric, ctx.direction, "val")
        if not ranked:
            raise InputError(f"phase '{phase.name}': '{phase.inputs[0]}' chose no pipeline")
        members, weights = [ranked[0]], np.ones(1)
    output: dict[str, Any] = {
        "phase": phase.name,
        "type": "validation",
        "input": phase.inputs[0],
        "metric": ctx.metric,
        "chosen_on": chosen_on,
        "look_ahead": False,
        "members": [
            {"hash": m["hash"], "name": m["name"], "weight": float(w)}
            for m, w in zip(members, weights, strict=True)
        ],
    }
    if not getattr(ctx.dataset, "has_test", True):
        raise InputError(
            f"phase '{phase.name}': dataset {ctx.dataset.name!r} has no test split (Xval/Yval) to validate on"
        )
    if upstream["type"] != "ensemble":  # one pipeline: its stored scores, whatever the task
        output["scores"] = {p: members[0].get("metrics", {}).get(p, {}) for p in ("val", "test")}
        return output
    scores: dict[str, Any] = {}
    for partition in ("val", "test"):
        y_true, predictions = _val_arrays(ctx, members, partition)
        scores[partition] = regression_scores(y_true, predictions @ weights)
    output["scores"] = scores
    return output


PHASES: dict[str, Callable[[PhaseContext, PhaseSpec, dict[str, dict[str, Any]]], dict[str, Any]]] = {
    "grid": run_grid,
    "analysis": run_analysis,
    "ensemble": run_ensemble,
    "validation": run_validation,
}


def phase_function(
    engine: str, kind: str
) -> Callable[[PhaseContext, PhaseSpec, dict[str, dict[str, Any]]], dict[str, Any]]:
    """The function of a phase type for an engine: the engine's own when it declares that kind."""
    from ..engines.registry import find_declaration

    declaration = find_declaration(engine)
    if declaration is not None and kind in declaration.phase_kinds:
        return declaration.phase_function(kind)
    return PHASES[kind]
