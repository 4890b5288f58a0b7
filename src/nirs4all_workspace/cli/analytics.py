"""``nirs4all analytics ...``: the analytics an engine declares (trading: scan, summary, analyze-grid).

The CLI knows no engine: the engine that made the dataset (or, for ``scan``,
every installed engine that declares it) answers through the functions its
declaration names, and the CLI prints what they return.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import JsonOption, WorkspaceOption
from .render import print_engine_output

app = typer.Typer(
    help="Analytics declared by engines (trading results: scan, summary, analyze-grid).", no_args_is_help=True
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
    from ..engines.declaration import EngineOutput
    from ..stored_results import analytics_engines

    outputs = [
        declaration.analytics_function("scan")(
            workspace or [None], min_sharpe=min_sharpe, metric=metric, dataset=dataset, top=top or None
        )
        for declaration in analytics_engines("scan", "analytics scan")
    ]
    if len(outputs) > 1:  # several engines declare a scan: their rows one after the other
        data = [row for o in outputs for row in (o.data if isinstance(o.data, list) else [o.data])]
        outputs = [EngineOutput(data, [block for o in outputs for block in o.blocks])]
    print_engine_output(outputs[0], json_output)


@app.command("summary")
def summary(
    dataset: Annotated[str, typer.Argument(help="Dataset name (e.g. SPY_1m).")],
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The dataset's analytics: counts, compression, best variants and regimes."""
    from ..stored_results import run_analytics

    print_engine_output(run_analytics("summary", "analytics summary", workspace, dataset), json_output)


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
    from ..stored_results import run_analytics

    output = run_analytics(
        "analyze_grid",
        "analytics analyze-grid",
        workspace,
        dataset,
        metric=metric,
        top=top,
        min_trades=min_trades,
    )
    print_engine_output(output, json_output)
