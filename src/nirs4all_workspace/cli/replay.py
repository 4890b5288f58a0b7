"""``nirs4all replay``: stored signals replayed under a regime filter, alone or as a weighted ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from .options import JsonOption, WorkspaceOption
from .render import console, print_json, table


def _split(values: list[str] | None) -> list[str]:
    """``--strategies a,b --strategies c`` -> [a, b, c]."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def replay(
    dataset: Annotated[str, typer.Argument(help="Dataset name (e.g. SPY_1m).")],
    strategies: Annotated[
        list[str] | None,
        typer.Option(
            "--strategies", "-s", help="Variant names, folders, numbers or hashes; comma-separated."
        ),
    ] = None,
    regime: Annotated[
        str | None, typer.Option(help="Open positions only in this regime: CLASSIFIER=LABEL.")
    ] = None,
    weights: Annotated[
        str | None, typer.Option(help="Ensemble weights, one per strategy, e.g. 0.5,0.5 (default: equal).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="The bars the signals were computed on (default: the run's source).")
    ] = None,
    fees: Annotated[
        float | None, typer.Option(help="Fee per unit of exposure change (default: the run's).")
    ] = None,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Replay stored signals: regime-filtered (positions open only in a regime), combined by weights."""
    from ..engines.signals.queries import replay_stored
    from ..facade import Workspace

    names = _split(strategies)
    parsed = None
    if weights:
        try:
            parsed = [float(w) for w in weights.split(",")]
        except ValueError:
            raise InputError(f"--weights {weights!r} must be numbers separated by commas") from None
    report = replay_stored(
        Workspace.open(workspace, create=False), dataset, names, regime, parsed, data, fees
    )
    if json_output:
        print_json(report.to_dict())
        return
    out = console()
    columns = ["variant", "folder", "weight", "changes", "stored_sharpe", "stored_total_return"]
    out.print(
        table(f"{dataset}: replayed strategies", columns, [[m[c] for c in columns] for m in report.members])
    )
    where = f" in regime {report.regime['classifier']}={report.regime['regime']}" if report.regime else ""
    metrics = report.metrics
    out.print(
        f"replay{where}: {report.changes} position changes from {report.events} stored changes "
        f"over {report.total_bars} bars (fees {report.fees:g})"
    )
    out.print(table("replay metrics", ["metric", "value"], [[k, v] for k, v in metrics.items()]))
