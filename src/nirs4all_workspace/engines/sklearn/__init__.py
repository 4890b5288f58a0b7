"""The scikit-learn engine: spectral preprocessing, grid expansion, cross-validation.

``SklearnEngine`` implements :class:`nirs4all_workspace.engines.base.Engine`. The
operators are re-exported here because their public class path
(``nirs4all_workspace.engines.sklearn.SNV``) is what canonical configurations store.
"""

from .aliases import ALIASES
from .config import expand
from .datasets import SpectraDataset, load_dataset
from .demo import classification_config, demo_config, make_demo_dataset, write_demo_dataset
from .engine import SklearnEngine, default_splitter, execute_pipeline, predict_with_fitted
from .metrics import score
from .operators import MSC, SNV, Detrend, SavitzkyGolay

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
