"""Configurations of the sklearn engine: generators, canonical form, names and early errors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nirs4all_workspace.engines.sklearn.config import build_pipeline, expand
from nirs4all_workspace.engines.sklearn.generators import MAX_VARIANTS, expand_node
from nirs4all_workspace.errors import ConfigError

PLS = "sklearn.cross_decomposition.PLSRegression"
SG = "nirs4all_workspace.engines.sklearn.SavitzkyGolay"
SNV = "chemotools.scatter.StandardNormalVariate"  # the snv alias (chemotools since issue 14)


def pls_values(config: Any) -> list[Any]:
    return [spec.params["model.n_components"] for spec in expand(config)]


# generators ---------------------------------------------------------------


def test_range_includes_its_upper_bound() -> None:
    assert expand_node({"_range_": [2, 8, 2]}) == [2, 4, 6, 8]
    assert expand_node({"_range_": [1, 3]}) == [1, 2, 3]
    assert expand_node({"_range_": {"from": 5, "to": 1, "step": -2}}) == [5, 3, 1]
    assert expand_node({"_range_": [2, 7, 2]}) == [2, 4, 6]


def test_range_keeps_ints_and_tidies_floats() -> None:
    ints = expand_node({"_range_": [2, 6, 2]})
    assert all(type(v) is int for v in ints)
    assert expand_node({"_range_": [0.1, 0.3, 0.1]}) == [0.1, 0.2, 0.3]


def test_log_range_is_geometric() -> None:
    assert expand_node({"_log_range_": [0.01, 1, 3]}) == [0.01, 0.1, 1.0]
    assert expand_node({"_log_range_": {"from": 1, "to": 1000, "num": 4}}) == [1.0, 10.0, 100.0, 1000.0]


@given(
    start=st.integers(-50, 50),
    length=st.integers(0, 40),
    step=st.integers(1, 7),
)
def test_integer_ranges_match_python_ranges(start: int, length: int, step: int) -> None:
    stop = start + length
    assert expand_node({"_range_": [start, stop, step]}) == list(range(start, stop + 1, step))


@given(choices=st.lists(st.integers(1, 30), min_size=1, max_size=12, unique=True), count=st.integers(1, 15))
def test_count_keeps_a_reproducible_subset_in_order(choices: list[int], count: int) -> None:
    node = {"_or_": choices, "count": count, "seed": 3}
    kept = expand_node(node)
    assert kept == expand_node(node)
    assert len(kept) == min(count, len(choices))
    assert kept == [c for c in choices if c in kept]


def test_count_with_another_seed_picks_other_values() -> None:
    picks = {tuple(expand_node({"_range_": [1, 100], "count": 5, "seed": seed})) for seed in range(5)}
    assert len(picks) > 1


def test_generators_combine_as_a_product_in_document_order() -> None:
    node = {"a": {"_or_": [1, 2]}, "b": {"_or_": ["x", "y"]}}
    assert expand_node(node) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]


def test_nested_generators_expand_inside_choices() -> None:
    config = [
        {
            "model": {
                "_or_": [
                    {"class": "pls", "params": {"n_components": {"_range_": [2, 4]}}},
                    {"class": "ridge", "params": {"alpha": {"_or_": [0.1, 1.0]}}},
                ]
            }
        }
    ]
    specs = expand(config)
    assert [s.name for s in specs] == ["pls-2", "pls-3", "pls-4", "ridge-0.1", "ridge-1"]
    assert [s.model for s in specs] == ["PLSRegression"] * 3 + ["Ridge"] * 2


def test_or_with_null_and_sequences_of_steps() -> None:
    config = [{"_or_": [None, "snv", ["snv", "savgol"]]}, "pls"]
    specs = expand(config)
    assert [s.preprocessing for s in specs] == ["none", "SNV", "SNV > SavitzkyGolay"]
    assert [len(s.config["pipeline"]) for s in specs] == [1, 2, 3]


def test_grid_size_is_the_product_of_choices() -> None:
    config = {
        "pipeline": [
            {"_or_": [None, "snv", "msc"]},
            {"_or_": [None, {"class": "savgol", "params": {"deriv": {"_or_": [1, 2]}}}]},
            {"class": "pls", "params": {"n_components": {"_range_": [1, 10]}}},
        ]
    }
    assert len(expand(config)) == 3 * 3 * 10


def test_duplicate_variants_are_dropped() -> None:
    specs = expand(
        [
            {
                "_or_": [
                    "snv",
                    "SNV",
                    SNV,
                    "chemotools.scatter._standard_normal_variate.StandardNormalVariate",
                ]
            },
            "pls",
        ]
    )
    assert len(specs) == 1


# canonical form -------------------------------------------------------------


def test_aliases_and_paths_give_the_same_canonical_config() -> None:
    by_alias = expand(
        ["snv", {"class": "sg", "params": {"deriv": 1}}, {"class": "pls", "params": {"n_components": 8}}]
    )
    by_path = expand(
        {
            "pipeline": [
                SNV,
                {
                    "class": "nirs4all_workspace.engines.sklearn.operators.SavitzkyGolay",
                    "params": {"deriv": 1},
                },
                {
                    "model": {
                        "class": "sklearn.cross_decomposition._pls.PLSRegression",
                        "params": {"n_components": 8},
                    }
                },
            ]
        }
    )
    assert by_alias[0].config == by_path[0].config
    assert by_alias[0].config == {
        "pipeline": [
            {"class": SNV, "params": {}},
            {"class": SG, "params": {"deriv": 1}},
            {"model": {"class": PLS, "params": {"n_components": 8}}},
        ]
    }


def test_canonical_config_puts_the_splitter_first_and_keeps_the_task() -> None:
    (spec,) = expand(
        {"task": "regression", "pipeline": ["snv", {"class": "kfold", "params": {"n_splits": 3}}, "pls"]}
    )
    assert spec.config["pipeline"][0] == {"class": "sklearn.model_selection.KFold", "params": {"n_splits": 3}}
    assert spec.config["task"] == "regression"
    assert spec.params["splitter.n_splits"] == 3
    built = build_pipeline(spec.config)
    assert type(built.splitter).__name__ == "KFold"
    names = [(i, type(obj).__name__) for i, obj in built.steps]
    assert names == [(1, "StandardNormalVariate"), (2, "PLSRegression")]


def test_canonical_config_is_json_with_ints_kept() -> None:
    config = [{"class": "pls", "params": {"n_components": {"_range_": [2, 4, 2]}, "scale": False}}]
    for spec in expand(config):
        value = spec.config["pipeline"][-1]["model"]["params"]["n_components"]
        assert type(value) is int
        assert json.loads(json.dumps(spec.config)) == spec.config


def test_nested_estimators_are_canonical_steps() -> None:
    config = [
        {
            "class": "sklearn.compose.TransformedTargetRegressor",
            "params": {
                "regressor": {"class": "pls", "params": {"n_components": 3}},
                "transformer": {"class": "standard_scaler"},
            },
        }
    ]
    (spec,) = expand(config)
    params = spec.config["pipeline"][0]["model"]["params"]
    assert params["regressor"] == {"class": PLS, "params": {"n_components": 3}}
    assert spec.params["model.regressor"] == "PLSRegression(n_components=3)"
    model = build_pipeline(spec.config).steps[-1][1]
    assert type(model.regressor).__name__ == "PLSRegression"


def test_list_params_become_tuples_for_scikit_learn() -> None:
    (spec,) = expand([{"class": "minmax_scaler", "params": {"feature_range": [0, 2]}}, "pls"])
    assert spec.config["pipeline"][0]["params"]["feature_range"] == [0, 2]
    assert build_pipeline(spec.config).steps[0][1].feature_range == (0, 2)


def test_descriptions_of_a_variant() -> None:
    config = [
        "snv",
        {"class": "savgol", "params": {"deriv": 1}},
        {"class": "pls", "params": {"n_components": 8}},
    ]
    (spec,) = expand(config)
    assert spec.name == "snv-sg1_pls-8"
    assert spec.preprocessing == "SNV > SavitzkyGolay(deriv=1)"
    assert spec.model == "PLSRegression"
    assert spec.params == {
        "preprocessing": "SNV > SavitzkyGolay(deriv=1)",
        "savitzkygolay.deriv": 1,
        "model.n_components": 8,
    }


def test_params_are_never_empty_and_names_are_safe() -> None:
    steps = ["snv", "msc", "detrend", "standard_scaler", {"class": "savgol", "params": {"deriv": 2}}] * 3
    ridge = {"class": "ridge", "params": {"alpha": 0.001, "solver": "svd"}}
    specs = expand([*steps, ridge]) + expand(["pls"])
    for spec in specs:
        assert spec.params
        assert len(spec.name) <= 40
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*[a-z0-9]", spec.name)
    assert specs[0].name.endswith("_ridge-0.001-svd")
    assert specs[1].params == {"preprocessing": "none"}
    assert specs[0].params["savitzkygolay_3.deriv"] == 2


def test_single_variant_takes_the_config_name() -> None:
    assert expand({"name": "My PLS", "pipeline": ["pls"]})[0].name == "my-pls"
    grid = expand({"name": "grid", "pipeline": [{"_or_": ["pls", "ridge"]}]})
    assert [s.name for s in grid] == ["pls", "ridge"]


# errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            ["snv", "plss"],
            r"pipeline\[1\]: unknown class or alias 'plss'; use a full class path .* "
            r"or an alias: airpls, arpls, ",
        ),
        (
            [{"_or_": ["snv", "sklearn.linear_model.Ridgee"]}],
            r"pipeline\[0\]\._or_\[1\]: module 'sklearn\.linear_model' has no class 'Ridgee'",
        ),
        (["nosuchpackage.Model"], r"pipeline\[0\]: cannot import module 'nosuchpackage'"),
        (
            [{"class": "ridge", "params": {"alphas": 1}}],
            r"pipeline step 1: sklearn\.linear_model\.Ridge does not accept parameter\(s\) 'alphas'; "
            r"its parameters are: alpha, ",
        ),
        (
            [{"class": "ridge", "params": {"alpha": -1.0}}],
            r"sklearn\.linear_model\.Ridge: The 'alpha' parameter",
        ),
        ([{"class": "savgol", "params": {"window_length": 10}}, "pls"], r"window_length must be odd, got 10"),
        (["kfold", "snv", "stratified_kfold", "pls"], r"more than one cross-validation splitter"),
        (["kfold"], r"no model step"),
        ([{"model": "pls"}, "snv"], r"comes after the model marked with 'model:'"),
        (["pls", "snv"], r"StandardNormalVariate is the model but has no predict method"),
        ([{"model": "kfold"}], r"is a cross-validation splitter, not a model"),
        ([{"class": "pls", "param": {}}], r"unknown key\(s\) 'param' in step 'pls'"),
        (
            [{"class": "pls", "params": {"n_components": float("nan")}}],
            r"cannot be stored in a configuration",
        ),
        ({"pipeline": ["pls"], "steps": []}, r"unknown key\(s\) 'steps'; allowed keys are: pipeline"),
        ({"name": "x"}, r"has no 'pipeline' key"),
        ([], r"'pipeline' is empty"),
        ({"task": "clustering", "pipeline": ["pls"]}, r"task 'clustering' is unknown"),
        ("pls", r"must be a list of steps or a mapping"),
        ([{"_or_": ["pls"], "_range_": [1, 2]}], r"unexpected key\(s\): _range_"),
        ([{"class": "pls", "params": {"n_components": {"_range_": [5, 1]}}}], r"is empty; swap the bounds"),
        ([{"class": "pls", "params": {"n_components": {"_range_": [1, 5, 0]}}}], r"step must not be 0"),
        ([{"class": "ridge", "params": {"alpha": {"_log_range_": [0, 1, 3]}}}], r"needs positive bounds"),
        (
            [{"class": "pls", "params": {"n_components": {"_or_": [1, 2], "count": 0}}}],
            r"count must be a positive",
        ),
        ([{"class": "pls", "params": {"n_components": {"_or_": []}}}], r"non-empty list of choices"),
        (
            [{"class": "pls", "params": {"n_components": {"_range_": [1, MAX_VARIANTS + 1]}}}],
            r"variants \(limit 100,000\); narrow the generators or add 'count: N'",
        ),
    ],
)
def test_mistakes_raise_one_clear_config_error(config: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        expand(config)
    assert "\n" not in str(info.value)


def test_a_huge_product_is_refused_before_it_is_built() -> None:
    big = {"_range_": [1, 1000]}
    config = [{"class": "ridge", "params": {"alpha": big, "max_iter": big}}]
    with pytest.raises(ConfigError, match="1,000,000 variants"):
        expand(config)


def test_expand_checks_every_variant_before_returning() -> None:
    config = [{"class": "pls", "params": {"n_components": 2, "scale": {"_or_": [True, "yes"]}}}]
    with pytest.raises(
        ConfigError, match=r"pipeline \(variant 2\) step 1: .*PLSRegression: The 'scale' parameter"
    ):
        expand(config)
