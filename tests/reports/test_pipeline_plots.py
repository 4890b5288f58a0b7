"""The plots of one pipeline: which ones, from which data, written where."""

from __future__ import annotations

import numpy as np
import pytest

from nirs4all_workspace.reports.pipeline_plots import (
    PipelinePlotInput,
    confusion_matrix,
    feature_axis,
    model_coefficients,
    pipeline_figures,
    score_lines,
)
from nirs4all_workspace.reports.pipelines import PartitionArrays


class Linear:
    """Looks like a fitted linear model to the plots."""

    def __init__(self, coef, n_features):
        self.coef_ = np.asarray(coef)
        self.n_features_in_ = n_features


def regression_input(model=None, names=None):
    y = np.linspace(0.0, 10.0, 30)
    return PipelinePlotInput(
        folder="0001_pls-4_abcdef",
        task="regression",
        classes=None,
        arrays={
            "train": PartitionArrays("train", y, y),
            "val": PartitionArrays("val", y, y + 0.5),
            "test": PartitionArrays("test", y[:5], y[:5] - 0.2),
        },
        scores={"val": {"rmse": 0.5, "r2": 0.97}, "test": {"rmse": 0.2}},
        model=model,
        feature_names=names,
    )


def test_regression_gets_predicted_vs_true_residuals_and_coefficients():
    figures = pipeline_figures(regression_input(Linear(np.ones((1, 4)), 4), ["1100", "1102", "1104", "1106"]))
    assert list(figures) == ["pred_vs_true.png", "residuals.png", "coefficients.png"]
    assert all(png.startswith(b"\x89PNG") for png in figures.values())


def test_a_model_without_coefficients_gets_no_coefficient_plot():
    assert "coefficients.png" not in pipeline_figures(regression_input(model=object()))


def test_classification_gets_a_confusion_matrix():
    labels = np.array(["a", "b", "a", "b", "c"], dtype=object)
    data = PipelinePlotInput(
        folder="0002_lda_abcdef",
        task="classification",
        classes=["a", "b", "c"],
        arrays={"val": PartitionArrays("val", labels, labels)},
        scores={"val": {"accuracy": 1.0}},
    )
    assert list(pipeline_figures(data)) == ["confusion_matrix.png"]


def test_no_predictions_no_plots():
    data = regression_input()
    data.arrays = {}
    assert pipeline_figures(data) == {}


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = confusion_matrix(np.array(["a", "a", "b"]), np.array(["a", "b", "b"]), ["a", "b"])
    assert matrix.tolist() == [[1, 1], [0, 1]]


@pytest.mark.parametrize(
    ("coef", "n_features", "shape"),
    [
        (np.ones(5), 5, (1, 5)),  # Ridge
        (np.ones((1, 5)), 5, (1, 5)),  # PLSRegression
        (np.ones((5, 1)), 5, (1, 5)),  # older PLSRegression: features x targets
        (np.ones((3, 5)), 5, (3, 5)),  # one row per class
    ],
)
def test_coefficients_come_out_as_targets_by_features(coef, n_features, shape):
    assert model_coefficients(Linear(coef, n_features)).shape == shape


def test_models_without_usable_coefficients():
    assert model_coefficients(object()) is None
    assert model_coefficients(Linear(np.array([np.nan, 1.0]), 2)) is None


def test_feature_axis_uses_wavelengths_only_when_they_are_wavelengths():
    x, label = feature_axis(["1100", "1102.5"], 2)
    assert label == "wavelength" and x.tolist() == [1100.0, 1102.5]
    assert feature_axis(["0", "1", "2"], 3)[1] == "feature index"
    assert feature_axis(["a", "b"], 2)[1] == "feature index"
    assert feature_axis(["1100"], 2)[0].tolist() == [0.0, 1.0]  # preprocessing changed the width


def test_score_lines_name_each_drawn_partition():
    assert score_lines(regression_input()) == ["val   rmse 0.5  r2 0.97", "test  rmse 0.2"]
