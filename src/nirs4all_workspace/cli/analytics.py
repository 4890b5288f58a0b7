"""``nirs4all analytics ...``: the trading results of the signals engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from .options import JsonOption, WorkspaceOption
from .render import console, print_json, rows_json, table

app = typer.Typer(
    help="Trading analytics of the signals engine: scan, summary, analyze-grid.", no_args_is_help=True
)

WorkspacesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder; repeat to scan several (default: $NIRS4ALL_WORKSPACE, else ./workspace).",
        show_default=False,
    ),
]
_SHOWN = ("sharpe", "total_return", "max_drawdown", "win_rate", "n_trades", "regime_aware_sharpe")


def _render(title: str, frame: Any, columns: list[str]) -> None:
    columns = [c for c in columns if c in frame.columns]
    console().print(table(title, columns, frame.select(columns).rows()))


@app.command("scan")
def scan(
    min_sharpe: Annotated[
        float | None, typer.Option("--min-sharpe", help="Only variants with at least this sharpe.")
    ] = None,
    metric: Annotated[str, typer.Option(help="Metric to sort by (best first).")] = "sharpe",
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    top: Annotated[int, typer.Option(help="How many rows (0: all).")] = 20,
    json_output: JsonOption = False,
    workspace: WorkspacesOption = None,
) -> None:
    """Strategy variants across datasets and workspaces (from their catalogs), best first."""
    from ..engines.signals.queries import scan as scan_catalogs

    frame = scan_catalogs(workspace or [None], min_sharpe, metric, dataset, top or None)
    if json_output:
        print_json(rows_json(frame.to_dicts()))
        return
    several = frame.height and frame["workspace"].n_unique() > 1
    columns = (["workspace"] if several else []) + ["dataset", "pipeline_folder", *_SHOWN]
    threshold = f" with sharpe >= {min_sharpe:g}" if min_sharpe is not None else ""
    _render(f"signals variants{threshold}: {frame.height} by {metric}", frame, columns)


@app.command("summary")
def summary(
    dataset: Annotated[str, typer.Argument(help="Dataset name (e.g. SPY_1m).")],
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The dataset's analytics: counts, compression, best variants and regimes."""
    from ..engines.signals.queries import summary as read_summary
    from ..facade import Workspace

    stats = read_summary(Workspace.open(workspace, create=False), dataset)
    if json_output:
        print_json(stats)
        return
    out = console()
    data, compression = stats.get("data", {}), stats.get("compression", {})
    out.print(
        f"[bold]{escape(dataset)}[/]: {data.get('bars')} bars ({data.get('timeframe')}, "
        f"{data.get('first')} to "
        f"{data.get('last')}); {stats['variants']} variants x {stats['classifiers']} classifiers, "
        f"{stats['regime_rows']} regime rows",
        markup=True,
    )
    if compression.get("mean") is not None:
        out.print(
            f"stored signals: {stats['signal_changes']} changes, mean compression {compression['mean']:.4f} "
            f"(changes / bars; min {compression['min']:.4f}, max {compression['max']:.4f})"
        )
    columns = ["variant", "pipeline", "sharpe", "total_return", "max_drawdown", "n_trades"]
    rows = [[r.get(c) for c in columns] for r in stats.get("best_by_sharpe", [])]
    out.print(table("best variants by sharpe", columns, rows))
    columns = ["variant", "classifier", "regime", "sharpe", "total_return", "n_trades"]
    rows = [[r.get(c) for c in columns] for r in stats.get("best_regimes_by_sharpe", [])]
    out.print(table(f"best regimes by sharpe (>= {stats.get('min_regime_trades')} trades)", columns, rows))
    columns = ["strategy", "variants", "mean_sharpe", "best_sharpe", "mean_total_return"]
    out.print(table("strategy families", columns, [[r.get(c) for c in columns] for r in stats["families"]]))


@app.command("analyze-grid")
def analyze_grid(
    dataset: Annotated[str, typer.Argument(help="Dataset name (e.g. SPY_1m).")],
    top: Annotated[int, typer.Option(help="How many rows.")] = 10,
    metric: Annotated[
        str,
        typer.Option(help="regime_aware_sharpe ranks variant x classifier x regime; others rank variants."),
    ] = "regime_aware_sharpe",
    min_trades: Annotated[int, typer.Option(help="Regime cells need at least this many trades.")] = 10,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The best of the grid: regime cells (by regime-aware sharpe) or variants (by any metric)."""
    from ..engines.signals.queries import REGIME_METRIC
    from ..engines.signals.queries import analyze_grid as rank
    from ..facade import Workspace

    frame = rank(Workspace.open(workspace, create=False), dataset, metric, top, min_trades)
    if json_output:
        print_json(rows_json(frame.to_dicts()))
        return
    if metric == REGIME_METRIC:
        columns = [
            "variant",
            "classifier",
            "regime",
            REGIME_METRIC,
            "total_return",
            "max_drawdown",
            "n_trades",
        ]
    else:
        columns = ["variant", "pipeline", metric, *[c for c in _SHOWN if c != metric]]
    _render(f"{dataset}: top {frame.height} by {metric}", frame, columns)
