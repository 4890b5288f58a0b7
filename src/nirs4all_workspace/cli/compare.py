"""``nirs4all compare DATASET/A DATASET/B ...``: pipelines side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import JsonOption, WorkspaceOption
from .render import console, print_json, table


def compare(
    references: Annotated[
        list[str], typer.Argument(help="2 to 10 DATASET/PIPELINE (folder name, number or hash).")
    ],
    html_file: Annotated[
        Path | None,
        typer.Option("--html", help="Also write a self-contained page with the predictions overlaid."),
    ] = None,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Compare 2 to 10 pipelines: the params that differ and the scores side by side, the best marked."""
    from ..comparison import compare_pipelines
    from ..facade import Workspace

    comparison = compare_pipelines(Workspace.open(workspace, create=False), list(references))
    page = None
    if html_file is not None:
        from ..reports.comparison import write_comparison_page

        page = write_comparison_page(comparison, html_file)
    if json_output:
        print_json({**comparison.to_dict(), "html": str(page) if page else None})
        return
    out = console()
    names = [f"{i + 1}: {p.reference}" for i, p in enumerate(comparison.pipelines)]
    differing = [(key, *values) for key, values in comparison.differing.items()]
    title = f"params that differ ({len(comparison.same)} equal ones not shown)"
    if differing:
        out.print(table(title, ["param", *names], differing))
    else:
        out.print(f"every param is equal ({len(comparison.same)})")
    rows = []
    for row in comparison.scores:
        cells = [f"{v:.4g} *" if i in row.best and v is not None else v for i, v in enumerate(row.values)]
        rows.append((row.partition, row.metric, *cells))
    out.print(table("scores (* the best of the row)", ["partition", "metric", *names], rows))
    if page is not None:
        out.print(f"page: {page}", markup=False, soft_wrap=True)
