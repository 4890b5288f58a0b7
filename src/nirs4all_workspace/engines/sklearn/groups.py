"""Executing variants that share their splitter and preprocessing as one group.

Variants of a grid often differ only in the model (``snv > sg1`` before ten PLS
sizes and three Ridge alphas). :func:`execute_group` runs them fold by fold:
the preprocessing is fitted and applied once per fold and once for the refit
(through :mod:`.prefix_cache`, so a shorter shared prefix is reused across groups
too), then every model of the group is fitted on the same transformed data;
PLS models that differ only in ``n_components`` come from one fit at the largest
count (:mod:`.sweep`), Ridge models that differ only in ``alpha`` from one
centring and Gram matrix (:mod:`.ridge`). Only the first variant's pipeline is
built in full; the others build their model alone (the preprocessing is shared).
Each variant still gets its own :class:`PipelineResult` with its own fitted
final steps; the shared preprocessing objects are the same objects in every
result, so the workspace stores them once.

The calls on each estimator are those a scikit-learn ``Pipeline`` makes
(``fit_transform`` on the training rows, ``transform`` on the others), so a
group gives the numbers of separate runs: identical for every model but swept
PLS and shared-Gram Ridge, which agree to ~1e-13 (see :mod:`.sweep`, :mod:`.ridge`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.cross_decomposition import PLSRegression
from sklearn.pipeline import Pipeline

from ..base import FittedStep, PipelineResult, PipelineSpec, PredictionBlock
from .config import BuiltPipeline, build_pipeline, instantiate, unwrap
from .datasets import SpectraDataset
from .metrics import score
from .prefix_cache import PrefixCache
from .ridge import fit_ridge_alphas, is_ridge, ridge_key
from .sweep import fit_pls_counts, sweep_key


def group_key(config: Mapping[str, Any]) -> str:
    """Variants with equal keys share splitter, preprocessing and task: everything but the model."""
    steps = [step for step in config["pipeline"] if "model" not in step]
    return json.dumps({"steps": steps, "task": config.get("task")}, sort_keys=True)


def execute_group(
    specs: Sequence[PipelineSpec], dataset: SpectraDataset, cache: PrefixCache | None = None
) -> list[PipelineResult]:
    """One result per spec, in order; the specs must share :func:`group_key`.

    Exceptions propagate (the caller then runs the specs one at a time, so each
    failure is recorded against its own pipeline).
    """
    from .execution import _info, _OutOfFold, _predictions, _seed_splitter, default_splitter

    start = time.perf_counter()
    keys = {group_key(spec.config) for spec in specs}
    if len(keys) != 1:
        raise ValueError("execute_group needs specs that differ only in their model")
    cache = cache if cache is not None else PrefixCache()
    built, pipelines = _built(specs)
    task = built[0].task or dataset.task
    data = dataset.with_task(task)
    prefix = [obj for _, obj in pipelines[0].steps[:-1]]
    config_steps = specs[0].config["pipeline"]
    prefix_steps = [json.dumps(config_steps[index], sort_keys=True) for index, _ in built[0].steps[:-1]]
    models = [p.steps[-1][1] for p in pipelines]
    splitter = built[0].splitter if built[0].splitter is not None else default_splitter(task, data.y)
    _seed_splitter(splitter)

    X, y, ids = data.X, data.y, data.sample_ids
    n = len(specs)
    blocks: list[list[PredictionBlock]] = [[] for _ in range(n)]
    folds: list[list[dict[str, float]]] = [[] for _ in range(n)]
    oof = [_Collected(len(y), task, _OutOfFold) for _ in range(n)]
    sweeps = _sweeps(models)
    rows = (cache.fingerprint(X, y), " ".join(repr(splitter).split()))
    for fold, (train, val) in enumerate(splitter.split(X, y)):
        _, Xtr, (Xva,) = cache.apply((*rows, fold), prefix_steps, prefix, X[train], y[train], [X[val]])
        fitted = _fit_models(models, Xtr, y[train], sweeps, predict_only=True)
        centred: dict[bytes, np.ndarray] = {}
        for i, model in enumerate(fitted):
            pred = _predictions(_predict(model, Xva, centred), len(val))
            scores = score(task, y[val], pred)
            blocks[i].append(PredictionBlock("val", y[val], pred, ids[val], scores, fold=fold))
            folds[i].append(scores)
            oof[i].add(val, pred)
    if not folds[0]:
        raise ValueError(f"the splitter {splitter!r} produced no folds")

    others = [data.X_test] if data.has_test else []
    final_prefix, Xall, transformed = cache.apply((*rows, "refit"), prefix_steps, prefix, X, y, others)
    finals = _fit_models(models, Xall, y, sweeps)
    per_spec = (time.perf_counter() - start) / n
    results = []
    centred: tuple[dict[bytes, np.ndarray], dict[bytes, np.ndarray]] = ({}, {})
    for i, model in enumerate(finals):
        result = _result(task, data, model, Xall, transformed, blocks[i], folds[i], oof[i], centred)
        result.fitted = [
            FittedStep(step=index, operator=type(obj).__name__, obj=obj)
            for (index, _), obj in zip(built[i].steps, [*final_prefix, model], strict=True)
        ]
        result.info = _info(_as_pipeline([*final_prefix, model]), splitter, data, len(folds[i]))
        result.info["group"] = {"variants": n, "shared": "preprocessing per fold" + _swept(sweeps, models)}
        result.duration_s = per_spec
        results.append(result)
    return results


def _built(specs: Sequence[PipelineSpec]) -> tuple[list[BuiltPipeline], list[Pipeline]]:
    """The variants' estimators, seeded as ``execute_pipeline`` seeds them; one shared preprocessing."""
    from .execution import _seed

    first = build_pipeline(specs[0].config)
    built = [first, *(_with_own_model(first, spec.config) for spec in specs[1:])]
    if len(first.steps) > 1:  # the shared preprocessing, seeded once
        _seed(Pipeline([(f"step{i}", obj) for i, obj in first.steps[:-1]]))
    pipelines = []
    for b in built:
        _seed(Pipeline([("model", b.steps[-1][1])]))
        pipelines.append(Pipeline([(f"step{i}", obj) for i, obj in b.steps]))
    return built, pipelines


def _with_own_model(first: BuiltPipeline, config: Mapping[str, Any]) -> BuiltPipeline:
    """``config``'s pipeline, sharing the unfitted preprocessing of ``first`` (the group's other
    variants have the same steps but the model): only the model is built and checked."""
    steps = first.steps[:-1]
    index = first.steps[-1][0]
    model = instantiate(unwrap(config["pipeline"][index]), f"pipeline step {index + 1}")
    return BuiltPipeline(steps=[*steps, (index, model)], splitter=first.splitter, task=first.task)


class _Collected:
    """Out-of-fold predictions of one variant: the engine's ``_OutOfFold`` numbers, faster.

    With every sample validated at most once (k-fold) in regression, each sample's
    prediction is its only value (what ``_OutOfFold`` returns too); otherwise the
    folds are replayed into ``_OutOfFold`` (means of repeats, votes).
    """

    def __init__(self, n: int, task: str, slow: Any) -> None:
        self.n, self.task, self.slow = n, task, slow
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, indices: np.ndarray, pred: np.ndarray) -> None:
        self.parts.append((indices, pred))

    def result(self, task: str) -> tuple[np.ndarray, np.ndarray]:
        indices = np.concatenate([i for i, _ in self.parts]) if self.parts else np.array([], dtype=np.intp)
        if task == "regression" and len(np.unique(indices)) == len(indices):
            order = np.argsort(indices, kind="stable")
            preds = np.concatenate([p for _, p in self.parts]).astype(np.float64)
            return indices[order].astype(np.intp), preds[order]
        slow = self.slow(self.n)
        for i, p in self.parts:
            slow.add(i, p)
        return slow.result(task)


def _predict(model: Any, X: np.ndarray, centred: dict[bytes, np.ndarray] | None = None) -> Any:
    """``model.predict(X)``; for PLSRegression the same arithmetic without re-validating X each time.

    ``centred`` keeps ``X - x_mean`` for the PLS sizes of one sweep (they share the mean).
    """
    if type(model) is PLSRegression and isinstance(X, np.ndarray) and X.dtype == np.float64:
        key = model._x_mean.tobytes()
        Xc = None if centred is None else centred.get(key)
        if Xc is None:
            Xc = X - model._x_mean
            if centred is not None:
                centred.clear()  # one sweep at a time: never more than one centred copy
                centred[key] = Xc
        pred = Xc @ model.coef_.T + model.intercept_  # PLSRegression.predict's own steps
        return pred.ravel() if model._predict_1d else pred
    if is_ridge(model) and isinstance(X, np.ndarray) and X.dtype == np.float64:
        return X @ model.coef_.T + model.intercept_  # Ridge.predict's own steps, without its checks
    return model.predict(X)


def _as_pipeline(objs: list[Any]) -> Pipeline:
    return Pipeline([(f"step{j}", obj) for j, obj in enumerate(objs)])


def _result(
    task: str,
    data: SpectraDataset,
    model: Any,
    Xall: np.ndarray,
    transformed: list[np.ndarray],
    blocks: list[PredictionBlock],
    folds: list[dict[str, float]],
    oof: Any,
    centred: tuple[dict[bytes, np.ndarray], dict[bytes, np.ndarray]],
) -> PipelineResult:
    """One variant's result from its fold blocks and its final model.

    ``Xall`` and ``transformed`` (the test spectra, if any) went through the refit
    preprocessing; the caller adds the fitted steps and the info.
    """
    from .execution import _predictions

    y, ids = data.y, data.sample_ids
    seen, oof_pred = oof.result(task)
    metrics = {"val": score(task, y[seen], oof_pred)}
    blocks.append(PredictionBlock("val", y[seen], oof_pred, ids[seen], metrics["val"]))
    train_pred = _predictions(_predict(model, Xall, centred[0]), len(Xall))
    metrics["train"] = score(task, y, train_pred)
    blocks.insert(0, PredictionBlock("train", y, train_pred, ids, metrics["train"]))
    if data.has_test:
        assert data.y_test is not None and data.test_sample_ids is not None
        test_pred = _predictions(_predict(model, transformed[0], centred[1]), len(transformed[0]))
        metrics["test"] = score(task, data.y_test, test_pred)
        blocks.append(PredictionBlock("test", data.y_test, test_pred, data.test_sample_ids, metrics["test"]))
    return PipelineResult(
        status="completed",
        task=task,
        metrics=metrics,
        folds=folds,
        predictions=blocks,
        classes=sorted(np.unique(y).tolist()) if task == "classification" else None,
    )


def _swept(sweeps: dict[tuple[Any, ...], list[int]], models: list[Any]) -> str:
    swept = sum(len(members) for members in sweeps.values())
    ridges = sum(ridge_key(model) is not None for model in models)
    return (f", {swept} PLS sizes from one fit per sweep" if swept else "") + (
        f", {ridges} Ridge alphas from one decomposition" if ridges > 1 else ""
    )


def _sweeps(models: list[Any]) -> dict[tuple[Any, ...], list[int]]:
    """PLS models that one fit can give, by their shared parameters."""
    sweeps: dict[tuple[Any, ...], list[int]] = {}
    for i, model in enumerate(models):
        key = sweep_key(model)
        if key is not None:
            sweeps.setdefault(key, []).append(i)
    return sweeps


def _fit_models(
    models: list[Any],
    X: np.ndarray,
    y: np.ndarray,
    sweeps: dict[tuple[Any, ...], list[int]],
    predict_only: bool = False,
) -> list[Any]:
    """A fitted clone of every model on the same data; PLS sizes of one sweep (``_sweeps``) from one
    fit, Ridge alphas from one decomposition (``None`` from it: scikit-learn fits that one)."""
    fitted: list[Any] = [None] * len(models)
    swept = {i for members in sweeps.values() for i in members}
    ridges = [i for i in range(len(models)) if i not in swept and ridge_key(models[i]) is not None]
    if ridges:  # Ridge alphas: one centring and Gram matrix for all of them (see :mod:`.ridge`)
        for i, model in zip(ridges, fit_ridge_alphas([models[i] for i in ridges], X, y), strict=True):
            fitted[i] = model
    for members in sweeps.values():  # a sweep of one too: a size gives the same numbers alone or swept
        counts = {models[i].n_components for i in members}
        try:
            by_count = fit_pls_counts(models[members[0]], X, y, counts, predict_only)
        except ValueError:  # a count above the rank bound: separate fits say which variant fails
            by_count = {}
        for i in members:
            model = by_count.get(models[i].n_components)
            # Each variant owns its object (two variants may ask for the same count).
            if model is not None:
                fitted[i] = model if _first(members, i, models) else clone_fitted(model)
    for i, model in enumerate(models):
        if fitted[i] is None:
            fitted[i] = clone(model).fit(X, y)
    return fitted


def _first(members: list[int], i: int, models: list[Any]) -> bool:
    count = models[i].n_components
    return next(j for j in members if models[j].n_components == count) == i


def clone_fitted(model: Any) -> Any:
    """A deep copy of a fitted estimator."""
    import copy

    return copy.deepcopy(model)
