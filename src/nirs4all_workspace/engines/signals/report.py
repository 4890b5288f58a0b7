"""The session-report sections of the best strategy: equity, drawdown, price and regimes, trades.

Declared in ``declaration.py`` (``figures["session"]``); the report core calls
:func:`session_sections` and draws what it returns: each figure is a
``reports.svg.Chart`` (lines, filled areas, shaded spans, markers) that the core
draws as inline SVG in the session report and as a PNG in the pipeline's
``outputs/`` when asked (``--plots best``, ``nirs4all report``). This module
draws nothing itself (no matplotlib). The curves are replayed from the stored
change points on the bars the run recorded, with the fee of the variant, so
they match its metrics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...reports.svg import Chart, Layer
from ..base import ReportSection
from .cache import CLASSIFIERS_FOLDER, dataset_cache
from .evaluate import bar_returns, trades_from_changes
from .queries import bars_for, stored_signal
from .sparse import decode_regimes, read_regime_table

ACCENT = "#007a7a"
MUTED = "#8c959f"
REGIME_COLORS = ("#d0e8f2", "#fbe3c8", "#dcefd9", "#efd9ef", "#f6f1c1", "#e0e0e0")
MAX_TRADES = 20  # rows of the trade table: the last ones
REGIME_COLUMNS = ("n_trades", "sharpe", "total_return", "max_drawdown", "win_rate")


def _regimes(ws: Any, dataset: str, record: dict[str, Any]) -> tuple[str, np.ndarray, tuple[str, ...]] | None:
    """(classifier, per-bar codes, labels) of the regime the variant did best in, else its first."""
    shared = [n for n in record.get("dataset_files") or [] if n.startswith(f"{CLASSIFIERS_FOLDER}/")]
    if not shared:
        return None
    wanted = ((record.get("info") or {}).get("best_regime") or {}).get("classifier")
    chosen = next((n for n in shared if wanted and n.split("/", 1)[1].startswith(f"{wanted}_")), shared[0])
    sparse, _ = read_regime_table(ws.layout.dataset_shared_file(dataset, chosen))
    codes, _ = decode_regimes(sparse)
    return chosen.split("/", 1)[1].rsplit("_", 1)[0], codes, tuple(sparse.labels)


def _spans(codes: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, stop, code) of each run of one regime."""
    if not len(codes):
        return []
    cuts = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate([[0], cuts])
    stops = np.concatenate([cuts, [len(codes)]])
    return [(int(a), int(b), int(codes[a])) for a, b in zip(starts, stops, strict=True)]


def _curves(name: str, x: np.ndarray, equity: np.ndarray, hold: np.ndarray) -> tuple[Chart, Chart]:
    """The equity curve against buy and hold, and the drawdown."""
    equity_chart = Chart(
        f"equity: {name} against buy and hold",
        "bar",
        "equity (start = 1)",
        (
            Layer("line", x, equity, ACCENT, f"{name} (net of fees)"),
            Layer("line", x, hold, MUTED, "buy and hold"),
        ),
    )
    drawdown = equity / np.maximum.accumulate(equity) - 1.0
    drawdown_chart = Chart(
        f"drawdown of {name} (worst {drawdown.min() * 100:.2f} %)",
        "bar",
        "drawdown (%)",
        (Layer("fill", x, drawdown * 100.0, "#cf222e"),),
        height=260,
    )
    return equity_chart, drawdown_chart


def _price(name: str, close: np.ndarray, trades: Any, regimes: Any) -> Chart:
    """The price with the regimes shaded and the entries and exits marked."""
    layers: list[Layer] = []
    if regimes is not None:
        _, codes, labels = regimes
        spans: dict[int, list[tuple[int, int]]] = {}
        for start, stop, code in _spans(codes):
            spans.setdefault(code, []).append((start, stop))
        for code, pieces in spans.items():
            regime = labels[code] if 0 <= code < len(labels) else "warmup"  # code -1: not classified yet
            layers.append(
                Layer("spans", pieces, colour=REGIME_COLORS[code % len(REGIME_COLORS)], label=regime)
            )
    layers.append(Layer("line", np.arange(len(close)), close, "#24292f"))
    entries, exits = trades.start, trades.end[~trades.is_open]
    layers.append(Layer("points", entries, close[entries], "#1a7f37", "entry", marker="^"))
    layers.append(Layer("points", exits, close[exits], "#cf222e", "exit", marker="v"))
    where = f"regimes of {regimes[0]}" if regimes is not None else "no regime classifier"
    return Chart(f"price, {where}, trades of {name}", "bar", "close", tuple(layers))


def _trade_rows(bars: Any, trades: Any) -> list[list[Any]]:
    stamps = bars.timestamps.astype("datetime64[ns]").astype("datetime64[m]").astype(str)
    rows = []
    for i, (s, e, v, is_open) in enumerate(
        zip(trades.start, trades.end, trades.exposure, trades.is_open, strict=True)
    ):
        side = 1.0 if v > 0 else -1.0
        rows.append(
            [
                i + 1,
                stamps[s].replace("T", " "),
                "open" if is_open else stamps[e].replace("T", " "),
                "long" if v > 0 else "short",
                float(v),
                int(e - s),
                float(bars.close[e] / bars.close[s] - 1.0) * side,
            ]
        )
    return rows[-MAX_TRADES:]


def _regime_section(ws: Any, dataset: str, folder: str) -> list[ReportSection]:
    path = ws.layout.pipeline(dataset, folder).engine_file("regime_metrics.parquet")
    if not path.is_file():
        return []
    import polars as pl

    frame = pl.read_parquet(path)
    columns = [c for c in ("classifier", "regime", *REGIME_COLUMNS) if c in frame.columns]
    return [
        ReportSection(
            "Metrics by regime",
            "regimes",
            columns=columns,
            rows=[list(r) for r in frame.select(columns).iter_rows()],
            note="Trades grouped by the regime at the bar that decided them.",
        )
    ]


def session_sections(ws: Any, dataset: str, folder: str) -> list[ReportSection]:
    """The sections of strategy ``dataset/folder``; raises what the queries raise (missing bars...)."""
    member = stored_signal(ws, dataset, folder)
    bars = bars_for(ws, dataset, member.meta.get("data_fingerprint"), member.record.get("session"))
    config = member.record["config"]
    fee = float(config.get("fees", 0.0))
    ctx = dataset_cache(bars).context(float(config.get("bars_per_year") or bars.bars_per_year))
    trades = trades_from_changes(member.signal.bar_idx, member.signal.values, bars.n_samples)
    equity = np.cumprod(1.0 + np.nan_to_num(bar_returns(ctx, trades, fee)))
    x = np.arange(bars.n_samples)
    equity_chart, drawdown_chart = _curves(member.variant, x, equity, bars.close / bars.close[0])
    price_chart = _price(member.variant, bars.close, trades, _regimes(ws, dataset, member.record))
    rows = _trade_rows(bars, trades)
    return [
        ReportSection(
            "Equity and drawdown",
            "equity",
            {"equity.png": equity_chart, "drawdown.png": drawdown_chart, "price_regimes.png": price_chart},
            {
                "equity.png": "equity: the strategy against buy and hold",
                "drawdown.png": "drawdown: below the running peak",
                "price_regimes.png": f"price and regimes: entries and exits of {member.variant}",
            },
            note=f"{len(trades)} trades over {bars.n_samples} bars; fee {fee:g} per unit of exposure traded.",
        ),
        ReportSection(
            f"Trades (the last {len(rows)} of {len(trades)})",
            "trades",
            columns=["#", "entry", "exit", "side", "exposure", "bars held", "price return"],
            rows=rows,
        ),
        *_regime_section(ws, dataset, member.folder),
    ]
