"""Spectral operators: the numbers they produce and their scikit-learn manners."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.signal import detrend, savgol_filter
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from nirs4all_workspace.engines.sklearn import MSC, SNV, Detrend, SavitzkyGolay, load_dataset

from .paths import DATA


@pytest.fixture(scope="module")
def spectra() -> np.ndarray:
    """Real coffee spectra (60 x 1841)."""
    return load_dataset(DATA / "coffee.csv").X


def test_snv_rows_have_mean_zero_and_unit_std(spectra: np.ndarray) -> None:
    out = SNV().fit_transform(spectra)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, atol=1e-12)
    assert out.shape == spectra.shape


def test_snv_removes_scale_and_offset(spectra: np.ndarray) -> None:
    row = spectra[:1]
    np.testing.assert_allclose(SNV().fit_transform(3.0 * row + 0.7), SNV().fit_transform(row), atol=1e-10)


def test_snv_centres_a_flat_spectrum_without_warnings() -> None:
    out = SNV().fit_transform(np.full((2, 5), 4.0))
    assert np.array_equal(out, np.zeros((2, 5)))


def test_msc_reference_is_the_mean_of_the_fit_data(spectra: np.ndarray) -> None:
    msc = MSC().fit(spectra)
    np.testing.assert_allclose(msc.reference_, spectra.mean(axis=0))
    assert isinstance(msc.reference_, np.ndarray)


def test_msc_undoes_an_affine_distortion_of_the_reference(spectra: np.ndarray) -> None:
    msc = MSC().fit(spectra)
    distorted = np.vstack([0.2 + 1.7 * msc.reference_, -0.1 + 0.6 * msc.reference_])
    np.testing.assert_allclose(msc.transform(distorted), np.vstack([msc.reference_] * 2), atol=1e-10)


def test_msc_uses_the_fitted_reference_on_new_data(spectra: np.ndarray) -> None:
    msc = MSC().fit(spectra[:30])
    expected = []
    for row in spectra[30:]:
        slope, intercept = np.polyfit(msc.reference_, row, 1)
        expected.append((row - intercept) / slope)
    np.testing.assert_allclose(msc.transform(spectra[30:]), np.array(expected), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(("window", "order", "deriv"), [(11, 2, 0), (15, 2, 1), (21, 3, 2)])
def test_savitzky_golay_matches_scipy(spectra: np.ndarray, window: int, order: int, deriv: int) -> None:
    out = SavitzkyGolay(window_length=window, polyorder=order, deriv=deriv).fit_transform(spectra)
    expected = savgol_filter(spectra, window, order, deriv=deriv, axis=1, mode="interp")
    np.testing.assert_array_equal(out, expected)


def test_savitzky_golay_defaults() -> None:
    assert SavitzkyGolay().get_params() == {"window_length": 11, "polyorder": 2, "deriv": 0}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"window_length": 8}, "must be odd"),
        ({"window_length": 5, "polyorder": 5}, r"polyorder \(5\) must be less than window_length \(5\)"),
        ({"deriv": -1}, "deriv must be a non-negative integer"),
        ({"window_length": 7.0}, "window_length must be a non-negative integer"),
        ({"window_length": 99}, r"window_length \(99\) is larger than the number of wavelengths \(20\)"),
    ],
)
def test_savitzky_golay_rejects_impossible_params(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SavitzkyGolay(**params).fit(np.ones((3, 20)))


def test_detrend_removes_a_linear_baseline(spectra: np.ndarray) -> None:
    t = np.arange(spectra.shape[1])
    tilted = spectra + 0.3 + 1e-3 * t
    out = Detrend().fit_transform(tilted)
    np.testing.assert_allclose(out, Detrend().fit_transform(spectra), atol=1e-10)
    np.testing.assert_allclose(out, detrend(spectra, axis=1, type="linear"), atol=1e-10)
    np.testing.assert_allclose(Detrend().fit_transform(np.vstack([0.5 + 0.01 * t])), 0, atol=1e-12)


# check_estimator skips a few checks that need optional packages, and says so with a warning.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.parametrize(
    "operator",
    [SNV(), MSC(), Detrend(), SavitzkyGolay(window_length=1, polyorder=0)],
    ids=lambda op: type(op).__name__,
)
def test_operators_pass_scikit_learns_estimator_checks(operator: object) -> None:
    results = check_estimator(operator, on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert results
    assert failed == []


@pytest.mark.parametrize(
    "operator", [SNV(), MSC(), Detrend(), SavitzkyGolay(deriv=1)], ids=lambda op: type(op).__name__
)
def test_operators_clone_pickle_and_refuse_unfitted_use(operator: object, spectra: np.ndarray) -> None:
    copy = clone(operator)
    assert copy.get_params() == operator.get_params()
    with pytest.raises(NotFittedError):
        copy.transform(spectra)
    fitted = clone(operator).fit(spectra)
    restored = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(restored.transform(spectra), fitted.transform(spectra))
    assert fitted.n_features_in_ == spectra.shape[1]
    with pytest.raises(ValueError, match="features"):
        fitted.transform(spectra[:, :100])


def test_set_params_changes_the_filter(spectra: np.ndarray) -> None:
    sg = SavitzkyGolay().set_params(deriv=1, window_length=7)
    assert sg.get_params() == {"window_length": 7, "polyorder": 2, "deriv": 1}
    pipeline = make_pipeline(SNV(), sg)
    expected = savgol_filter(SNV().fit_transform(spectra), 7, 2, deriv=1, axis=1, mode="interp")
    np.testing.assert_array_equal(pipeline.fit_transform(spectra), expected)
