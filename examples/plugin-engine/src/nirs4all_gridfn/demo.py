"""The demo of gridfn: a user function (ridge regression on polynomial features) and its data."""

from __future__ import annotations

from typing import Any

import numpy as np


def demo_table() -> Any:
    from .engine import Table

    rng = np.random.default_rng(7)
    x = np.sort(rng.uniform(-3.0, 3.0, 200))
    y = np.sin(x) + 0.3 * x + rng.normal(0.0, 0.2, x.size)
    return Table(name="gridfn_demo", source="built-in", columns={"x": x, "y": y})


def demo_config(task: str = "minimize") -> dict[str, Any]:  # noqa: ARG001 - the demo minimizes its loss
    return {
        "function": "nirs4all_gridfn.demo:polynomial_ridge",
        "task": "minimize",
        "grid": {"degree": [1, 3, 5, 7], "alpha": [0.0, 0.1, 10.0]},
    }


def _scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    error = y_pred - y_true
    rmse = float(np.sqrt(np.mean(error**2)))
    return {
        "loss": rmse,
        "rmse": rmse,
        "r2": 1.0 - float(np.sum(error**2) / np.sum((y_true - y_true.mean()) ** 2)),
    }


def polynomial_ridge(data: Any, degree: int, alpha: float) -> dict[str, Any]:
    """What a user writes: fit on the even points, score on the odd ones, return everything."""
    x, y = data["x"], data["y"]
    features = np.vander(x, degree + 1)
    train = np.arange(len(x)) % 2 == 0
    a = features[train]
    weights = np.linalg.solve(a.T @ a + alpha * np.eye(degree + 1), a.T @ y[train])
    predicted = features @ weights
    ids = np.arange(len(x))
    return {
        "metrics": {
            "train": _scores(y[train], predicted[train]),
            "val": _scores(y[~train], predicted[~train]),
        },
        "predictions": {
            "train": {"y_true": y[train], "y_pred": predicted[train], "sample_ids": ids[train]},
            "val": {"y_true": y[~train], "y_pred": predicted[~train], "sample_ids": ids[~train]},
        },
        "fitted": {"ridge weights": weights},
    }
