"""PLS sweeps from one fit and variants executed as a group: the numbers of separate fits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.preprocessing import StandardScaler

from nirs4all_workspace.engines.base import group_specs
from nirs4all_workspace.engines.sklearn import (
    SklearnEngine,
    SpectraDataset,
    load_dataset,
    predict_with_fitted,
)
from nirs4all_workspace.engines.sklearn.prefix_cache import PrefixCache
from nirs4all_workspace.engines.sklearn.sweep import fit_pls_counts
from nirs4all_workspace.experiment import execute_group_and_serialize
from nirs4all_workspace.library.safe_objects import pack

from .paths import DATA

REL = 1e-8


def _fermentation() -> SpectraDataset:
    """Real mid-infrared spectra of a fermentation (chemotools ships them), glucose as target."""
    from chemotools.datasets import load_fermentation_train

    X, y = load_fermentation_train()
    return SpectraDataset(
        name="fermentation",
        source="chemotools.datasets.load_fermentation_train",
        X=X.to_numpy(dtype=np.float64)[:, ::4],
        y=y.iloc[:, 0].to_numpy(dtype=np.float64),
        feature_names=[str(c) for c in X.columns[::4]],
        target_name="glucose",
        task="regression",
        sample_ids=np.arange(len(X)),
    )


def _synthetic(n: int = 50, p: int = 120, targets: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, p)).cumsum(axis=1)
    X[:, 5] = 3.0  # a constant wavelength: scikit-learn's std of 0 becomes 1
    coef = rng.normal(size=(p, targets))
    Y = X @ coef / p + rng.normal(scale=0.1, size=(n, targets))
    return X, (Y[:, 0] if targets == 1 else Y)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.max(np.abs(a - b)) <= REL * max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("targets", [1, 3])
def test_every_count_predicts_like_its_own_fit_synthetic(scale: bool, targets: int) -> None:
    X, y = _synthetic(targets=targets)
    X_new = _synthetic(n=15)[0]
    models = fit_pls_counts(PLSRegression(scale=scale), X, y, range(1, 16))
    assert sorted(models) == list(range(1, 16))
    for k, model in models.items():
        alone = PLSRegression(n_components=k, scale=scale).fit(X, y)
        assert type(model) is PLSRegression and model.n_components == k
        assert model.predict(X_new).shape == alone.predict(X_new).shape
        assert _close(model.predict(X_new), alone.predict(X_new)), k
        assert _close(model.coef_, alone.coef_), k
        assert _close(model.transform(X_new), alone.transform(X_new)), k


@pytest.mark.parametrize("scale", [True, False])
def test_every_count_predicts_like_its_own_fit_on_real_spectra(scale: bool) -> None:
    data = _fermentation()
    models = fit_pls_counts(PLSRegression(scale=scale), data.X, data.y, [1, 3, 6, 10])
    for k, model in models.items():
        alone = PLSRegression(n_components=k, scale=scale).fit(data.X, data.y)
        assert _close(model.predict(data.X), alone.predict(data.X)), k


def test_a_count_above_the_rank_bound_is_refused_like_scikit_learn() -> None:
    X, y = _synthetic(n=10, p=30)
    with pytest.raises(ValueError, match="upper bound"):
        fit_pls_counts(PLSRegression(), X, y, [2, 11])


def _grid(models: list[object]) -> dict[str, object]:
    return {
        "pipeline": [
            {"_or_": [None, "snv", ["snv", {"class": "savgol", "params": {"deriv": 1}}]]},
            {"model": {"_or_": models}},
        ]
    }


def _same_scores(a, b) -> None:
    assert a.status == b.status == "completed"
    for part, scores in a.metrics.items():
        for name, value in scores.items():
            assert abs(value - b.metrics[part][name]) <= REL * max(abs(value), 1e-12), (part, name)
    assert [f["rmse"] for f in a.folds] == pytest.approx([f["rmse"] for f in b.folds], rel=REL)


@pytest.mark.parametrize("scale", [True, False])
def test_a_group_scores_like_separate_pipelines_on_real_spectra(scale: bool) -> None:
    engine = SklearnEngine()
    data = _fermentation()
    pls = {"class": "pls", "params": {"n_components": {"_range_": [1, 8]}, "scale": scale}}
    specs = engine.expand(_grid([pls, {"class": "ridge", "params": {"alpha": 0.1}}]))
    groups = group_specs(engine, specs)
    assert [len(g) for g in groups] == [9, 9, 9]
    for group in groups:
        together = engine.execute_group(group, data)
        for spec, grouped in zip(group, together, strict=True):
            alone = engine.execute(spec, data)
            _same_scores(alone, grouped)
            ours, theirs = (predict_with_fitted(r.fitted, data.X) for r in (grouped, alone))
            assert _close(ours, theirs)
            assert grouped.info["group"]["variants"] == 9
        # the refit preprocessing is one object for the whole group, so the workspace stores it once
        firsts = {id(r.fitted[0].obj) for r in together if len(r.fitted) > 1}
        assert len(firsts) <= 1


def test_a_group_scores_like_separate_pipelines_with_a_test_partition() -> None:
    engine = SklearnEngine()
    data = load_dataset(DATA / "tiny_nirs")
    specs = engine.expand(_grid([{"class": "pls", "params": {"n_components": {"_range_": [1, 6]}}}]))
    for group in group_specs(engine, specs):
        for spec, grouped in zip(group, engine.execute_group(group, data), strict=True):
            alone = engine.execute(spec, data)
            _same_scores(alone, grouped)
            assert "test" in grouped.metrics
            test = predict_with_fitted(grouped.fitted, data.X_test)
            assert _close(test, predict_with_fitted(alone.fitted, data.X_test))


def test_a_pls_size_alone_gives_the_numbers_it_gets_in_its_sweep() -> None:
    """So a run that resumes (the missing sizes only) stores what the whole run would have."""
    engine = SklearnEngine()
    data = _fermentation()
    specs = engine.expand(_grid([{"class": "pls", "params": {"n_components": {"_range_": [1, 6]}}}]))
    for group in group_specs(engine, specs):
        together = engine.execute_group(group, data)
        for spec in (group[0], group[3]):
            alone = engine.execute(spec, data)
            grouped = together[group.index(spec)]
            assert alone.metrics == grouped.metrics
            for a, b in zip(alone.predictions, grouped.predictions, strict=True):
                np.testing.assert_array_equal(a.y_pred, b.y_pred)


def test_swept_models_pack_as_trusted_scikit_learn_objects() -> None:
    X, y = _synthetic()
    model = fit_pls_counts(PLSRegression(), X, y, [2, 4])[2]
    packed = pack(model)
    assert packed.format == "skops" and packed.untrusted == ()


def test_a_failing_variant_fails_alone_and_the_rest_of_its_group_completes() -> None:
    engine = SklearnEngine()
    data = load_dataset(DATA / "tiny_nirs")
    too_many = data.n_features + 5
    counts = {"_or_": [2, 3, too_many]}
    specs = engine.expand([{"model": {"class": "pls", "params": {"n_components": counts}}}])
    (group,) = group_specs(engine, specs)
    results = execute_group_and_serialize(engine, group, data)
    assert [r.status for r, _ in results] == ["completed", "completed", "failed"]
    assert results[0][1] and not results[2][1]
    assert results[0][0].metrics["val"]["rmse"] == pytest.approx(
        engine.execute(specs[0], data).metrics["val"]["rmse"], rel=REL
    )


def test_the_preprocessing_cache_stays_within_its_cap_and_recomputes_what_it_evicted() -> None:
    from nirs4all_workspace.engines.sklearn import SNV, SavitzkyGolay

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 100)), rng.normal(size=40)
    one_entry = X.nbytes + X[:10].nbytes
    cache = PrefixCache(cap_bytes=int(one_entry * 1.5))
    steps, prefix = ["snv", "sg"], [SNV(), SavitzkyGolay()]
    first = cache.apply("rows", steps, prefix, X, y, [X[:10]])
    assert cache.bytes <= cache.cap_bytes and cache.peak_bytes <= cache.cap_bytes
    second = cache.apply("rows", steps, prefix, X, y, [X[:10]])  # hit on the longest prefix kept
    assert cache.hits >= 1
    np.testing.assert_array_equal(first[1], second[1])
    cache.apply("other rows", steps, prefix, X + 1, y, [X[:10]])  # evicts the first rows
    again = cache.apply("rows", steps, prefix, X, y, [X[:10]])
    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_array_equal(first[2][0], again[2][0])
    assert cache.peak_bytes <= cache.cap_bytes
    with pytest.raises(ValueError, match="read-only"):
        again[1][0, 0] = 1.0


def test_a_zero_cap_disables_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIRS4ALL_PREPROCESS_CACHE_MB", "0")
    cache = PrefixCache()
    X = np.ones((5, 8)) + np.arange(8)
    cache.apply("rows", ["scaler"], [StandardScaler()], X, None, [])
    assert cache.cap_bytes == 0 and cache.peak_bytes == 0


def test_stored_pls_models_carry_no_training_scores_and_predict_like_their_own_fit() -> None:
    """The refit model of each size: no x_scores_/y_scores_ (n_samples x k each), same predictions."""
    engine = SklearnEngine()
    data = _fermentation()
    specs = engine.expand([{"model": {"class": "pls", "params": {"n_components": {"_or_": [1, 4, 7]}}}}])
    for spec, result in zip(specs, engine.execute_group(specs, data), strict=True):
        model = result.fitted[-1].obj
        k = spec.config["pipeline"][-1]["model"]["params"]["n_components"]
        assert type(model) is PLSRegression and model.n_components == k
        for name in ("x_scores_", "y_scores_", "_x_scores", "_y_scores"):
            assert not hasattr(model, name), name
        alone = PLSRegression(n_components=k).fit(data.X, data.y)
        assert _close(model.predict(data.X), alone.predict(data.X)), k
        assert _close(model.transform(data.X), alone.transform(data.X)), k
        assert pack(model).untrusted == ()


def _ridges(alphas: list[float], **params: object) -> list[dict[str, object]]:
    return [{"class": "ridge", "params": {"alpha": a, **params}} for a in alphas]


@pytest.mark.parametrize(("n", "p"), [(40, 120), (120, 40)])  # the kernel (n < p) and the primal form
def test_ridge_alphas_of_a_group_share_one_decomposition_and_score_like_scikit_learn(
    monkeypatch: pytest.MonkeyPatch, n: int, p: int
) -> None:
    from sklearn.linear_model import Ridge

    X, y = _synthetic(n=n, p=p)
    data = SpectraDataset("r", "r", X, y, [str(i) for i in range(p)], "y", "regression", np.arange(n))
    engine = SklearnEngine()
    specs = engine.expand(_grid(_ridges([0.001, 0.1, 10.0])))
    alone = [engine.execute(spec, data) for spec in specs]  # scikit-learn's own Ridge.fit, per variant
    fits = []
    original = Ridge.fit
    monkeypatch.setattr(Ridge, "fit", lambda self, *a, **k: fits.append(self) or original(self, *a, **k))
    for group in group_specs(engine, specs):
        for spec, grouped in zip(group, engine.execute_group(group, data), strict=True):
            _same_scores(alone[specs.index(spec)], grouped)
            model = grouped.fitted[-1].obj
            alpha = spec.config["pipeline"][-1]["model"]["params"]["alpha"]
            assert type(model) is Ridge and model.alpha == alpha
            ours = predict_with_fitted(grouped.fitted, X)
            assert _close(ours, predict_with_fitted(alone[specs.index(spec)].fitted, X))
            assert pack(model).untrusted == ()
    assert fits == []  # every alpha came from the fold's shared decomposition


def test_ridge_settings_the_shared_fit_does_not_cover_are_fitted_by_scikit_learn() -> None:
    X, y = _synthetic(n=40, p=60)
    data = SpectraDataset("r", "r", X, y, [str(i) for i in range(60)], "y", "regression", np.arange(40))
    engine = SklearnEngine()
    others = [
        *_ridges([0.1], solver="svd"),
        *_ridges([0.1], fit_intercept=False),
        *_ridges([0.1], positive=True),
    ]
    specs = engine.expand([{"model": {"_or_": [*_ridges([0.1, 1.0]), *others]}}])
    (group,) = group_specs(engine, specs)
    for spec, grouped in zip(group, engine.execute_group(group, data), strict=True):
        _same_scores(engine.execute(spec, data), grouped)


def test_a_ridge_alpha_alone_gives_the_numbers_it_gets_in_its_group() -> None:
    """So a resumed run (the missing alphas only) stores what the whole run would have."""
    engine = SklearnEngine()
    data = _fermentation()
    specs = engine.expand(_grid(_ridges([0.001, 0.1, 10.0])))
    for group in group_specs(engine, specs):
        together = engine.execute_group(group, data)
        alone = engine.execute(group[1], data)
        assert alone.metrics == together[1].metrics
        for a, b in zip(alone.predictions, together[1].predictions, strict=True):
            np.testing.assert_array_equal(a.y_pred, b.y_pred)


def test_a_group_without_ridge_does_not_import_scikit_learns_linear_models() -> None:
    """The Ridge shortcut costs a run without Ridge nothing (not even the import of sklearn.linear_model)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import numpy as np\n"
        "from nirs4all_workspace.engines.sklearn import SklearnEngine, SpectraDataset\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(40, 60)).cumsum(axis=1)\n"
        "data = SpectraDataset('d', 'd', X, X[:, 3] * 2, [str(i) for i in range(60)], 'y', 'regression',"
        " np.arange(40))\n"
        "engine = SklearnEngine()\n"
        "specs = engine.expand([{'model': {'class': 'pls', 'params': {'n_components': {'_or_': [1, 2]}}}}])\n"
        "assert [r.status for r in engine.execute_group(specs, data)] == ['completed', 'completed']\n"
        "print('sklearn.linear_model' in sys.modules)\n"
    )
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
