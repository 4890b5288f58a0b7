"""The analytics commands this engine declares: ``nirs4all analytics scan|summary|analyze-grid``
and ``nirs4all replay``.

Each function reads what the workspace stored (:mod:`.queries`) and returns an
:class:`~nirs4all_workspace.engines.declaration.EngineOutput`: the values
``--json`` prints (rows of a table as a list of dicts), and the lines and tables the terminal shows, in this
engine's words. The CLI finds these functions through the declaration and
knows nothing of trading.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...facade import Workspace
from ..declaration import EngineOutput, EngineTable
from . import queries

_SHOWN = ("sharpe", "total_return", "max_drawdown", "win_rate", "n_trades", "regime_aware_sharpe")


def _table(title: str, frame: Any, columns: Sequence[str]) -> EngineTable:
    shown = [c for c in columns if c in frame.columns]
    return EngineTable(title, shown, frame.select(shown).rows())


def scan(
    roots: Sequence[Path | str | None],
    *,
    min_sharpe: float | None = None,
    metric: str = "sharpe",
    dataset: str | None = None,
    top: int | None = None,
) -> EngineOutput:
    """Strategy variants across datasets and workspaces (from their catalogs), best first."""
    frame = queries.scan(roots, min_sharpe, metric, dataset, top)
    several = frame.height and frame["workspace"].n_unique() > 1
    columns = (["workspace"] if several else []) + ["dataset", "pipeline_folder", *_SHOWN]
    threshold = f" with sharpe >= {min_sharpe:g}" if min_sharpe is not None else ""
    title = f"signals variants{threshold}: {frame.height} by {metric}"
    return EngineOutput(frame.to_dicts(), [_table(title, frame, columns)])


def summary(ws: Workspace, dataset: str) -> EngineOutput:
    """The dataset's analytics: counts, compression, best variants and regimes."""
    stats = queries.summary(ws, dataset)
    data, compression = stats.get("data", {}), stats.get("compression", {})
    blocks: list[Any] = [
        f"{dataset}: {data.get('bars')} bars ({data.get('timeframe')}, {data.get('first')} to "
        f"{data.get('last')}); {stats['variants']} variants x {stats['classifiers']} classifiers, "
        f"{stats['regime_rows']} regime rows"
    ]
    if compression.get("mean") is not None:
        blocks.append(
            f"stored signals: {stats['signal_changes']} changes, mean compression {compression['mean']:.4f} "
            f"(changes / bars; min {compression['min']:.4f}, max {compression['max']:.4f})"
        )
    columns = ["variant", "pipeline", "sharpe", "total_return", "max_drawdown", "n_trades"]
    rows = [[r.get(c) for c in columns] for r in stats.get("best_by_sharpe", [])]
    blocks.append(EngineTable("best variants by sharpe", columns, rows))
    columns = ["variant", "classifier", "regime", "sharpe", "total_return", "n_trades"]
    rows = [[r.get(c) for c in columns] for r in stats.get("best_regimes_by_sharpe", [])]
    title = f"best regimes by sharpe (>= {stats.get('min_regime_trades')} trades)"
    blocks.append(EngineTable(title, columns, rows))
    columns = ["strategy", "variants", "mean_sharpe", "best_sharpe", "mean_total_return"]
    rows = [[r.get(c) for c in columns] for r in stats["families"]]
    blocks.append(EngineTable("strategy families", columns, rows))
    return EngineOutput(stats, blocks)


def analyze_grid(
    ws: Workspace,
    dataset: str,
    *,
    metric: str = queries.REGIME_METRIC,
    top: int = 10,
    min_trades: int = 10,
) -> EngineOutput:
    """The best of the grid: regime cells (by regime-aware sharpe) or variants (by any metric)."""
    frame = queries.analyze_grid(ws, dataset, metric, top, min_trades)
    if metric == queries.REGIME_METRIC:
        columns = ["variant", "classifier", "regime", metric, "total_return", "max_drawdown", "n_trades"]
    else:
        columns = ["variant", "pipeline", metric, *[c for c in _SHOWN if c != metric]]
    title = f"{dataset}: top {frame.height} by {metric}"
    return EngineOutput(frame.to_dicts(), [_table(title, frame, columns)])


def replay(
    ws: Workspace,
    dataset: str,
    *,
    strategies: Sequence[str],
    regime: str | None = None,
    weights: Sequence[float] | None = None,
    data: Path | str | None = None,
    fees: float | None = None,
) -> EngineOutput:
    """Stored signals replayed under a regime filter, alone or as a weighted ensemble."""
    report = queries.replay_stored(ws, dataset, strategies, regime, weights, data, fees)
    columns = ["variant", "folder", "weight", "changes", "stored_sharpe", "stored_total_return"]
    members = EngineTable(
        f"{dataset}: replayed strategies", columns, [[m[c] for c in columns] for m in report.members]
    )
    where = f" in regime {report.regime['classifier']}={report.regime['regime']}" if report.regime else ""
    line = (
        f"replay{where}: {report.changes} position changes from {report.events} stored changes "
        f"over {report.total_bars} bars (fees {report.fees:g})"
    )
    metrics = EngineTable("replay metrics", ["metric", "value"], [[k, v] for k, v in report.metrics.items()])
    return EngineOutput(report.to_dict(), [members, line, metrics])
