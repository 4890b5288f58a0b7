"""Spectral preprocessing as scikit-learn transformers.

Each operator works row-wise on spectra (samples x wavelengths). Fitted state is
kept in plain numpy attributes (``reference_``, ``n_features_in_``) so a fitted
operator can be serialized with skops or pickle and reloaded without this code
changing its numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import detrend, savgol_filter
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

try:
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # scikit-learn < 1.6 has it as a method only

    def _validate_data(estimator: Any, X: Any, reset: bool = True, **kwargs: Any) -> Any:
        return estimator._validate_data(X, reset=reset, **kwargs)


__all__ = ["MSC", "SNV", "Detrend", "SavitzkyGolay"]


class _SpectralTransformer(TransformerMixin, BaseEstimator):
    """Shared input checks: 2-D float64 spectra with the number of columns seen in fit."""

    def _check_params(self) -> None:
        """Raise ``ValueError`` for parameter values that cannot work, before any data is seen."""

    def _fit_input(self, X: Any) -> np.ndarray:
        self._check_params()
        return _validate_data(self, X, reset=True, dtype=np.float64)

    def _transform_input(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        return _validate_data(self, X, reset=False, dtype=np.float64, copy=True)


class SNV(_SpectralTransformer):
    """Standard normal variate: centre each spectrum and scale it to unit standard deviation.

    Removes multiplicative scatter and baseline offset sample by sample; a flat
    spectrum (zero deviation) is only centred.
    """

    def fit(self, X: Any, y: Any = None) -> SNV:  # noqa: ARG002 - scikit-learn's fit signature
        """Record the number of wavelengths; SNV learns nothing else."""
        self._fit_input(X)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return ``(x - mean(x)) / std(x)`` for each row ``x``."""
        X = self._transform_input(X)
        centred = X - X.mean(axis=1, keepdims=True)
        std = centred.std(axis=1, keepdims=True)
        return centred / np.where(std > 0, std, 1.0)


class MSC(_SpectralTransformer):
    """Multiplicative scatter correction against the mean spectrum of the fit data.

    Each spectrum ``x`` is regressed on the reference ``r`` (``x = a + b r``) and
    replaced by ``(x - a) / b``.
    """

    def fit(self, X: Any, y: Any = None) -> MSC:  # noqa: ARG002 - scikit-learn's fit signature
        """Store the mean spectrum of ``X`` as ``reference_``."""
        X = self._fit_input(X)
        self.reference_ = X.mean(axis=0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Correct each row against ``reference_``."""
        X = self._transform_input(X)
        check_is_fitted(self, "reference_")
        ref = self.reference_
        ref_c = ref - ref.mean()
        denom = float(ref_c @ ref_c)
        slope = (X - X.mean(axis=1, keepdims=True)) @ ref_c / denom if denom > 0 else np.ones(len(X))
        slope = np.where(slope != 0, slope, 1.0)
        intercept = X.mean(axis=1) - slope * ref.mean()
        return (X - intercept[:, None]) / slope[:, None]


class SavitzkyGolay(_SpectralTransformer):
    """Savitzky-Golay smoothing or derivative along the wavelengths of each spectrum.

    ``window_length`` must be odd and greater than ``polyorder``; ``deriv=1`` or
    ``2`` gives the first or second derivative (``scipy.signal.savgol_filter``,
    ``mode="interp"``).
    """

    def __init__(self, window_length: int = 11, polyorder: int = 2, deriv: int = 0) -> None:
        self.window_length = window_length
        self.polyorder = polyorder
        self.deriv = deriv

    def _check_params(self) -> None:
        for name in ("window_length", "polyorder", "deriv"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"SavitzkyGolay {name} must be a non-negative integer, got {value!r}")
        if self.window_length % 2 == 0 or self.window_length < 1:
            raise ValueError(f"SavitzkyGolay window_length must be odd, got {self.window_length}")
        if self.polyorder >= self.window_length:
            raise ValueError(
                f"SavitzkyGolay polyorder ({self.polyorder}) must be less than "
                f"window_length ({self.window_length})"
            )

    def fit(self, X: Any, y: Any = None) -> SavitzkyGolay:  # noqa: ARG002 - scikit-learn's fit signature
        """Check the parameters against the number of wavelengths."""
        X = self._fit_input(X)
        if self.window_length > X.shape[1]:
            raise ValueError(
                f"SavitzkyGolay window_length ({self.window_length}) is larger than "
                f"the number of wavelengths ({X.shape[1]})"
            )
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Filter each row with the Savitzky-Golay polynomial."""
        X = self._transform_input(X)
        return savgol_filter(
            X, int(self.window_length), int(self.polyorder), deriv=int(self.deriv), axis=1, mode="interp"
        )


class Detrend(_SpectralTransformer):
    """Remove the least-squares straight line from each spectrum (baseline slope and offset)."""

    def fit(self, X: Any, y: Any = None) -> Detrend:  # noqa: ARG002 - scikit-learn's fit signature
        """Record the number of wavelengths; Detrend learns nothing else."""
        self._fit_input(X)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Subtract each row's linear trend (``scipy.signal.detrend``)."""
        X = self._transform_input(X)
        return detrend(X, axis=1, type="linear")
