"""Signals configurations: parsing, grid expansion and the canonical form of a variant.

A configuration is a mapping::

    strategies:             # a strategy, a list of them, or a generator (required)
      _or_:
        - {class: ma_crossover, params: {fast: {_range_: [5, 20, 5]}, slow: 50},
           stop_loss: {_or_: [null, 1.0]}}
        - {class: rsi_momentum, params: {period: 14}}
    classifiers:            # regime classifiers crossed with every strategy (optional)
      - {class: volatility, params: {fast: 30, slow: 390}}
    fees: 0.0001            # fraction of the traded value per unit of exposure change (default 0)
    bars_per_year: null     # annualisation (default: from the bar spacing, 98,280 for 1-minute bars)
    min_regime_trades: 10   # trades a regime needs to count for regime_aware_sharpe
    name: my-grid           # optional; description: free text (ignored)

Generators (``_or_``, ``_range_``, ``_log_range_``, ``count``) work anywhere, as
for the scikit-learn engine; a list of strategies or classifiers means "each of
them". Every strategy variant (x each value of ``fees``) is one pipeline; every
classifier variant is evaluated against each of them.

The canonical form, hashed for the pipeline's identity, holds every value
(defaults filled in)::

    {"strategy": {"class": "ma_crossover", "params": {"fast": 5, "slow": 50}, "stop_loss": 1.0},
     "classifiers": [{"class": "volatility", "params": {...}}, ...],
     "fees": 0.0001, "execution": "next_close", "bars_per_year": null, "min_regime_trades": 10}
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from ...errors import ConfigError
from ..base import PipelineSpec
from ..generators import expand_node
from .classifiers import CLASSIFIERS, Classifier
from .families import format_value, resolve
from .strategies import STRATEGIES, Strategy

CONFIG_KEYS = (
    "strategies",
    "classifiers",
    "fees",
    "bars_per_year",
    "min_regime_trades",
    "name",
    "description",
    "engine",
)
EXECUTION = "next_close"  # a signal of bar t's close is executed at bar t+1's close
DEFAULT_MIN_REGIME_TRADES = 10


def _as_choices(node: Any) -> Any:
    """A plain list of strategies or classifiers means 'each of them' (an ``_or_``)."""
    return {"_or_": list(node)} if isinstance(node, list | tuple) else node


def parse(config: Any) -> dict[str, Any]:
    """The configuration as a mapping with known keys only (ConfigError otherwise)."""
    if not isinstance(config, Mapping):
        raise ConfigError(
            "a signals configuration is a mapping with 'strategies' (and optionally 'classifiers', "
            f"'fees'...), not {type(config).__name__}"
        )
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(map(str, unknown))} in the signals configuration; "
            f"keys are: {', '.join(CONFIG_KEYS)}"
        )
    if config.get("engine") not in (None, "signals"):
        raise ConfigError(f"this configuration is for engine {config['engine']!r}; run it with --engine")
    if "strategies" not in config:
        raise ConfigError("the signals configuration has no 'strategies'")
    return dict(config)


def canonical_strategy(node: Any, where: str) -> Strategy:
    family, params, extra = resolve(STRATEGIES, node, "strategy", where)
    unknown = sorted(set(extra) - {"stop_loss"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; a strategy has class, params, stop_loss"
        )
    stop = extra.get("stop_loss")
    if stop is not None:
        if isinstance(stop, bool) or not isinstance(stop, int | float) or not (0 < stop < 100):
            raise ConfigError(f"{where}.stop_loss: a percentage between 0 and 100 (or null), got {stop!r}")
        stop = float(stop)
    return Strategy(family.name, family.canonical(params, where), stop)


def canonical_classifier(node: Any, where: str) -> Classifier:
    family, params, extra = resolve(CLASSIFIERS, node, "classifier", where)
    if extra:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(extra))}; a classifier has class, params"
        )
    return Classifier(family.name, family.canonical(params, where))


def _number(value: Any, where: str, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if value < low or (high is not None and value >= high):
        bound = f"in [{low:g}, {high:g})" if high is not None else f">= {low:g}"
        raise ConfigError(f"{where}: must be {bound}, got {value!r}")
    return float(value)


def classifiers_of(config: Mapping[str, Any]) -> list[Classifier]:
    """Every distinct classifier variant of a configuration, in document order."""
    node = config.get("classifiers")
    if node is None:
        return []
    found: dict[str, Classifier] = {}
    for i, item in enumerate(expand_node(_as_choices(node), "classifiers")):
        classifier = canonical_classifier(item, f"classifiers (variant {i + 1})")
        found.setdefault(classifier.name, classifier)
    return list(found.values())


def expand(config: Any) -> list[PipelineSpec]:
    """One :class:`PipelineSpec` per distinct strategy variant (x fee), in document order.

    Everything is checked first: ConfigError names the place of the first mistake.
    """
    config = parse(config)
    classifiers = classifiers_of(config)
    bars_per_year = config.get("bars_per_year")
    if bars_per_year is not None:
        bars_per_year = _number(bars_per_year, "bars_per_year", 1e-9)
    min_trades = config.get("min_regime_trades", DEFAULT_MIN_REGIME_TRADES)
    if isinstance(min_trades, bool) or not isinstance(min_trades, int) or min_trades < 1:
        raise ConfigError(f"min_regime_trades: a positive whole number, got {min_trades!r}")
    fees = [_number(f, "fees", 0.0, 1.0) for f in expand_node(_as_choices(config.get("fees", 0.0)), "fees")]
    strategies = expand_node(_as_choices(config["strategies"]), "strategies")
    specs: list[PipelineSpec] = []
    seen: set[str] = set()
    for i, node in enumerate(strategies):
        strategy = canonical_strategy(node, f"strategies (variant {i + 1})")
        for fee in fees:
            canonical = {
                "strategy": strategy.to_config(),
                "classifiers": [c.to_config() for c in classifiers],
                "fees": fee,
                "execution": EXECUTION,
                "bars_per_year": bars_per_year,
                "min_regime_trades": min_trades,
            }
            key = json.dumps(canonical, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            name = strategy.name if len(fees) == 1 else f"{strategy.name}_fee_{format_value(fee)}"
            if config.get("name") and len(strategies) == 1 and len(fees) == 1:
                name = str(config["name"])
            specs.append(
                PipelineSpec(
                    config=canonical,
                    name=name,
                    params={
                        "strategy": strategy.family,
                        **strategy.params,
                        "stop_loss": strategy.stop_loss,
                        "fees": fee,
                        "classifiers": len(classifiers),
                    },
                    model=strategy.family,
                    preprocessing=(
                        f"stop-loss {format_value(strategy.stop_loss)}%"
                        if strategy.stop_loss
                        else "no stop-loss"
                    ),
                    index=len(specs),
                )
            )
    return specs


def strategy_of(config: Mapping[str, Any]) -> Strategy:
    """The :class:`Strategy` of a canonical variant configuration."""
    step = config["strategy"]
    return Strategy(step["class"], dict(step["params"]), step.get("stop_loss"))


def classifier_objects(config: Mapping[str, Any]) -> list[Classifier]:
    """The classifiers of a canonical variant configuration."""
    return [Classifier(c["class"], dict(c["params"])) for c in config.get("classifiers", [])]
