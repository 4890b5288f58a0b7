"""Scores of one set of predictions, under the names the engine declares (``declaration.py``).

Computed in plain numpy rather than with ``sklearn.metrics`` so that small folds
(one class missing, one sample) give a defined number or ``nan`` without warnings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

REGRESSION_METRICS = ("rmse", "mae", "r2", "rpd")
CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "f1")


def score(task: str, y_true: Any, y_pred: Any) -> dict[str, float]:
    """All the metrics of ``task`` ("regression" or "classification") as plain floats."""
    if task == "classification":
        return classification_scores(y_true, y_pred)
    return regression_scores(y_true, y_pred)


def regression_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    """rmse, mae, r2 and rpd (``std(y_true, ddof=1) / rmse``); ``nan`` where undefined."""
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if t.size == 0:
        return dict.fromkeys(REGRESSION_METRICS, float("nan"))
    err = p - t
    rmse = float(np.sqrt(np.mean(err**2)))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")
    sd = float(np.std(t, ddof=1)) if t.size > 1 else float("nan")
    # A perfect fit has an infinite RPD; a constant target has none.
    rpd = sd / rmse if rmse > 0 else (float("inf") if sd > 0 else float("nan"))
    return {"rmse": rmse, "mae": float(np.mean(np.abs(err))), "r2": r2, "rpd": rpd}


def classification_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    """accuracy, balanced accuracy (mean recall over true classes) and macro F1 over all labels seen."""
    t = np.asarray(y_true, dtype=object).ravel()
    p = np.asarray(y_pred, dtype=object).ravel()
    if t.size == 0:
        return dict.fromkeys(CLASSIFICATION_METRICS, float("nan"))
    hits = t == p
    recalls, f1s = [], []
    for label in sorted(set(t.tolist()) | set(p.tolist()), key=str):
        is_true, is_pred = t == label, p == label
        tp = float(np.sum(hits & is_true))
        n_true, n_pred = float(is_true.sum()), float(is_pred.sum())
        if n_true:
            recalls.append(tp / n_true)
        f1s.append(2 * tp / (n_true + n_pred))
    return {
        "accuracy": float(hits.mean()),
        "balanced_accuracy": float(np.mean(recalls)),
        "f1": float(np.mean(f1s)),
    }
