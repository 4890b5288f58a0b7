"""The built-in demo: a synthetic NIR dataset and a grid that shows what preprocessing does.

The spectra are generated in numpy (no files, no download) and are the same on
every machine: five constituents with overlapping Gaussian absorption bands,
then the artefacts of real diffuse-reflectance NIR (multiplicative scatter,
baseline offset and slope, noise). The target follows the protein bands, so
scatter corrections (SNV, MSC) and derivatives beat raw spectra clearly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .datasets import SpectraDataset

SEED = 20240917
N_CAL, N_TEST = 240, 60
WAVELENGTHS = np.arange(1100, 2500, 2)  # 700 wavelengths, 1100..2498 nm

# constituent -> (centre nm, width nm, height) of its absorption bands
_BANDS: dict[str, list[tuple[float, float, float]]] = {
    "water": [(1450, 45, 1.0), (1940, 55, 1.4)],
    "protein": [(1510, 35, 0.5), (2055, 40, 0.6), (2180, 35, 0.5)],
    "oil": [(1210, 25, 0.4), (1725, 25, 0.6), (2310, 30, 0.7)],
    "starch": [(1580, 60, 0.5), (2100, 50, 0.7)],
    "fibre": [(1360, 40, 0.3), (2270, 45, 0.6)],
}


def pure_spectra() -> np.ndarray:
    """Absorbance of each pure constituent at each wavelength (5 x 700)."""
    wl = WAVELENGTHS[None, :].astype(np.float64)
    rows = []
    for bands in _BANDS.values():
        rows.append(sum(h * np.exp(-0.5 * ((wl[0] - c) / w) ** 2) for c, w, h in bands))
    return np.array(rows)


def make_demo_dataset() -> SpectraDataset:
    """240 calibration + 60 test synthetic NIR spectra (700 wavelengths) with a protein target.

    Deterministic: the same arrays on every call and every machine.
    """
    rng = np.random.default_rng(SEED)
    n = N_CAL + N_TEST
    concentrations = rng.dirichlet(np.full(len(_BANDS), 2.0), size=n)
    absorbance = concentrations @ pure_spectra()
    scale = (WAVELENGTHS - WAVELENGTHS.mean()) / np.ptp(WAVELENGTHS)
    scatter = rng.uniform(0.5, 2.0, size=(n, 1))  # path length / particle size
    offset = rng.normal(0.0, 0.3, size=(n, 1))
    slope = rng.normal(0.0, 0.1, size=(n, 1))
    X = scatter * (absorbance + 0.3) + offset + slope * scale + rng.normal(0.0, 0.002, size=(n, len(scale)))
    protein_index = list(_BANDS).index("protein")
    y = 8.0 + 40.0 * concentrations[:, protein_index] + rng.normal(0.0, 0.15, size=n)
    return SpectraDataset(
        name="demo",
        source="builtin:demo",
        X=X[:N_CAL],
        y=y[:N_CAL],
        feature_names=[str(int(w)) for w in WAVELENGTHS],
        target_name="protein",
        task="regression",
        sample_ids=np.arange(N_CAL),
        X_test=X[N_CAL:],
        y_test=y[N_CAL:],
        test_sample_ids=np.arange(N_CAL, n),
    )


# The preprocessings both default grids try.
PREPROCESSINGS: list[Any] = [
    None,
    "snv",
    "msc",
    {"class": "savgol", "params": {"window_length": 15, "deriv": 1}},
    ["snv", {"class": "savgol", "params": {"window_length": 15}}],
    "detrend",
]


def demo_config() -> dict[str, Any]:
    """The default grid: 6 preprocessings x (10 PLS + 3 Ridge) = 78 pipelines, 5-fold CV."""
    return {
        "name": "demo",
        "description": "Which preprocessing and model suit the demo spectra best?",
        "pipeline": [
            {"class": "kfold", "params": {"n_splits": 5, "shuffle": True, "random_state": 42}},
            {"_or_": PREPROCESSINGS},
            {
                "model": {
                    "_or_": [
                        {"class": "pls", "params": {"n_components": {"_range_": [2, 20, 2]}}},
                        {"class": "ridge", "params": {"alpha": {"_log_range_": [0.001, 0.1, 3]}}},
                    ]
                }
            },
        ],
    }


def classification_config() -> dict[str, Any]:
    """The default grid for a classification target: 6 preprocessings x 4 classifiers."""
    return {
        "name": "default-classification",
        "description": "Which preprocessing and classifier separate the classes best?",
        "pipeline": [
            {"class": "stratified_kfold", "params": {"n_splits": 5, "shuffle": True, "random_state": 42}},
            {"_or_": PREPROCESSINGS},
            {
                "model": {
                    "_or_": [
                        {
                            "class": "logreg",
                            "params": {"C": {"_log_range_": [0.1, 10.0, 3]}, "max_iter": 2000},
                        },
                        {"class": "sklearn.linear_model.RidgeClassifier", "params": {"alpha": 1.0}},
                    ]
                }
            },
        ],
    }


def write_demo_dataset(folder: Path | str) -> Path:
    """Write the demo dataset as a nirs4all folder (Xcal, Ycal, Xval, Yval ``.csv``)."""
    return make_demo_dataset().write(folder)
