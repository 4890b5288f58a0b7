"""The phases of a workflow on the signals engine: train bars, regimes, replayed ensembles.

A signals workflow splits the bars by position: the ``grid`` phase runs the
strategy x classifier grid on ``bars: [0, N]`` (its own dataset,
``<name>_0_N``), the ``analysis`` phase picks the best strategy of each regime
of one classifier from the stored regime metrics of those pipelines, the
``ensemble`` phase grid-searches weights over the picked strategies by
replaying their stored signals (each one opening positions only in its own
regime), and the ``validation`` phase computes the chosen variants only on
the held-out ``bars: [N, end]`` (dataset ``<name>_N_end``) and replays the
same regime switch with the same weights there. Every choice records the bars
it read (``chosen_on: [train]``, ``bars``); the validation phase refuses test
bars that overlap them. Outputs hold no timings nor folder numbers, so a
resumed workflow writes the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import polars as pl

from ...errors import ConfigError, InputError
from ...workflows.phases import (
    PhaseContext,
    _grid_weights,
    completed_by_hash,
    repair_reused,
    run_grid,
    run_missing,
)
from ...workflows.spec import CHOICE_PARTITIONS, PhaseSpec
from ...workspace.identity import config_hash


def _bars(ctx: PhaseContext, phase: PhaseSpec) -> tuple[Any, list[int]]:
    """The slice of the workflow's bars the phase names (``bars: [start, stop]``), as its own dataset."""
    start, stop = phase.options.get("bars") or [0, None]
    whole = ctx.dataset
    first, last, _ = slice(start, stop).indices(whole.n_samples)
    if last <= first:
        raise InputError(
            f"phase '{phase.name}': bars [{start}:{stop}] select no bar of {whole.name!r} "
            f"({whole.n_samples} bars)"
        )
    if (first, last) == (0, whole.n_samples):
        return whole, [first, last]
    return whole.slice(first, last), [first, last]  # named by bars.slice_name, as `run` names it


def _metric_value(metrics: dict[str, Any], metric: str, direction: str) -> float:
    """A score to maximise (NaN or missing: -inf, never chosen over a real score)."""
    value = metrics.get(metric)
    if not isinstance(value, int | float) or not np.isfinite(value):
        return float("-inf")
    return float(value) if direction == "max" else -float(value)


def _clean(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, float | np.floating) else v) for k, v in sorted(metrics.items())}


# -- grid -----------------------------------------------------------------------------
def run_signals_grid(
    ctx: PhaseContext, phase: PhaseSpec, inputs: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The engine's grid on the phase's bars (the training bars), reusing completed pipelines."""
    bars, span = _bars(ctx, phase)
    output = run_grid(dataclasses.replace(ctx, dataset=bars), phase, inputs)
    output["bars"] = span
    return output


# -- analysis ---------------------------------------------------------------------------
def _record(ctx: PhaseContext, dataset: str, digest: str) -> dict[str, Any]:
    record = completed_by_hash(ctx.workspace, dataset).get(digest)
    if record is None:
        raise InputError(f"dataset {dataset!r} has no completed pipeline {digest}; run the grid phase again")
    return record


def run_signals_analysis(
    ctx: PhaseContext, phase: PhaseSpec, inputs: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The best strategy of each regime of one classifier, from the stored regime metrics."""
    grid = inputs[phase.inputs[0]]
    if phase.options["group_by"] != "regime":
        raise InputError(f"phase '{phase.name}': on the signals engine 'group_by' must be regime")
    dataset = grid["dataset"]
    done = completed_by_hash(ctx.workspace, dataset)
    frames = []
    for entry in grid["results"]:
        record = done.get(entry["hash"]) if entry["status"] == "completed" else None
        if record is None:
            continue
        path = ctx.workspace.layout.pipeline(dataset, record["folder"]).engine_file("regime_metrics.parquet")
        frames.append(pl.read_parquet(path).with_columns(pl.lit(entry["hash"]).alias("hash")))
    if not frames:
        raise InputError(f"phase '{phase.name}': the grid '{phase.inputs[0]}' has no completed strategy")
    table = pl.concat(frames, how="vertical_relaxed")
    classifiers = list(dict.fromkeys(table["classifier"].to_list()))
    classifier = phase.options.get("classifier", classifiers[0])
    if classifier not in classifiers:
        raise InputError(
            f"phase '{phase.name}': no regime metrics for classifier {classifier!r}; "
            f"the grid has: {', '.join(classifiers)}"
        )
    min_trades = phase.options.get("min_trades", 10)
    by_hash = {e["hash"]: e for e in grid["results"]}
    groups = []
    rows = table.filter(pl.col("classifier") == classifier)
    for regime in dict.fromkeys(rows["regime"].to_list()):
        best, best_value, candidates = None, float("-inf"), 0
        # in grid order: of equal scores, the first is kept
        for row in rows.filter(pl.col("regime") == regime).iter_rows(named=True):
            if row["n_trades"] < min_trades:
                continue
            candidates += 1
            value = _metric_value(row, ctx.metric, ctx.direction)
            if best is None or value > best_value:
                best, best_value = row, value
        if best is None or best_value == float("-inf"):
            continue
        entry = by_hash[best["hash"]]
        groups.append(
            {
                "regime": regime,
                "candidates": candidates,
                "score": best[ctx.metric],
                "best": {
                    "hash": entry["hash"],
                    "name": entry["name"],
                    "config": entry["config"],
                    "n_trades": int(best["n_trades"]),
                },
            }
        )
    if not groups:
        raise InputError(
            f"phase '{phase.name}': no regime of {classifier!r} has a strategy with {min_trades} trades"
        )
    return {
        "phase": phase.name,
        "type": "analysis",
        "group_by": "regime",
        "classifier": classifier,
        "dataset": dataset,
        "bars": grid["bars"],
        "metric": ctx.metric,
        "direction": ctx.direction,
        "min_trades": min_trades,
        "chosen_on": ["train"],
        "groups": groups,
        "selected": groups,
    }


# -- replay of stored signals -------------------------------------------------------------
def _stored(ctx: PhaseContext, dataset: str, digest: str, classifier: str) -> tuple[Any, Any, dict[str, Any]]:
    """(signal, regimes of ``classifier``, signal metadata) stored for a pipeline: nothing recomputed."""
    from .cache import CLASSIFIERS_FOLDER
    from .sparse import read_regime_table, read_signal_table

    record = _record(ctx, dataset, digest)
    layout = ctx.workspace.layout
    signal, meta = read_signal_table(
        layout.pipeline(dataset, record["folder"]).engine_file("signals.parquet")
    )
    prefix = f"{CLASSIFIERS_FOLDER}/{classifier}_"
    names = [
        n for n in record.get("dataset_files") or [] if n.startswith(prefix) and "_" not in n[len(prefix) :]
    ]
    if not names:
        raise InputError(f"{dataset}/{record['folder']} was not evaluated with classifier {classifier!r}")
    regimes = read_regime_table(layout.dataset_shared_file(dataset, names[0]))[0]
    return signal, regimes, {**meta, "config": record["config"]}


def _switching(
    ctx: PhaseContext, bars: Any, members: list[dict[str, Any]], classifier: str, dataset: str
) -> tuple[Any, float, list[Any]]:
    """Per member: its stored signal opened only in its regime; with the bar context and fee."""
    from .cache import dataset_cache
    from .replay import regime_filter

    components = []
    config: dict[str, Any] = {}
    for member in members:
        signal, regimes, meta = _stored(ctx, dataset, member["hash"], classifier)
        if meta.get("data_fingerprint") != bars.fingerprint:
            raise InputError(
                f"the stored signal of {member['name']} was not computed on the bars of {dataset!r}"
            )
        components.append(regime_filter(signal, regimes, regimes.code_of(member["regime"])))
        config = meta["config"]
    fee = float(config.get("fees", 0.0))
    context = dataset_cache(bars).context(float(config.get("bars_per_year") or bars.bars_per_year))
    return context, fee, components


def _replay_metrics(context: Any, fee: float, components: list[Any], weights: np.ndarray) -> dict[str, Any]:
    from .evaluate import evaluate, trades_from_changes
    from .replay import combine

    combined = combine(components, weights)
    trades = trades_from_changes(combined.bar_idx, combined.values, combined.total_bars)
    return _clean(evaluate(context, trades, fee).metrics)


def _members(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"regime": g["regime"], "hash": g["best"]["hash"], "name": g["best"]["name"]}
        for g in analysis["selected"]
    ]


# -- ensemble ------------------------------------------------------------------------------
def run_signals_ensemble(
    ctx: PhaseContext, phase: PhaseSpec, inputs: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Weights over the per-regime strategies, grid-searched by replaying their stored signals."""
    analysis = inputs[phase.inputs[0]]
    if analysis.get("group_by") != "regime":
        raise InputError(f"phase '{phase.name}': on the signals engine the input must be a regime analysis")
    if phase.options.get("method", "grid") != "grid":
        raise InputError(f"phase '{phase.name}': on the signals engine the ensemble 'method' is grid")
    members = _members(analysis)
    start, stop = analysis["bars"]
    whole = ctx.dataset
    bars = (
        whole if (start, stop) == (0, whole.n_samples) else whole.slice(start, stop, name=analysis["dataset"])
    )
    context, fee, components = _switching(ctx, bars, members, analysis["classifier"], analysis["dataset"])
    candidates = _grid_weights(len(members), phase.options.get("step", 0.25))
    best, best_value, best_metrics = None, float("-inf"), {}
    for weights in candidates:  # grid order: ties keep the first
        metrics = _replay_metrics(context, fee, components, weights)
        value = _metric_value(metrics, ctx.metric, ctx.direction)
        if best is None or value > best_value:
            best, best_value, best_metrics = weights, value, metrics
    if best is None or best_value == float("-inf"):
        raise InputError(f"phase '{phase.name}': no weights give a finite {ctx.metric} on the training bars")
    return {
        "phase": phase.name,
        "type": "ensemble",
        "method": "grid",
        "metric": ctx.metric,
        "classifier": analysis["classifier"],
        "dataset": analysis["dataset"],
        "bars": analysis["bars"],
        "chosen_on": analysis["chosen_on"],
        "candidates": len(candidates),
        "members": [{**m, "weight": round(float(w), 6)} for m, w in zip(members, best, strict=True)],
        "scores": {"train": best_metrics},
    }


# -- validation ----------------------------------------------------------------------------
def run_signals_validation(
    ctx: PhaseContext, phase: PhaseSpec, inputs: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The regime switch with the chosen strategies and weights, replayed on the held-out bars.

    Only the chosen variants are computed on the test bars (each once: reused on
    resume); fails if the choice read anything but the training bars.
    """
    upstream = inputs[phase.inputs[0]]
    if upstream.get("type") != "ensemble" or "classifier" not in upstream:
        raise InputError(f"phase '{phase.name}': on the signals engine the input must be an ensemble phase")
    look_ahead = sorted(set(upstream.get("chosen_on", [])) - set(CHOICE_PARTITIONS))
    test, span = _bars(ctx, phase)
    train = upstream["bars"]
    if look_ahead or span[0] < train[1]:
        raise InputError(
            f"phase '{phase.name}': the choice in '{phase.inputs[0]}' read bars {train[0]}:{train[1]}, "
            f"which overlap the test bars {span[0]}:{span[1]}: look-ahead"
        )
    by_hash = {m["hash"]: m for m in upstream["members"]}
    configs = list(by_hash)  # the chosen variants, each once
    done_train = completed_by_hash(ctx.workspace, upstream["dataset"])
    specs = []
    for digest in configs:
        variant = done_train[digest]["config"]  # a canonical variant: back to a one-variant grid
        grid = {
            "strategies": variant["strategy"],
            "classifiers": {"_or_": variant["classifiers"]},
            "fees": variant["fees"],
            "bars_per_year": variant.get("bars_per_year"),
            "min_regime_trades": variant.get("min_regime_trades", 10),
        }
        found = [s for s in ctx.engine.expand(grid) if config_hash(s.config) == digest]
        if not found:
            raise InputError(f"phase '{phase.name}': cannot rebuild the configuration of {variant}")
        specs.append(found[0])
    done, reused = run_missing(ctx, phase, test, specs, [s.config for s in specs])
    missing = [by_hash[d]["name"] for d in configs if d not in done]
    if missing:
        raise InputError(f"phase '{phase.name}': {', '.join(missing)} failed on the test bars")
    if reused:
        repair_reused(dataclasses.replace(ctx, dataset=test))
    members = upstream["members"]
    weights = np.asarray([m["weight"] for m in members], dtype=np.float64)
    context, fee, components = _switching(ctx, test, members, upstream["classifier"], test.name)
    stored = {
        m["name"]: _clean(
            json.loads(
                ctx.workspace.layout.pipeline(test.name, done[m["hash"]]["folder"]).metrics_json.read_text(
                    encoding="utf-8"
                )
            ).get("val", {})
        )
        for m in members
    }
    return {
        "phase": phase.name,
        "type": "validation",
        "input": phase.inputs[0],
        "metric": ctx.metric,
        "classifier": upstream["classifier"],
        "dataset": test.name,
        "bars": {"train": train, "test": span},
        "chosen_on": upstream["chosen_on"],
        "look_ahead": False,
        "members": members,
        "scores": {
            "train": upstream["scores"]["train"],
            "test": _replay_metrics(context, fee, components, weights),
        },
        "members_test": stored,
    }


SIGNAL_PHASES = {
    "grid": run_signals_grid,
    "analysis": run_signals_analysis,
    "ensemble": run_signals_ensemble,
    "validation": run_signals_validation,
}


def check_phase_options(kind: str, options: dict[str, Any], at: str) -> None:  # noqa: ARG001 - same keys for all
    """ConfigError for a bad ``bars``, ``classifier`` or ``min_trades`` (declared phase options)."""
    bars = options.get("bars")
    if bars is not None and not (
        isinstance(bars, list)
        and len(bars) == 2
        and all(v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0) for v in bars)
        and (None in bars or bars[0] < bars[1])
    ):
        raise ConfigError(
            f"{at}: 'bars' must be [start, stop] bar positions (stop null for the end), not {bars!r}"
        )
    if "classifier" in options and not isinstance(options["classifier"], str):
        raise ConfigError(f"{at}: 'classifier' must be a classifier name, e.g. vol_30_780_1.25")
    value = options.get("min_trades")
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ConfigError(f"{at}: 'min_trades' must be a positive integer, not {value!r}")
