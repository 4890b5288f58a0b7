"""The scikit-learn engine: cross-validate a pipeline, refit it, return everything it produced.

``execute`` never writes files and never catches the pipeline's own exceptions:
the workspace stores the :class:`PipelineResult` or records the failure. Every
estimator whose ``random_state`` is left unset is seeded with 42 so that a spec
gives the same numbers in any process.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from ...errors import DatasetError
from ..base import FittedStep, PipelineResult, PipelineSpec, PredictionBlock
from .config import build_pipeline, expand
from .datasets import SpectraDataset, load_dataset
from .demo import classification_config, demo_config, make_demo_dataset
from .metrics import score

SEED = 42
DEFAULT_SPLITS = 5
_DATASET_OPTIONS = ("target", "task", "reference", "resample")


MAX_WARNINGS = 10  # distinct warning messages kept per pipeline

class SklearnEngine:
    """Runs pipelines of scikit-learn estimators and spectral operators on :class:`SpectraDataset`.

    Stateless and picklable, so joblib can ship it to worker processes.
    """

    name = "sklearn"

    def expand(self, config: Any) -> list[PipelineSpec]:
        """One spec per distinct variant of ``config`` (a list of steps or ``{pipeline: [...]}``).

        Raises :class:`ConfigError` for unknown classes, aliases or parameters.
        """
        return expand(config)

    def execute(self, spec: PipelineSpec, dataset: SpectraDataset) -> PipelineResult:
        """Cross-validate, refit and score ``spec`` on ``dataset`` (see :func:`execute_pipeline`).

        Warnings of the pipeline (e.g. a model that did not converge) are kept in
        ``result.info["warnings"]`` (so in ``pipeline.json``) instead of the console.
        """
        # One BLAS thread: scores then do not depend on -j or the machine's core count
        # (threaded BLAS sums in a different order), and -j parallelises whole pipelines.
        with warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=1):
            warnings.simplefilter("always")
            result = _execute_one(spec, dataset)
        messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        if messages:
            result.info["warnings"] = messages[:MAX_WARNINGS]
        return result

    def group_key(self, spec: PipelineSpec) -> str:
        """Consecutive specs with equal keys run together (:meth:`execute_group`): same splitter,
        preprocessing and task, any model."""
        from .groups import group_key

        return group_key(spec.config)

    def execute_group(self, specs: Sequence[PipelineSpec], dataset: SpectraDataset) -> list[PipelineResult]:
        """Execute specs that share :meth:`group_key`: preprocessing once per fold, PLS sizes from one fit.

        One result per spec, in order, with the numbers of :meth:`execute` (swept PLS
        sizes to ~1e-13). Exceptions propagate: run the specs one by one then.
        """
        from .groups import execute_group

        if len(specs) == 1:
            return [self.execute(specs[0], dataset)]
        with warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=1):
            warnings.simplefilter("always")
            results = execute_group(specs, dataset, _prefix_cache())
        messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        for result in results:
            if messages:
                result.info["warnings"] = messages[:MAX_WARNINGS]
        return results

    def load_dataset(self, source: Path | str, **options: Any) -> SpectraDataset:
        """Read a CSV/Parquet file or a nirs4all folder; options ``target`` and ``task``.

        With ``reference`` (a CSV naming each file), ``source`` is a folder of
        instrument files (see :mod:`.instruments`); ``resample`` puts spectra on
        different axes onto one.

        Raises :class:`DatasetError` for unreadable data or an unknown option.
        """
        unknown = sorted(set(options) - set(_DATASET_OPTIONS))
        if unknown:
            raise DatasetError(
                f"unknown dataset option(s) {', '.join(unknown)} for '{source}'; "
                f"options are: {', '.join(_DATASET_OPTIONS)}"
            )
        if options.get("reference") is not None:  # a folder of instrument files (the [formats] extra)
            from .instruments import load_instrument_folder

            resample = bool(options.get("resample"))
            target, task = options.get("target"), options.get("task")
            return load_instrument_folder(source, options["reference"], target, task, resample)
        if options.get("resample"):
            raise DatasetError("--resample applies to a folder of instrument files given with --reference")
        return load_dataset(source, target=options.get("target"), task=options.get("task"))

    def demo_dataset(self) -> SpectraDataset:
        """The built-in synthetic NIR regression dataset (240 calibration + 60 test samples)."""
        return make_demo_dataset()

    def default_config(self, task: str = "regression") -> dict[str, Any]:
        """The built-in grid for ``task``: preprocessings x PLS/Ridge, or x classifiers."""
        return classification_config() if task == "classification" else demo_config()

    def default_metric(self, task: str) -> tuple[str, str]:
        """The score that decides the best pipeline: rmse (lower) or accuracy (higher)."""
        return ("accuracy", "max") if task == "classification" else ("rmse", "min")

    def __repr__(self) -> str:
        return "SklearnEngine()"


_CACHE: list[Any] = []
_PLS = "sklearn.cross_decomposition.PLSRegression"


def _execute_one(spec: PipelineSpec, dataset: SpectraDataset) -> PipelineResult:
    """One spec; a PLSRegression goes the way of a sweep (a sweep of one), so its numbers are
    the same whether it runs alone or with the other sizes of its grid (e.g. when a run resumes).
    """
    model = spec.config["pipeline"][-1].get("model", {})
    if model.get("class") == _PLS:
        from .groups import execute_group

        return execute_group([spec], dataset, _prefix_cache())[0]
    return execute_pipeline(spec, dataset)


def _prefix_cache() -> Any:
    """This process's preprocessing cache, shared by the groups it executes (see :mod:`.prefix_cache`)."""
    if not _CACHE:
        from .prefix_cache import PrefixCache

        _CACHE.append(PrefixCache())
    return _CACHE[0]


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
