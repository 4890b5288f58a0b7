"""The signals engine: trading-strategy grid search over price bars.

Strategies and regime classifiers are vectorised functions over whole bar
arrays; each strategy variant is a pipeline whose signal is stored as its
change points only (``signals.parquet``); metrics, regime metrics and
regime-filtered replays are computed from those change points. See
``docs/signals.md`` for the conventions (execution, fees, annualisation).
"""

from .bars import Bars, align, from_arrays, load_bars
from .classifiers import CLASSIFIERS, Classifier
from .config import expand
from .demo import demo_config, make_demo_bars, reference_config
from .engine import METRIC_DIRECTIONS, SignalsEngine, execute_variant
from .evaluate import METRICS, BarContext, Trades, evaluate, grouped_metrics, trades_from_changes
from .replay import combine, regime_filter, replay
from .sparse import SparseRegimes, SparseSignal, decode, decode_regimes, encode, encode_regimes
from .strategies import STRATEGIES, Strategy

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
