"""Metrics agree with scikit-learn's where both are defined, and stay quiet where they are not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from nirs4all_workspace.engines.sklearn import score
from nirs4all_workspace.engines.sklearn.declaration import DECLARATION


def test_regression_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(10, 2, size=50)
    p = y + rng.normal(0, 0.5, size=50)
    scores = score("regression", y, p)
    assert set(scores) == {"rmse", "mae", "r2", "rpd"}
    assert scores["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, p)))
    assert scores["mae"] == pytest.approx(skm.mean_absolute_error(y, p))
    assert scores["r2"] == pytest.approx(skm.r2_score(y, p))
    assert scores["rpd"] == pytest.approx(np.std(y, ddof=1) / scores["rmse"])


def test_classification_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    labels = np.array(["a", "b", "c"], dtype=object)
    y = labels[rng.integers(0, 3, size=60)]
    p = np.where(rng.random(60) < 0.7, y, labels[rng.integers(0, 3, size=60)])
    scores = score("classification", y, p)
    assert set(scores) == {"accuracy", "balanced_accuracy", "f1"}
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y, p))
    assert scores["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, p))
    assert scores["f1"] == pytest.approx(skm.f1_score(y, p, average="macro"))


def test_every_metric_has_a_direction() -> None:
    keys = set(score("regression", [1.0, 2.0], [1.0, 2.5])) | set(score("classification", ["a"], ["a"]))
    assert keys <= set(DECLARATION.metrics)


def test_degenerate_cases_give_numbers_or_nan_without_warnings() -> None:
    one = score("regression", [3.0], [2.0])
    assert one["rmse"] == 1.0
    assert math.isnan(one["r2"])
    assert math.isnan(one["rpd"])
    assert score("regression", [1.0, 2.0], [1.0, 2.0])["rpd"] == math.inf
    unseen = score("classification", ["a", "a"], ["a", "b"])
    assert unseen["accuracy"] == 0.5
    assert unseen["balanced_accuracy"] == 0.5
    assert unseen["f1"] == pytest.approx((2 / 3 + 0) / 2)
