"""``nirs4all replay``: stored strategies replayed under a regime filter, alone or as a weighted ensemble.

The engine that made the dataset answers (its declared ``replay`` analytics
command); the CLI parses the options and prints what it returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from .options import JsonOption, WorkspaceOption
from .render import print_engine_output


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
        Path | None,
        typer.Option(help="The bars the strategies ran on (default: the run's source)."),
    ] = None,
    fees: Annotated[
        float | None, typer.Option(help="Fee per unit of exposure change (default: the run's).")
    ] = None,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Replay stored strategies: regime-filtered (positions open only in a regime), combined by weights."""
    from ..stored_results import run_analytics

    names = _split(strategies)
    parsed = None
    if weights:
        try:
            parsed = [float(w) for w in weights.split(",")]
        except ValueError:
            raise InputError(f"--weights {weights!r} must be numbers separated by commas") from None
    output = run_analytics(
        "replay",
        "replay",
        workspace,
        dataset,
        strategies=names,
        regime=regime,
        weights=parsed,
        data=data,
        fees=fees,
    )
    print_engine_output(output, json_output)
