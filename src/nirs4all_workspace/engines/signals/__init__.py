"""The signals engine: trading-strategy grid search over price bars.

Strategies and regime classifiers are vectorised functions over whole bar
arrays; each strategy variant is a pipeline whose signal is stored as its
change points only (``signals.parquet``); metrics, regime metrics and
regime-filtered replays are computed from those change points. See
``docs/signals.md`` for the conventions (execution, fees, annualisation).
"""

# Imported on first use: the catalog reads this engine's declaration (``.declaration``)
# without importing numpy or the engine itself.
import sys
import types
from importlib import import_module
from typing import Any

_EXPORTS = {
    "Bars": "bars",
    "align": "bars",
    "from_arrays": "bars",
    "load_bars": "bars",
    "CLASSIFIERS": "classifiers",
    "Classifier": "classifiers",
    "expand": "config",
    "demo_config": "demo",
    "make_demo_bars": "demo",
    "reference_config": "demo",
    "METRIC_DIRECTIONS": "engine",
    "SignalsEngine": "engine",
    "execute_variant": "engine",
    "METRICS": "evaluate",
    "BarContext": "evaluate",
    "Trades": "evaluate",
    "evaluate": "evaluate",
    "grouped_metrics": "evaluate",
    "trades_from_changes": "evaluate",
    "combine": "replay",
    "regime_filter": "replay",
    "replay": "replay",
    "SparseRegimes": "sparse",
    "SparseSignal": "sparse",
    "decode": "sparse",
    "decode_regimes": "sparse",
    "encode": "sparse",
    "encode_regimes": "sparse",
    "STRATEGIES": "strategies",
    "Strategy": "strategies",
}


class _Package(types.ModuleType):
    """Keeps ``replay`` and ``evaluate`` the functions when their submodules are imported later."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CLASSIFIERS",
    "METRICS",
    "METRIC_DIRECTIONS",
    "STRATEGIES",
    "BarContext",
    "Bars",
    "Classifier",
    "SignalsEngine",
    "SparseRegimes",
    "SparseSignal",
    "Strategy",
    "Trades",
    "align",
    "combine",
    "decode",
    "decode_regimes",
    "demo_config",
    "encode",
    "encode_regimes",
    "evaluate",
    "execute_variant",
    "expand",
    "from_arrays",
    "grouped_metrics",
    "load_bars",
    "make_demo_bars",
    "reference_config",
    "regime_filter",
    "replay",
    "trades_from_changes",
]
