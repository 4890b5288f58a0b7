"""The signals benchmark's vectorbt part: the same stored signals simulated by vectorbt.

Runs in its own process (``python -m bench.signals --child vectorbt``), only where
vectorbt is importable (``pip install -e '.[bench]'``). vectorbt gets the
engine's convention: ``Portfolio.from_orders`` with target-percent sizes at
every bar (a signal of bar t's close is ordered at bar t+1's close), fees 0,
returns annualised with the same bars per year. Columns are strategy x
classifier, each filtered to one regime of the classifier (round robin), and
simulated in chunks so that memory stays bounded.

Agreement is measured two ways: on long-only versions of the signals, where
both conventions are identical (to ~1e-12); and on the long/short signals,
where vectorbt sizes each short against its free cash at every rebalancing,
so a few bars differ by ~1e-9 and the annualised ratios by ~1e-7.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

import numpy as np

from .signals import maxrss_mib, stored_variants

METRICS = ("total_return", "sharpe", "sortino", "max_drawdown")
TRADE_METRICS = ("n_trades", "win_rate", "avg_trade_bars")
Cell = tuple[dict[str, Any], str | None, str | None]  # (variant, classifier, regime label)


class _Simulator:
    """vectorbt set up for the bars: one call per chunk of dense signals."""

    def __init__(self, bars: Any) -> None:
        import pandas as pd
        import vectorbt as vbt

        self.vbt, self.pd, self.n = vbt, pd, bars.n_samples
        self.index = pd.DatetimeIndex(bars.timestamps.astype("datetime64[ns]"))
        self.close = pd.Series(bars.close, index=self.index)
        self.freq = pd.Timedelta(seconds=bars.bar_seconds)
        vbt.settings.returns["year_freq"] = self.freq * bars.bars_per_year  # sqrt(252 x 390) for 1m bars

    def run(self, signals: list[np.ndarray]) -> Any:
        size = np.zeros((self.n, len(signals)))
        for j, signal in enumerate(signals):
            size[1:, j] = signal[:-1]
        frame = self.pd.DataFrame(size, index=self.index)
        return self.vbt.Portfolio.from_orders(
            self.close, frame, size_type="targetpercent", init_cash=1.0, fees=0.0, freq=self.freq
        )


def _metrics(pf: Any) -> dict[str, np.ndarray]:
    return {
        "total_return": pf.total_return().to_numpy(),
        "sharpe": pf.sharpe_ratio().to_numpy(),
        "sortino": pf.sortino_ratio().to_numpy(),
        "max_drawdown": -pf.max_drawdown().to_numpy(),
    }


def _trades(pf: Any, columns: int) -> dict[str, np.ndarray]:
    records = pf.trades.records_arr
    count = np.bincount(records["col"], minlength=columns).astype(float)
    wins = np.bincount(records["col"], weights=(records["pnl"] > 0).astype(float), minlength=columns)
    held = np.bincount(records["col"], weights=records["exit_idx"] - records["entry_idx"], minlength=columns)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"n_trades": count, "win_rate": wins / count, "avg_trade_bars": held / count}


def _difference(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Largest difference, relative to the value when it is above 1 (undefined values skipped)."""
    both = np.isfinite(ours) & np.isfinite(theirs)
    if not both.any():
        return 0.0
    return float(np.max(np.abs(ours[both] - theirs[both]) / np.maximum(1.0, np.abs(theirs[both]))))


def compare(ws_root: Path, filtered: int, agreement: int, chunk: int) -> dict[str, Any]:
    """Times and agreement of vectorbt on the signals stored in ``ws_root`` (see the module docstring)."""
    import vectorbt as vbt

    from nirs4all_workspace.engines.signals.replay import regime_filter
    from nirs4all_workspace.engines.signals.sparse import decode

    bars, variants, regimes, ctx = stored_variants(ws_root)
    simulator = _Simulator(bars)
    start = time.perf_counter()
    warm = simulator.run([np.ones(bars.n_samples, np.int8), -np.ones(bars.n_samples, np.int8)])
    _metrics(warm), _trades(warm, 2)
    jit_s = time.perf_counter() - start

    names = sorted(regimes)
    cells: list[Cell] = [
        (v, c, regimes[c].labels[(i + j) % len(regimes[c].labels)])
        for i, v in enumerate(variants)
        for j, c in enumerate(names)
    ][:filtered]

    def dense(cell: Cell) -> np.ndarray:
        variant, classifier, label = cell
        sparse = variant["signal"]
        if classifier is not None:
            sparse = regime_filter(sparse, regimes[classifier], regimes[classifier].code_of(label))
        return decode(sparse)[0]

    def ours(cell: Cell) -> dict[str, float]:
        variant, classifier, label = cell
        return variant["metrics"] if classifier is None else variant["regimes"][(classifier, label)]

    sim_s = metrics_s = 0.0
    long_short = dict.fromkeys(METRICS, 0.0)
    for first in range(0, len(cells), chunk):
        part = cells[first : first + chunk]
        signals = [dense(c) for c in part]
        start = time.perf_counter()
        pf = simulator.run(signals)
        sim_s += time.perf_counter() - start
        start = time.perf_counter()
        theirs = _metrics(pf)
        _trades(pf, len(part))
        metrics_s += time.perf_counter() - start
        for name in METRICS:
            mine = np.asarray([ours(c)[name] for c in part], dtype=float)
            long_short[name] = max(long_short[name], _difference(mine, theirs[name]))
        del pf
        gc.collect()
    sample: list[Cell] = [(v, None, None) for v in variants] + cells[: max(0, agreement - len(variants))]
    return {
        "version": vbt.__version__,
        "columns": len(cells),
        "bars": bars.n_samples,
        "chunk": chunk,
        "jit_s": jit_s,
        "simulate_s": sim_s,
        "metrics_s": metrics_s,
        "maxrss_mib": maxrss_mib(),
        "long_short_max_difference": long_short,
        "agreement_columns": len(sample),
        "long_only_max_difference": _long_only(simulator, ctx, [dense(c) for c in sample], chunk),
    }


def _long_only(simulator: _Simulator, ctx: Any, signals: list[np.ndarray], chunk: int) -> dict[str, float]:
    """Largest differences on the long-only versions of ``signals`` (the same conventions on both sides)."""
    from nirs4all_workspace.engines.signals.evaluate import evaluate, trades_from_changes
    from nirs4all_workspace.engines.signals.sparse import encode

    worst = dict.fromkeys((*METRICS, *TRADE_METRICS), 0.0)
    for first in range(0, len(signals), chunk):
        part = [np.maximum(s, 0).astype(np.int8) for s in signals[first : first + chunk]]
        pf = simulator.run(part)
        theirs = {**_metrics(pf), **_trades(pf, len(part))}
        mine: dict[str, list[float]] = {k: [] for k in worst}
        for signal in part:
            sparse = encode(signal)
            metrics = evaluate(
                ctx, trades_from_changes(sparse.bar_idx, sparse.values, len(signal)), 0.0
            ).metrics
            for name in worst:
                mine[name].append(metrics[name])
        for name in worst:
            worst[name] = max(worst[name], _difference(np.asarray(mine[name]), theirs[name]))
        del pf
        gc.collect()
    return worst
