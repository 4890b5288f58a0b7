"""The signals engine: strategy grid search over price bars, regime metrics, sparse outputs.

``SignalsEngine`` implements :class:`nirs4all_workspace.engines.base.Engine`.
Executing one variant computes its signal over the whole bar arrays, keeps its
change points, evaluates them (:mod:`.evaluate`) and, for every classifier of
the grid and every regime label, the metrics of the trades opened in that
regime. It returns, without writing anything:

- ``files["signals.parquet"]`` and ``files["regime_metrics.parquet"]``: written
  by the workspace into the pipeline folder;
- ``dataset_files["_classifiers/<name>_<digest>.parquet"]``: each classifier's
  change table, content-addressed, written once per data set by the workspace;
- one prediction block of partition ``val`` (the whole series: the grid is
  chosen on it) whose rows are the trades: ``sample_id`` the bar that decided
  the trade, ``y_pred`` its side (+1/-1, or the exposure), ``y_true`` the
  underlying's return from entry to exit;
- the strategy object as the fitted step (it recomputes its signal on new bars).

Classifier outputs and the prefix sums of a data set are computed once per
process and reused by every variant (module-level caches keyed by the bars'
fingerprint: the engine object itself stays small and picklable).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DatasetError
from ..base import FittedStep, PipelineResult, PipelineSpec, PredictionBlock, StoredPipeline
from .bars import Bars, align, load_bars
from .classifiers import Classifier
from .config import classifier_objects, expand, strategy_of
from .declaration import DECLARATION
from .demo import demo_config, make_demo_bars
from .evaluate import METRICS, BarContext, Evaluation, evaluate, grouped_metrics, trades_from_changes
from .sparse import SparseRegimes, content_digest, encode, encode_regimes, regime_table, signal_table

CLASSIFIERS_FOLDER = "_classifiers"
DIGEST_CHARS = 12
# The trading metrics' directions live with every other metric's in engines/base.py
# (the catalog ranks them without loading an engine); the engine declares which are its own.
METRIC_DIRECTIONS = dict(DECLARATION.metrics)
_DATASET_OPTIONS = ("target", "task", "symbol")
_CACHED_DATASETS = 2


@dataclass
class ClassifierSet:
    """Every classifier of a grid, evaluated on one data set."""

    classifiers: list[Classifier]
    codes: np.ndarray  # (classifiers, bars) int8 regime codes
    group_classifier: np.ndarray  # one row per (classifier, label): its classifier's index
    group_code: np.ndarray  # and the label's code
    files: dict[str, bytes]  # "_classifiers/<name>_<digest>.parquet" -> change table
    sparse: list[SparseRegimes]


class _DatasetCache:
    """Per-process results that every variant on one data set shares."""

    def __init__(self, bars: Bars) -> None:
        self.bars = bars
        self.contexts: dict[float, BarContext] = {}
        self.classifiers: dict[str, tuple[SparseRegimes, np.ndarray, str, bytes]] = {}
        self.sets: dict[str, ClassifierSet] = {}

    def context(self, bars_per_year: float) -> BarContext:
        found = self.contexts.get(bars_per_year)
        if found is None:
            found = self.contexts[bars_per_year] = BarContext.from_close(self.bars.close, bars_per_year)
        return found

    def classifier(self, classifier: Classifier) -> tuple[SparseRegimes, np.ndarray, str, bytes]:
        key = json.dumps(classifier.to_config(), sort_keys=True)
        found = self.classifiers.get(key)
        if found is None:
            codes, confidence = classifier.classify(self.bars)
            sparse = encode_regimes(codes, confidence, classifier.labels)
            digest = content_digest(
                self.bars.fingerprint, classifier.to_config(), sparse.bar_idx, sparse.codes, sparse.confidence
            )
            data = regime_table(
                sparse,
                self.bars.timestamps,
                classifier=classifier.name,
                config=classifier.to_config(),
                data_fingerprint=self.bars.fingerprint,
                dataset=self.bars.name,
            )
            name = f"{CLASSIFIERS_FOLDER}/{classifier.name}_{digest[:DIGEST_CHARS]}.parquet"
            found = self.classifiers[key] = (sparse, codes, name, data)
        return found

    def classifier_set(self, classifiers: list[Classifier]) -> ClassifierSet:
        key = json.dumps([c.to_config() for c in classifiers], sort_keys=True)
        found = self.sets.get(key)
        if found is None:
            outputs = [self.classifier(c) for c in classifiers]
            n = self.bars.n_samples
            codes = np.stack([o[1] for o in outputs]) if outputs else np.zeros((0, n), np.int8)
            group_classifier = np.asarray(
                [i for i, c in enumerate(classifiers) for _ in c.labels], dtype=np.int64
            )
            group_code = np.asarray([k for c in classifiers for k in range(len(c.labels))], dtype=np.int8)
            found = self.sets[key] = ClassifierSet(
                classifiers,
                codes,
                group_classifier,
                group_code,
                {o[2]: o[3] for o in outputs},
                [o[0] for o in outputs],
            )
        return found


_CACHES: OrderedDict[str, _DatasetCache] = OrderedDict()


def dataset_cache(bars: Bars) -> _DatasetCache:
    """The shared results of ``bars`` in this process (the last two data sets are kept)."""
    cache = _CACHES.get(bars.fingerprint)
    if cache is None:
        cache = _CACHES[bars.fingerprint] = _DatasetCache(bars)
        while len(_CACHES) > _CACHED_DATASETS:
            _CACHES.popitem(last=False)
    _CACHES.move_to_end(bars.fingerprint)
    return cache


def regime_rows(
    ctx: BarContext, evaluation: Evaluation, fee: float, regimes: ClassifierSet
) -> dict[str, Any]:
    """Columns of the regime table: one row per (classifier, label), trades opened in that regime."""
    trades = evaluation.trades
    trade_codes = (
        regimes.codes[:, trades.signal_bar] if len(trades) else np.zeros((len(regimes.classifiers), 0))
    )
    keep = trade_codes[regimes.group_classifier] == regimes.group_code[:, None]
    values = grouped_metrics(ctx, trades, fee, keep)
    names = [c.name for c in regimes.classifiers]
    return {
        "classifier": [names[i] for i in regimes.group_classifier],
        "regime": [
            regimes.classifiers[i].labels[k]
            for i, k in zip(regimes.group_classifier, regimes.group_code, strict=True)
        ],
        **{name: values[name] for name in METRICS},
    }


def regime_aware_sharpe(rows: dict[str, Any], min_trades: int) -> tuple[float, dict[str, Any] | None]:
    """The best sharpe of a regime with at least ``min_trades`` trades, and which regime it is."""
    sharpe = np.asarray(rows["sharpe"], dtype=np.float64)
    usable = (np.asarray(rows["n_trades"]) >= min_trades) & np.isfinite(sharpe)
    if not usable.any():
        return float("nan"), None
    best = int(np.flatnonzero(usable)[np.argmax(sharpe[usable])])
    return float(sharpe[best]), {
        "classifier": rows["classifier"][best],
        "regime": rows["regime"][best],
        "n_trades": int(rows["n_trades"][best]),
    }


def regime_table_bytes(variant: str, rows: dict[str, Any]) -> bytes:
    import io

    import polars as pl

    frame = pl.DataFrame(
        {"variant": [variant] * len(rows["classifier"]), **rows},
        schema_overrides=dict.fromkeys(METRICS, pl.Float64) | {"n_trades": pl.Int64},
    )
    sink = io.BytesIO()
    frame.write_parquet(sink, compression="zstd", statistics=False)
    return sink.getvalue()


def execute_variant(spec: PipelineSpec, bars: Bars) -> PipelineResult:
    """Signal, trades, metrics and regime metrics of one variant (see the module docstring)."""
    start = time.perf_counter()
    config = spec.config
    strategy = strategy_of(config)
    fee = float(config["fees"])
    bars_per_year = float(config.get("bars_per_year") or bars.bars_per_year)
    cache = dataset_cache(bars)
    ctx = cache.context(bars_per_year)
    signal, confidence = strategy.signals(bars)
    sparse = encode(signal, confidence)
    trades = trades_from_changes(sparse.bar_idx, sparse.values, bars.n_samples)
    evaluation = evaluate(ctx, trades, fee)
    regimes = cache.classifier_set(classifier_objects(config))
    rows = regime_rows(ctx, evaluation, fee, regimes)
    best_sharpe, best_regime = regime_aware_sharpe(rows, int(config.get("min_regime_trades", 10)))
    metrics = {**evaluation.metrics, "regime_aware_sharpe": best_sharpe}
    name = strategy.name
    files = {
        "signals.parquet": signal_table(
            sparse,
            bars.timestamps,
            variant=name,
            dataset=bars.name,
            data_fingerprint=bars.fingerprint,
            strategy=strategy.to_config(),
        ),
        "regime_metrics.parquet": regime_table_bytes(name, rows),
    }
    close = bars.close
    block = PredictionBlock(
        partition="val",
        y_true=close[trades.end] / close[trades.start] - 1.0,
        y_pred=trades.exposure.copy(),
        sample_ids=trades.signal_bar.copy(),
        metrics=metrics,
    )
    info = {
        "variant": name,
        "data": bars.describe(),
        "execution": "a signal decided at the close of bar t is executed at the close of bar t+1",
        "bars_per_year": bars_per_year,
        "signals": {
            "total_bars": sparse.total_bars,
            "changes": sparse.changes,
            "compression": sparse.compression,
        },
        "best_regime": best_regime,
        "classifiers": len(regimes.classifiers),
    }
    return PipelineResult(
        status="completed",
        task="trading",
        metrics={"val": metrics},
        predictions=[block],
        fitted=[FittedStep(step=0, operator="Strategy", obj=strategy)],
        duration_s=time.perf_counter() - start,
        info=info,
        files=files,
        dataset_files=dict(regimes.files),
    )


class SignalsEngine:
    """Grid search of trading strategies x regime classifiers on OHLCV bars (:class:`Bars`).

    Stateless and picklable; deterministic (no randomness at all).
    """

    name = "signals"
    packages = ("numpy", "polars", "pyarrow", "scipy")
    metric_directions = METRIC_DIRECTIONS
    declaration = DECLARATION

    def expand(self, config: Any) -> list[PipelineSpec]:
        """One spec per strategy variant (x fee); ConfigError for any mistake (see :mod:`.config`)."""
        return expand(config)

    def execute(self, spec: PipelineSpec, dataset: Bars) -> PipelineResult:
        return execute_variant(spec, dataset)

    def load_dataset(self, source: Path | str, **options: Any) -> Bars:
        """OHLCV bars from a CSV or Parquet file (option ``symbol`` for multi-symbol files)."""
        unknown = sorted(k for k in set(options) - set(_DATASET_OPTIONS))
        given = [k for k in ("target", "task") if options.get(k) is not None]
        if unknown or given:
            raise DatasetError(
                f"option(s) {', '.join(unknown + given)} do not apply to price bars ('{source}'); "
                "the signals engine takes: symbol"
            )
        return load_bars(source, symbol=options.get("symbol"))

    def demo_dataset(self) -> Bars:
        """The built-in synthetic one-minute bars (regime-switching random walk, 19,890 bars)."""
        return make_demo_bars()

    def default_config(self, task: str = "trading") -> dict[str, Any]:  # noqa: ARG002 - one task
        """The demo grid: 48 strategy variants x 9 regime classifiers."""
        return demo_config()

    def default_metric(self, task: str) -> tuple[str, str]:
        return DECLARATION.default_metric(task)

    def align_datasets(self, datasets: Sequence[Bars]) -> list[Bars]:
        """Several symbols restricted to their common timestamps (bar i is the same moment in all)."""
        return align(datasets)

    def summarize(self, dataset: Bars, pipelines: Sequence[StoredPipeline]) -> dict[str, bytes]:
        """``_analytics/`` files over every stored variant of ``dataset`` (see :mod:`.analytics`)."""
        from .analytics import analytics_files

        return analytics_files(dataset, pipelines)

    def __repr__(self) -> str:
        return "SignalsEngine()"
