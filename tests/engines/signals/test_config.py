"""Signals configurations: expansion with the shared generators, canonical form, clear errors."""

from __future__ import annotations

import json

import pytest

from nirs4all_workspace.engines.signals import SignalsEngine, demo_config, reference_config
from nirs4all_workspace.engines.signals.config import classifiers_of, expand
from nirs4all_workspace.errors import ConfigError


def test_the_reference_grid_has_238_strategies_and_65_classifiers():
    specs = expand(reference_config())
    assert len(specs) == 238
    assert len(classifiers_of(reference_config())) == 65
    assert len(specs) * len(specs[0].config["classifiers"]) == 15_470
    assert len(expand(demo_config())) == 48


def test_variants_are_concrete_and_named_after_their_parameters():
    config = {
        "strategies": {
            "class": "ma_crossover",
            "params": {"fast": {"_range_": [5, 10, 5]}, "slow": 20},
            "stop_loss": {"_or_": [None, 1.0]},
        },
        "classifiers": [{"class": "vol", "params": {"fast": 20}}],
        "fees": 0.0001,
    }
    specs = expand(config)
    assert [s.name for s in specs] == ["ma_5_20", "ma_5_20_sl_1.0", "ma_10_20", "ma_10_20_sl_1.0"]
    first = specs[1].config
    assert first["strategy"] == {"class": "ma_crossover", "params": {"fast": 5, "slow": 20}, "stop_loss": 1.0}
    assert first["classifiers"] == [
        {"class": "volatility", "params": {"fast": 20, "slow": 390, "threshold": 1.25}}
    ]
    assert first["fees"] == 0.0001
    assert first["execution"] == "next_close"
    assert specs[1].params == {
        "strategy": "ma_crossover",
        "fast": 5,
        "slow": 20,
        "stop_loss": 1.0,
        "fees": 0.0001,
        "classifiers": 1,
    }
    assert all(s.params and s.model and s.preprocessing for s in specs)
    assert [s.index for s in specs] == [0, 1, 2, 3]


def test_defaults_are_written_out_so_a_config_never_hides_a_value():
    spec = expand({"strategies": "rsi_momentum"})[0]
    assert spec.config["strategy"]["params"] == {"period": 14, "lower": 30, "upper": 70}
    assert spec.name == "rsi_14_30_70"
    assert spec.config["classifiers"] == []


def test_equal_values_give_one_variant_and_one_hash():
    specs = expand(
        {
            "strategies": [
                {"class": "bb", "params": {"num_std": 2}},
                {"class": "bb", "params": {"num_std": 2.0}},
            ]
        }
    )
    assert len(specs) == 1
    assert specs[0].name == "bb_20_2.0"


def test_fees_can_be_a_grid_too():
    specs = expand({"strategies": "breakout", "fees": {"_or_": [0.0, 0.001]}})
    assert [s.name for s in specs] == ["bo_20_fee_0.0", "bo_20_fee_0.001"]
    assert len({json.dumps(s.config, sort_keys=True) for s in specs}) == 2


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ([], "is a mapping"),
        ({"classifiers": []}, "has no 'strategies'"),
        ({"strategies": "macd"}, "unknown strategy 'macd'; choose one of: ma_crossover"),
        ({"strategies": {"class": "ma", "params": {"fast": 30, "slow": 20}}}, "needs fast < slow"),
        ({"strategies": {"class": "ma", "params": {"speed": 3}}}, "has no parameter(s) speed"),
        ({"strategies": {"class": "ma", "params": {"fast": 2.5}}}, "expected a whole number"),
        ({"strategies": {"class": "ma", "stop_loss": -1}}, "stop_loss: a percentage"),
        ({"strategies": {"class": "rsi", "params": {"upper": 40}}}, "upper: must be > 50"),
        ({"strategies": "ma", "fees": 1.5}, "fees: must be in [0, 1)"),
        ({"strategies": "ma", "classifiers": "weather"}, "unknown classifier 'weather'"),
        ({"strategies": "ma", "pipeline": []}, "unknown key(s) pipeline"),
        ({"strategies": {"_range_": [5, 1]}}, "is empty"),
    ],
)
def test_mistakes_are_refused_with_their_place(config, message):
    with pytest.raises(ConfigError) as caught:
        expand(config)
    assert message in str(caught.value)


def test_the_engine_expands_its_default_config():
    engine = SignalsEngine()
    assert engine.expand(engine.default_config()) == expand(demo_config())
