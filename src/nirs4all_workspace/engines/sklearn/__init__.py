"""The scikit-learn engine: spectral preprocessing, grid expansion, cross-validation.

``SklearnEngine`` implements :class:`nirs4all_workspace.engines.base.Engine`. The
operators are re-exported here because their public class path
(``nirs4all_workspace.engines.sklearn.SNV``) is what canonical configurations store.
"""

# Imported on first use: the catalog reads this engine's declaration (``.declaration``)
# without importing numpy or the engine itself.
from importlib import import_module
from typing import Any

_EXPORTS = {
    "ALIASES": "aliases",
    "expand": "config",
    "SpectraDataset": "datasets",
    "load_dataset": "datasets",
    "classification_config": "demo",
    "demo_config": "demo",
    "make_demo_dataset": "demo",
    "write_demo_dataset": "demo",
    "SklearnEngine": "engine",
    "default_splitter": "execution",
    "execute_pipeline": "execution",
    "predict_with_fitted": "execution",
    "score": "metrics",
    "MSC": "operators",
    "SNV": "operators",
    "Detrend": "operators",
    "SavitzkyGolay": "operators",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ALIASES",
    "MSC",
    "SNV",
    "Detrend",
    "SavitzkyGolay",
    "SklearnEngine",
    "SpectraDataset",
    "classification_config",
    "default_splitter",
    "demo_config",
    "execute_pipeline",
    "expand",
    "load_dataset",
    "make_demo_dataset",
    "predict_with_fitted",
    "score",
    "write_demo_dataset",
]
