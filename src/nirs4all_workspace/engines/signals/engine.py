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

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DatasetError
from ..base import FittedStep, PipelineResult, PipelineSpec, PredictionBlock, StoredPipeline
from .bars import Bars, align, load_bars
from .cache import ClassifierSet, dataset_cache
from .config import classifier_objects, expand, strategy_of
from .declaration import DECLARATION
from .demo import demo_config, make_demo_bars
from .evaluate import METRICS, BarContext, Evaluation, evaluate, grouped_metrics, trades_from_changes
from .sparse import encode, signal_table

# The trading metrics' directions live with every other metric's in engines/base.py
# (the catalog ranks them without loading an engine); the engine declares which are its own.
METRIC_DIRECTIONS = dict(DECLARATION.metrics)
_DATASET_OPTIONS = ("target", "task", "symbol")


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
