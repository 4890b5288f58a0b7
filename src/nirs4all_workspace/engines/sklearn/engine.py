"""The scikit-learn engine: cross-validate a pipeline, refit it, return everything it produced.

``execute`` never writes files and never catches the pipeline's own exceptions:
the workspace stores the :class:`PipelineResult` or records the failure. Every
estimator whose ``random_state`` is left unset is seeded with 42 so that a spec
gives the same numbers in any process.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from collections.abc import Mapping, Sequence
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ...errors import DatasetError
from ..base import PipelineResult, PipelineSpec
from .config import expand, untrusted_classes
from .datasets import SpectraDataset, load_dataset
from .declaration import DECLARATION
from .demo import classification_config, demo_config, make_demo_dataset
from .sized_grid import fit_default_grid

_DATASET_OPTIONS = ("target", "task", "reference", "resample")


MAX_WARNINGS = 10  # distinct warning messages kept per pipeline

class SklearnEngine:
    """Runs pipelines of scikit-learn estimators and spectral operators on :class:`SpectraDataset`.

    Stateless and picklable, so joblib can ship it to worker processes.
    """

    name = "sklearn"
    declaration = DECLARATION

    def expand(self, config: Any) -> list[PipelineSpec]:
        """One spec per distinct variant of ``config`` (a list of steps or ``{pipeline: [...]}``).

        Raises :class:`ConfigError` for unknown classes, aliases or parameters.
        """
        return expand(config)

    def untrusted_classes(self, config: Any, trusted: Sequence[str] = ()) -> list[str]:
        """Class paths ``config`` would import that are not scikit-learn, ours or in ``trusted``.

        Imports nothing it returns: callers vet a configuration from a zip with it
        before :meth:`expand` imports its classes (see ``config.untrusted_classes``).
        """
        return untrusted_classes(config, trusted)

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
        warming = _warm_imports(source)
        try:
            return self._load(source, options)
        finally:
            if warming is not None:
                warming.join()

    def _load(self, source: Path | str, options: dict[str, Any]) -> SpectraDataset:
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

    def default_config_for(self, dataset: SpectraDataset) -> dict[str, Any]:
        """The built-in grid for ``dataset``: fewer folds and PLS components when the data is small.

        Unchanged for data the grid fits (the demo's). Raises DatasetError when
        cross-validation is impossible (a class with one sample).
        """
        return fit_default_grid(self.default_config(dataset.task), dataset)

    def default_metric(self, task: str) -> tuple[str, str]:
        """The score that decides the best pipeline: rmse (lower) or accuracy (higher)."""
        return DECLARATION.default_metric(task)

    # -- capabilities (declaration.py): predict, export, rerun -------------
    def read_predict_data(
        self, source: Path, feature_names: Sequence[str] | None, n_features: int | None, target: str | None
    ) -> Any:
        """New spectra to predict, with the columns the model was fitted on (see ``spectra.read_spectra``)."""
        from .spectra import read_spectra

        return read_spectra(source, feature_names, n_features, target)

    def predict_fitted(self, fitted_steps: Sequence[Any], X: Any) -> np.ndarray:
        from .execution import predict_with_fitted

        return predict_with_fitted(fitted_steps, X)

    def dataset_from_files(
        self, name: str, source: str, files: Mapping[str, bytes], target: str | None, task: str | None
    ) -> SpectraDataset:
        """The training data a fullrun zip carries (``data/`` files), in memory."""
        from .spectra import dataset_from_files

        return dataset_from_files(name, source, files, target, task)

    def task_metrics(self, task: str) -> tuple[str, ...]:
        """The metrics this engine scores for ``task`` (a metric of another task is refused)."""
        from .metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS

        return CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS

    def __repr__(self) -> str:
        return "SklearnEngine()"


_CACHE: list[Any] = []
# Models a group fits from one decomposition (PLS sizes, Ridge alphas): alone they take the same
# path, so a variant gives the same numbers alone or in its group (e.g. when a run resumes).
_SHARED = ("sklearn.cross_decomposition.PLSRegression", "sklearn.linear_model.Ridge")


def _execute_one(spec: PipelineSpec, dataset: SpectraDataset) -> PipelineResult:
    """One spec; a PLSRegression or a Ridge goes the way of a group (a group of one), so its
    numbers are the same whether it runs alone or with the other variants of its grid.
    """
    model = spec.config["pipeline"][-1].get("model", {})
    if model.get("class") in _SHARED:
        from .groups import execute_group

        return execute_group([spec], dataset, _prefix_cache())[0]
    from .execution import execute_pipeline

    return execute_pipeline(spec, dataset)


# A data file this large takes a noticeable time to read (Parquet, CSV): scikit-learn is imported
# meanwhile, in a thread (reading releases the GIL in polars), instead of before or after it.
_WARM_FROM_BYTES = 4 * 2**20


def _warm_imports(source: Path | str) -> threading.Thread | None:
    """Start importing what executing pipelines needs while a big data file is read; None when there
    is nothing to gain (already imported, or a small file, a folder, a missing path)."""
    if f"{__package__}.groups" in sys.modules:
        return None
    try:
        if not Path(source).is_file() or Path(source).stat().st_size < _WARM_FROM_BYTES:
            return None
    except OSError:
        return None
    thread = threading.Thread(target=_import_execution, name="nirs4all-warm-imports", daemon=True)
    thread.start()
    return thread


def _import_execution() -> None:
    # scikit-learn, scipy, ikpls and the engine's executors. A failure is left to the import that
    # needs the module: it raises the error where the command reports it.
    with contextlib.suppress(Exception):
        import_module(f"{__package__}.groups")


def _prefix_cache() -> Any:
    """This process's preprocessing cache, shared by the groups it executes (see :mod:`.prefix_cache`)."""
    if not _CACHE:
        from .prefix_cache import PrefixCache

        _CACHE.append(PrefixCache())
    return _CACHE[0]
