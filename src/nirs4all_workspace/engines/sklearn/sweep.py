"""PLS sweeps at the cost of one fit: every smaller number of components from the largest.

PLS components are nested: the first ``k`` weights, loadings and scores of a fit
with ``K >= k`` components are those of a fit with ``k``. :func:`fit_pls_counts`
therefore fits once at the largest count and builds, for every count asked, a
real :class:`sklearn.cross_decomposition.PLSRegression` whose fitted attributes
are computed the way scikit-learn computes them (rotations from the truncated
weights and loadings, ``coef_`` rescaled, ``intercept_`` the target mean): it
predicts like ``PLSRegression(n_components=k).fit(X, y)``, pickles, loads with
skops as a trusted scikit-learn type and knows nothing of this module.

One target: the one fit is Improved Kernel PLS (``ikpls``, algorithm 1), which
needs two passes over ``X`` per component where scikit-learn's NIPALS needs about
five plus a copy per fit; it agrees with scikit-learn to ~1e-13. Several targets:
scikit-learn's own NIPALS at the largest count, truncated (bit-identical to
separate fits, since its power iterations depend on the targets).

The rotations ``W (P'W)^-1`` of an Improved Kernel PLS fit come from the
triangular recurrence ``r_i = (w_i - R_<i (P_<i' w_i)) / (p_i' w_i)`` (``P'W`` is
upper triangular: deflation makes ``p_i' w_j = 0`` for ``i > j``), so every count
costs a few vector products instead of a pseudo-inverse, and the columns a count
uses do not depend on the largest count fitted (a size alone gives the numbers it
gets in its sweep, bit for bit).

The fitted models carry no training scores (``x_scores_``, ``y_scores_``: an
``n_samples x k`` array each, up to 1 MB per stored model): nothing predicts or
transforms with them, and a stored model would otherwise hold a copy of its
training data's projection.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy.linalg import pinv
from sklearn.base import clone
from sklearn.cross_decomposition import PLSRegression

# Parameters of PLSRegression that a sweep keeps as they are (n_components is what varies).
_SWEEP_PARAMS = ("scale", "max_iter", "tol", "copy")


def sweep_key(model: Any) -> tuple[Any, ...] | None:
    """What PLS models must share to come from one fit; None for anything else.

    Only scikit-learn's own ``PLSRegression`` (not a subclass, whose ``fit`` may differ).
    """
    if type(model) is not PLSRegression:
        return None
    params = model.get_params(deep=False)
    return tuple(params.get(name) for name in _SWEEP_PARAMS)


def fit_pls_counts(
    template: PLSRegression, X: Any, y: Any, counts: Iterable[int], predict_only: bool = False
) -> dict[int, PLSRegression]:
    """A fitted ``PLSRegression`` for each count in ``counts``, from one fit at the largest.

    ``template`` gives ``scale`` (and the NIPALS settings for several targets).
    ``predict_only`` sets only what ``predict`` reads (models that only predict a
    validation fold and are never stored). Counts the one fit cannot
    give (past the numerically stable components) are missing from the result: the
    caller fits those separately. Raises ``ValueError``
    as scikit-learn would for a count above ``min(n_samples, n_features)``.
    """
    wanted = sorted({int(k) for k in counts})
    X = np.array(X, dtype=np.float64, copy=True, order="C")
    y = np.array(y, dtype=np.float64, copy=True)
    one_d = y.ndim == 1
    Y = y.reshape(-1, 1) if one_d else y
    n, p = X.shape
    top = wanted[-1]
    if wanted[0] < 1 or top > min(n, p):
        raise ValueError(
            f"`n_components` upper bound is {min(n, p)}. Got {top} instead. Reduce `n_components`."
        )
    if Y.shape[1] == 1:
        parts, stable = _ikpls_parts(X, Y, top, bool(template.scale))
    else:
        parts, stable = _nipals_parts(template, X, y, top)
    params = template.get_params(deep=False)  # once: clone() per count would inspect the class each time
    return {
        k: _model(type(template)(**{**params, "n_components": k}), parts, k, p, one_d, predict_only)
        for k in wanted
        if k <= stable
    }


def _center_scale(X: np.ndarray, Y: np.ndarray, scale: bool) -> tuple[np.ndarray, ...]:
    """scikit-learn's ``_center_scale_xy``, in place.

    The standard deviation of the centred columns is one pass (``einsum``) instead
    of ``X.std``'s three; it differs from it by rounding only (~1e-16 relative).
    """
    x_mean = X.mean(axis=0)
    X -= x_mean
    y_mean = Y.mean(axis=0)
    Y -= y_mean
    if scale:
        x_std = np.sqrt(np.einsum("ij,ij->j", X, X) / (X.shape[0] - 1))
        x_std[x_std == 0.0] = 1.0
        X /= x_std
        y_std = Y.std(axis=0, ddof=1)
        y_std[y_std == 0.0] = 1.0
        Y /= y_std
    else:
        x_std = np.ones(X.shape[1])
        y_std = np.ones(Y.shape[1])
    return x_mean, y_mean, x_std, y_std


def _ikpls_parts(X: np.ndarray, Y: np.ndarray, top: int, scale: bool) -> tuple[dict[str, Any], int]:
    from ikpls.numpy import PLS as IKPLS

    x_mean, y_mean, x_std, y_std = _center_scale(X, Y, scale)
    pls = IKPLS(algorithm=1, center_X=False, center_Y=False, scale_X=False, scale_Y=False, copy=False)
    pls.fit(X, Y, top)
    W, P, Q = (np.array(a, dtype=np.float64) for a in (pls.W, pls.P, pls.Q))
    # scikit-learn's sign convention (_svd_flip_1d): the largest |weight| of each component is positive.
    signs = np.sign(W[np.argmax(np.abs(W), axis=0), np.arange(W.shape[1])])
    signs[signs == 0] = 1.0
    W, P, Q = W * signs, P * signs, Q * signs
    parts = {
        "x_mean": x_mean, "y_mean": y_mean, "x_std": x_std, "y_std": y_std,
        "W": W, "P": P, "Q": Q, "C": Q, "R": _rotations(W, P), "n_iter": [1] * top,
    }  # fmt: skip
    return parts, int(pls.max_stable_components)


def _rotations(W: np.ndarray, P: np.ndarray) -> np.ndarray:
    """``W (P'W)^-1`` column by column (``P'W`` is upper triangular): column ``i`` uses only the
    first ``i + 1`` components, with the same operations whatever the number of components."""
    R = np.empty_like(W)
    for i in range(W.shape[1]):
        a = P[:, : i + 1].T @ W[:, i]
        R[:, i] = (W[:, i] - R[:, :i] @ a[:i]) / a[i]
    return R


def _nipals_parts(
    template: PLSRegression, X: np.ndarray, y: np.ndarray, top: int
) -> tuple[dict[str, Any], int]:
    big = clone(template).set_params(n_components=top).fit(X, y)
    parts = {
        "x_mean": big._x_mean, "y_mean": big._y_mean, "x_std": big._x_std, "y_std": big._y_std,
        "W": big.x_weights_, "P": big.x_loadings_, "Q": big.y_loadings_, "C": big.y_weights_,
        "R": None, "n_iter": list(big.n_iter_),
    }  # fmt: skip
    # scikit-learn stops early when the target residual is constant: later columns are zeros.
    return parts, len(big.n_iter_)


def _model(
    model: PLSRegression, parts: dict[str, Any], k: int, p: int, one_d: bool, predict_only: bool = False
) -> PLSRegression:
    """``model`` (unfitted, ``k`` components) fitted: attributes as scikit-learn's fit sets them,
    without the training scores; with ``predict_only``, only what ``predict`` reads."""
    Q = parts["Q"][:, :k]
    if parts["R"] is not None:  # Improved Kernel PLS: the triangular recurrence (see the module doc)
        rotations = parts["R"][:, :k]
    else:  # NIPALS, truncated: scikit-learn's own formula, so bit-identical to a separate fit
        W, P = parts["W"][:, :k], parts["P"][:, :k]
        rotations = np.dot(W, pinv(np.dot(P.T, W), check_finite=False))
    model.n_features_in_ = p
    model._predict_1d = one_d
    model._x_mean, model._y_mean = parts["x_mean"], parts["y_mean"]
    model._x_std, model._y_std = parts["x_std"], parts["y_std"]
    coef = np.dot(rotations, Q.T)
    model.coef_ = (coef * model._y_std).T / model._x_std
    model.intercept_ = model._y_mean
    if predict_only:
        return model
    # Stored models own their arrays (slices would keep the whole sweep's arrays alive in a pickle).
    model._x_mean, model._y_mean = parts["x_mean"].copy(), parts["y_mean"].copy()
    model._x_std, model._y_std = parts["x_std"].copy(), parts["y_std"].copy()
    model.intercept_ = model._y_mean
    C = parts["C"][:, :k].copy()
    model._norm_y_weights = False
    model.x_weights_, model.y_weights_ = parts["W"][:, :k].copy(), C
    model.x_loadings_, model.y_loadings_ = parts["P"][:, :k].copy(), Q.copy()
    model.n_iter_ = list(parts["n_iter"][:k])
    model.x_rotations_ = np.array(rotations, copy=True)
    model.y_rotations_ = np.dot(C, pinv(np.dot(Q.T, C), check_finite=False))
    model._n_features_out = k
    return model
