"""Executing one pipeline: cross-validation, out-of-fold predictions, refit, scores.

The engine (:mod:`.engine`) runs single variants through :func:`execute_pipeline`;
groups of variants (:mod:`.groups`) share its splitter, seeding and prediction
helpers. Exceptions of the pipeline propagate: the workspace records failures.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from ..base import FittedStep, PipelineResult, PipelineSpec, PredictionBlock
from .config import build_pipeline
from .datasets import SpectraDataset
from .metrics import score

SEED = 42
DEFAULT_SPLITS = 5

def execute_pipeline(spec: PipelineSpec, dataset: SpectraDataset) -> PipelineResult:
    """Run one pipeline: a val block per fold, an out-of-fold val block, then train (and test).

    The splitter is the config's, else 5-fold (stratified for classification,
    shuffled, seed 42). ``metrics["val"]`` scores the out-of-fold predictions of
    all calibration samples; ``fitted`` holds the final refit steps by their index
    in ``spec.config["pipeline"]``. Exceptions of the pipeline propagate.
    """
    start = time.perf_counter()
    built = build_pipeline(spec.config)
    task = built.task or dataset.task
    data = dataset.with_task(task)
    pipeline = Pipeline([(f"step{i}", obj) for i, obj in built.steps])
    _seed(pipeline)
    splitter = built.splitter if built.splitter is not None else default_splitter(task, data.y)
    _seed_splitter(splitter)

    X, y, ids = data.X, data.y, data.sample_ids
    blocks: list[PredictionBlock] = []
    folds: list[dict[str, float]] = []
    out_of_fold = _OutOfFold(len(y))
    for fold, (train, val) in enumerate(splitter.split(X, y)):
        model = clone(pipeline).fit(X[train], y[train])
        pred = _predictions(model.predict(X[val]), len(val))
        scores = score(task, y[val], pred)
        blocks.append(PredictionBlock("val", y[val], pred, ids[val], scores, fold=fold))
        folds.append(scores)
        out_of_fold.add(val, pred)
    if not folds:
        raise ValueError(f"the splitter {splitter!r} produced no folds")
    seen, oof_pred = out_of_fold.result(task)
    metrics = {"val": score(task, y[seen], oof_pred)}
    blocks.append(PredictionBlock("val", y[seen], oof_pred, ids[seen], metrics["val"]))

    final = clone(pipeline).fit(X, y)
    train_pred = _predictions(final.predict(X), len(X))
    metrics["train"] = score(task, y, train_pred)
    blocks.insert(0, PredictionBlock("train", y, train_pred, ids, metrics["train"]))
    if data.has_test:
        assert data.X_test is not None and data.y_test is not None and data.test_sample_ids is not None
        test_pred = _predictions(final.predict(data.X_test), len(data.X_test))
        metrics["test"] = score(task, data.y_test, test_pred)
        blocks.append(PredictionBlock("test", data.y_test, test_pred, data.test_sample_ids, metrics["test"]))

    fitted = [
        FittedStep(step=index, operator=type(obj).__name__, obj=obj)
        for (index, _), (_, obj) in zip(built.steps, final.steps, strict=True)
    ]
    return PipelineResult(
        status="completed",
        task=task,
        metrics=metrics,
        folds=folds,
        predictions=blocks,
        fitted=fitted,
        classes=sorted(np.unique(y).tolist()) if task == "classification" else None,
        duration_s=time.perf_counter() - start,
        info=_info(final, splitter, data, len(folds)),
    )


def predict_with_fitted(fitted_steps: Sequence[FittedStep | Any], X: Any) -> np.ndarray:
    """Apply fitted steps to spectra ``X``: each transformer in step order, then the model.

    ``fitted_steps`` is ``PipelineResult.fitted`` (or the bare fitted objects in
    order); the result equals the pipeline's own predictions (1-D).
    """
    steps = list(fitted_steps)
    if steps and all(isinstance(s, FittedStep) for s in steps):
        steps = [s.obj for s in sorted(steps, key=lambda s: s.step)]
    if not steps:
        raise ValueError("predict_with_fitted needs at least one fitted step (the model)")
    Xt = np.asarray(X, dtype=np.float64)
    for transformer in steps[:-1]:
        Xt = transformer.transform(Xt)
    return _predictions(steps[-1].predict(Xt), len(Xt))


def default_splitter(task: str, y: np.ndarray) -> Any:
    """5-fold shuffled CV (stratified for classification), with fewer folds for tiny datasets."""
    if task == "classification":
        _, counts = np.unique(y, return_counts=True)
        n_splits = min(DEFAULT_SPLITS, int(counts.min()))
        if n_splits >= 2:
            return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=SEED)
    return KFold(n_splits=min(DEFAULT_SPLITS, len(y)), shuffle=True, random_state=SEED)


def _predictions(pred: Any, n: int) -> np.ndarray:
    """Predictions as a 1-D array: float64 for numbers (PLS gives ``(n, 1)``), objects for labels."""
    pred = np.asarray(pred)
    if pred.size != n:
        raise ValueError(f"the model returned {pred.shape} predictions for {n} samples; expected one each")
    pred = pred.reshape(n)
    return pred.astype(np.float64) if pred.dtype.kind in "fiub" else pred.astype(object)


def _seed(pipeline: Pipeline) -> None:
    """Give every unset ``random_state`` (nested ones too) the fixed seed."""
    unset = {
        key: SEED
        for key, value in pipeline.get_params(deep=True).items()
        if key.endswith("random_state") and value is None
    }
    if unset:
        pipeline.set_params(**unset)


def _seed_splitter(splitter: Any) -> None:
    # KFold refuses a random_state without shuffle; splitters that always shuffle have no flag.
    if getattr(splitter, "random_state", "absent") is None and getattr(splitter, "shuffle", True):
        splitter.random_state = SEED


class _OutOfFold:
    """Collects each sample's validation predictions across folds.

    A sample validated more than once (repeated CV) gets the mean prediction, or
    the most frequent label; samples never validated are left out.
    """

    def __init__(self, n: int) -> None:
        self._preds: list[list[Any]] = [[] for _ in range(n)]

    def add(self, indices: np.ndarray, pred: np.ndarray) -> None:
        for i, value in zip(indices.tolist(), pred.tolist(), strict=True):
            self._preds[i].append(value)

    def result(self, task: str) -> tuple[np.ndarray, np.ndarray]:
        seen = np.array([i for i, values in enumerate(self._preds) if values], dtype=np.intp)
        if task == "classification":
            pred = np.array([_most_frequent(self._preds[i]) for i in seen], dtype=object)
        else:
            pred = np.array([float(np.mean(self._preds[i])) for i in seen], dtype=np.float64)
        return seen, pred


def _most_frequent(values: list[Any]) -> Any:
    counts: dict[Any, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    best = max(counts.values())
    return min((value for value, count in counts.items() if count == best), key=str)


def _info(final: Pipeline, splitter: Any, data: SpectraDataset, n_folds: int) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cv": " ".join(repr(splitter).split()),
        "n_folds": n_folds,
        "n_train": data.n_cal,
        "n_test": data.n_test,
        "n_features": data.n_features,
    }
    model = final.steps[-1][1]
    model_params: Mapping[str, Any] = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    for key in ("n_components", "alpha", "C", "n_estimators"):
        value = model_params.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            info[key] = value
    return info
