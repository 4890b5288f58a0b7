"""The default grids fitted to a dataset's size, so that small data gets a grid that can run.

The built-in grids are written for the demo's 240 samples and 700 wavelengths.
On a dataset too small for them, every pipeline would fail the same way
(``n_splits=5 greater than the number of samples``, ``n_components`` above
what the training folds allow). Instead: fewer folds (at most one per sample,
or per sample of the rarest class), PLS component counts capped at
``min(smallest training fold - 1, n_features)``, and no smoothing window wider
than the spectra. A dataset the grids already fit keeps the grid unchanged, so
its pipelines keep their hashes.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from typing import Any

from ...errors import DatasetError
from .datasets import SpectraDataset

_SPLITTERS = ("kfold", "stratified_kfold")


def fit_default_grid(config: dict[str, Any], dataset: SpectraDataset) -> dict[str, Any]:
    """``config`` (a built-in grid) with its folds, PLS components and windows fitted to ``dataset``.

    Raises DatasetError when the data is too small for cross-validation at all.
    """
    fitted = copy.deepcopy(config)
    steps = fitted["pipeline"]
    folds = _fit_folds(steps, dataset)
    smallest_train = dataset.n_cal - math.ceil(dataset.n_cal / folds)
    max_components = min(smallest_train - 1, dataset.n_features)
    for step in steps:
        if isinstance(step, dict) and "_or_" in step:
            step["_or_"] = [p for p in step["_or_"] if _window(p) <= dataset.n_features]
        if isinstance(step, dict) and isinstance(step.get("model"), dict) and "_or_" in step["model"]:
            models = [_cap_components(m, max_components) for m in step["model"]["_or_"]]
            step["model"]["_or_"] = [m for m in models if m is not None]
    return fitted if fitted != config else config


def _fit_folds(steps: list[Any], dataset: SpectraDataset) -> int:
    splitter = next(s for s in steps if isinstance(s, dict) and s.get("class") in _SPLITTERS)
    params = splitter.setdefault("params", {})
    folds = int(params.get("n_splits", 5))
    if splitter["class"] == "stratified_kfold":
        label, rarest = min(Counter(dataset.y.tolist()).items(), key=lambda item: item[1])
        if rarest < 2:
            raise DatasetError(
                f"dataset {dataset.name!r}: class {label!r} has {rarest} sample; the default grid's "
                "stratified cross-validation needs at least 2 per class: add samples, merge that "
                "class, or give a --pipeline with its own splitter"
            )
        folds = min(folds, rarest)
    else:
        folds = min(folds, dataset.n_cal)
    if folds != params.get("n_splits"):
        params["n_splits"] = folds
    return folds


def _window(preprocessing: Any) -> int:
    """The widest smoothing window of a preprocessing (0 when it has none)."""
    steps = preprocessing if isinstance(preprocessing, list) else [preprocessing]
    return max(
        (int(s.get("params", {}).get("window_length", 0)) for s in steps if isinstance(s, dict)), default=0
    )


def _cap_components(model: Any, limit: int) -> Any | None:
    """A PLS alternative with its component counts capped at ``limit``; None when none fits."""
    if not isinstance(model, dict) or model.get("class") != "pls":
        return model
    value = model.get("params", {}).get("n_components")
    if isinstance(value, dict) and "_range_" in value:
        start, stop, *step = value["_range_"]
        if stop <= limit:
            return model
        if limit < 1:
            return None
        capped = copy.deepcopy(model)
        new = {"_range_": [start, limit, *step]} if start <= limit else limit
        capped["params"]["n_components"] = new
        return capped
    if isinstance(value, int) and value > limit:
        return None if limit < 1 else {**model, "params": {**model["params"], "n_components": limit}}
    return model
