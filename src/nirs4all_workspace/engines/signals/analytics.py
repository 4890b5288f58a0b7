"""Dataset analytics over every stored strategy variant: ``runs/<dataset>/_analytics/``.

Rebuilt by the workspace at the end of each run (the engine's ``summarize``)
from the completed signals pipelines of the dataset (the newest run of each
configuration); the workspace writes the files, this module only makes bytes:

- ``performance_matrix.parquet``: one row per variant (pipeline folder,
  strategy, parameters as JSON and as ``param_<name>`` columns, fees, every
  metric, signal changes and compression);
- ``regime_performance.parquet``: one row per variant x classifier x regime:
  the metrics of the trades opened in that regime;
- ``correlation_matrix.parquet``: correlations of the per-bar net returns of
  the ``top`` variants by sharpe (default 50): a ``variant`` column, then one
  column per variant;
- ``summary_stats.json``: counts, the best variants and regimes, averages per
  strategy family, compression of the stored signals.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from ..base import StoredPipeline
from .bars import Bars
from .cache import dataset_cache
from .evaluate import METRICS, bar_returns, trades_from_changes
from .sparse import read_signal_table

ANALYTICS_FOLDER = "_analytics"
TOP_CORRELATED = 50
ALL_METRICS = (*METRICS, "regime_aware_sharpe")


def _parquet(frame: pl.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.write_parquet(sink, compression="zstd")
    return sink.getvalue()


def performance_matrix(pipelines: Sequence[StoredPipeline]) -> pl.DataFrame:
    """One row per variant: identity, parameters and metrics (from ``metrics.json``)."""
    rows = []
    for stored in pipelines:
        record = stored.record
        scores = json.loads(stored.read("metrics.json")).get("val", {})
        config = record.get("config", {})
        signals = record.get("info", {}).get("signals", {})
        rows.append(
            {
                "variant": record.get("name"),
                "pipeline": record["folder"],
                "number": record["number"],
                "strategy": record.get("model"),
                "params": json.dumps(config.get("strategy", {}).get("params", {}), sort_keys=True),
                "stop_loss": config.get("strategy", {}).get("stop_loss"),
                "fees": config.get("fees"),
                **{m: scores.get(m) for m in ALL_METRICS},
                "changes": signals.get("changes"),
                "total_bars": signals.get("total_bars"),
                "compression": signals.get("compression"),
                "session": record.get("session"),
            }
        )
    schema = {
        "variant": pl.String,
        "pipeline": pl.String,
        "number": pl.Int64,
        "strategy": pl.String,
        "params": pl.String,
        "stop_loss": pl.Float64,
        "fees": pl.Float64,
        **dict.fromkeys(ALL_METRICS, pl.Float64),
        "changes": pl.Int64,
        "total_bars": pl.Int64,
        "compression": pl.Float64,
        "session": pl.String,
    }
    frame = pl.DataFrame(rows, schema=schema)
    # One column per strategy parameter too (null where a family has no such parameter).
    names = sorted(
        {k for p in pipelines for k in p.record.get("config", {}).get("strategy", {}).get("params", {})}
    )
    values = [p.record.get("config", {}).get("strategy", {}).get("params", {}) for p in pipelines]
    columns = [pl.Series(f"param_{k}", [v.get(k) for v in values], dtype=pl.Float64) for k in names]
    return frame.with_columns(columns) if columns else frame


def regime_performance(pipelines: Sequence[StoredPipeline]) -> pl.DataFrame:
    """Every variant's ``regime_metrics.parquet``, with its pipeline folder."""
    frames = [
        pl.read_parquet(io.BytesIO(p.read("regime_metrics.parquet"))).with_columns(
            pl.lit(p.record["folder"]).alias("pipeline")
        )
        for p in pipelines
    ]
    if not frames:
        return pl.DataFrame(schema={"variant": pl.String, "pipeline": pl.String})
    frame = pl.concat(frames, how="diagonal_relaxed")
    front = ["variant", "pipeline", "classifier", "regime"]
    return frame.select(front + [c for c in frame.columns if c not in front])


def correlation_matrix(
    bars: Bars, pipelines: Sequence[StoredPipeline], performance: pl.DataFrame, top: int = TOP_CORRELATED
) -> pl.DataFrame:
    """Correlation of the per-bar net returns of the ``top`` variants by sharpe (same bars only)."""
    ranked = performance.filter(pl.col("sharpe").is_not_null() & pl.col("sharpe").is_finite())
    chosen = ranked.sort("sharpe", descending=True).head(top)["pipeline"].to_list()
    by_folder = {p.record["folder"]: p for p in pipelines}
    cache = dataset_cache(bars)
    names, series = [], []
    for folder in chosen:
        stored = by_folder[folder]
        sparse, meta = read_signal_table(stored.read("signals.parquet"))
        if meta.get("data_fingerprint") != bars.fingerprint:
            continue  # computed on other bars: not comparable bar by bar
        config = stored.record["config"]
        ctx = cache.context(float(config.get("bars_per_year") or bars.bars_per_year))
        trades = trades_from_changes(sparse.bar_idx, sparse.values, sparse.total_bars)
        series.append(bar_returns(ctx, trades, float(config.get("fees", 0.0))))
        names.append(_unique(stored.record.get("name") or folder, names))
    if not series:
        return pl.DataFrame(schema={"variant": pl.String})
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.atleast_2d(np.corrcoef(np.vstack(series)))
    return pl.DataFrame({"variant": names, **{name: matrix[:, i] for i, name in enumerate(names)}})


def _unique(name: str, taken: list[str]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name}#{k}", k + 1
    return candidate


def summary_stats(
    bars: Bars, performance: pl.DataFrame, regimes: pl.DataFrame, correlated: int, min_trades: int = 10
) -> dict[str, Any]:
    """The JSON summary: counts, best variants and regimes, per-family averages, compression."""

    def best(frame: pl.DataFrame, metric: str, n: int = 5, descending: bool = True) -> list[dict[str, Any]]:
        if metric not in frame.columns:
            return []
        usable = frame.filter(pl.col(metric).is_not_null() & pl.col(metric).is_finite())
        return usable.sort(metric, descending=descending).head(n).to_dicts()

    keep = ["variant", "pipeline", "sharpe", "total_return", "max_drawdown", "n_trades"]
    regime_keep = ["variant", "pipeline", "classifier", "regime", "sharpe", "total_return", "n_trades"]
    cells = regimes.filter(pl.col("n_trades") >= min_trades) if "n_trades" in regimes.columns else regimes
    families = (
        performance.group_by("strategy")
        .agg(
            pl.len().alias("variants"),
            pl.col("sharpe").filter(pl.col("sharpe").is_finite()).mean().alias("mean_sharpe"),
            pl.col("sharpe").filter(pl.col("sharpe").is_finite()).max().alias("best_sharpe"),
            pl.col("total_return").mean().alias("mean_total_return"),
        )
        .sort("strategy")
        .to_dicts()
    )
    compression = performance["compression"].drop_nulls()
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": bars.describe(),
        "variants": performance.height,
        "classifiers": regimes["classifier"].n_unique() if "classifier" in regimes.columns else 0,
        "regime_rows": regimes.height,
        "correlated_variants": correlated,
        "signal_changes": int(performance["changes"].drop_nulls().sum()),
        "compression": {
            "mean": float(compression.mean()) if len(compression) else None,
            "min": float(compression.min()) if len(compression) else None,
            "max": float(compression.max()) if len(compression) else None,
            "definition": "stored change rows / total bars",
        },
        "best_by_sharpe": [{k: r.get(k) for k in keep} for r in best(performance, "sharpe")],
        "best_by_total_return": [{k: r.get(k) for k in keep} for r in best(performance, "total_return")],
        "best_regimes_by_sharpe": [{k: r.get(k) for k in regime_keep} for r in best(cells, "sharpe")],
        "min_regime_trades": min_trades,
        "families": families,
    }


def _finite(value: Any) -> Any:
    """NaN and infinities as null, everywhere in a JSON-able value."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def analytics_files(bars: Bars, pipelines: Sequence[StoredPipeline]) -> dict[str, bytes]:
    """The four ``_analytics/`` files as bytes (keys ``_analytics/<name>``)."""
    performance = performance_matrix(pipelines)
    regimes = regime_performance(pipelines)
    correlation = correlation_matrix(bars, pipelines, performance)
    min_trades = min(
        (int(p.record.get("config", {}).get("min_regime_trades", 10)) for p in pipelines), default=10
    )
    summary = summary_stats(bars, performance, regimes, correlation.height, min_trades)
    return {
        f"{ANALYTICS_FOLDER}/performance_matrix.parquet": _parquet(performance),
        f"{ANALYTICS_FOLDER}/regime_performance.parquet": _parquet(regimes),
        f"{ANALYTICS_FOLDER}/correlation_matrix.parquet": _parquet(correlation),
        f"{ANALYTICS_FOLDER}/summary_stats.json": (
            json.dumps(_finite(summary), indent=2, sort_keys=True, default=str, allow_nan=False) + "\n"
        ).encode(),
    }
