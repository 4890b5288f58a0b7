"""Ridge models that differ only in ``alpha``, fitted from one decomposition of the data.

scikit-learn's ``Ridge`` (dense data, intercept, ``solver="auto"`` or
``"cholesky"``) centres ``X`` and ``y``, then solves ``(X'X + alpha I) w = X'y``, or
its kernel form ``(XX' + alpha I) d = y``, ``w = X'd`` when there are more features
than samples. The centring and the Gram matrix (``XX'`` or ``X'X``) do not depend
on ``alpha``: :func:`fit_ridge_alphas` computes them once for all the alphas of a
fold, then each alpha is one small Cholesky solve. The fitted objects are real
``Ridge`` instances with the attributes its ``fit`` sets; they predict like
``Ridge(alpha).fit(X, y)`` to ~1e-14 (the same arithmetic, summed in another order).

Other settings (another solver, ``positive``, no intercept, several targets) are
left to scikit-learn: :func:`ridge_key` is None for them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import linalg

if TYPE_CHECKING:
    from sklearn.linear_model import Ridge

_SOLVERS = ("auto", "cholesky")


def is_ridge(model: Any) -> bool:
    """scikit-learn's own ``Ridge`` (not a subclass), told without importing ``sklearn.linear_model``
    (a pipeline without Ridge never pays for that import)."""
    cls = type(model)
    return cls.__name__ == "Ridge" and cls.__module__ == "sklearn.linear_model._ridge"


def ridge_key(model: Any) -> tuple[Any, ...] | None:
    """What Ridge models must share to come from one decomposition; None when it does not apply."""
    if not is_ridge(model):  # not a subclass, whose fit may differ
        return None
    # The attributes, not get_params (which inspects the signature each time): Ridge stores them as given.
    if model.solver not in _SOLVERS or model.positive is not False or model.fit_intercept is not True:
        return None
    if not isinstance(model.alpha, (int, float)) or isinstance(model.alpha, bool):
        return None  # one alpha per target: scikit-learn's own loop
    return ("ridge",)


def fit_ridge_alphas(models: Sequence[Ridge], X: Any, y: Any) -> list[Ridge | None]:
    """A fitted copy of each model (same ``alpha`` order), or None where the shared fit does not
    apply (a 2-D target, a singular system): the caller fits those with scikit-learn."""
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype != np.float64:
        return [None] * len(models)
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "fiu" or len(y) != len(X):
        return [None] * len(models)
    y = y.astype(np.float64)
    n, p = X.shape
    x_mean = X.mean(axis=0)
    y_mean = y.mean()
    Xc = X - x_mean
    yc = (y - y_mean).reshape(-1, 1)
    kernel = p > n
    gram = Xc @ Xc.T if kernel else Xc.T @ Xc
    rhs = yc if kernel else Xc.T @ yc
    diagonal = gram.flat[:: gram.shape[0] + 1].copy()
    fitted: list[Ridge | None] = []
    for model in models:
        system = gram.copy()
        system.flat[:: system.shape[0] + 1] = diagonal + float(model.alpha)
        try:
            solution = linalg.solve(system, rhs, assume_a="pos", overwrite_a=True)
        except linalg.LinAlgError:
            fitted.append(None)
            continue
        coef = (Xc.T @ solution if kernel else solution).ravel()
        fitted.append(_fitted(model, coef, y_mean - x_mean @ coef, p))
    return fitted


def _fitted(model: Ridge, coef: np.ndarray, intercept: float, p: int) -> Ridge:
    fitted = copy.copy(model)  # an unfitted estimator: its parameters only
    fitted.n_features_in_ = p
    fitted.coef_ = coef
    fitted.n_iter_ = None
    fitted.solver_ = "cholesky"
    fitted.intercept_ = np.float64(intercept)
    return fitted
