"""``nirs4all predict``: apply a trained pipeline (a zip or a library entry) to new spectra."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .library import TrustOption, print_notes
from .options import JsonOption, WorkspaceOption
from .render import console, error_console, print_json


def predict(
    model: Annotated[
        str, typer.Option("--model", "-m", help="A library/export zip, or a library entry name.")
    ],
    data: Annotated[
        Path, typer.Option("--data", "-d", help="Spectra: CSV/Parquet file or Xcal/Xval folder.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="CSV to write: sample_id, y_pred (+ y_true).")
    ],
    trust: TrustOption = False,
    pipeline: Annotated[
        str | None,
        typer.Option(
            "--pipeline", "-p", help="Which pipeline of a pipeline/fullrun zip (default: the saved one)."
        ),
    ] = None,
    chunk_rows: Annotated[int, typer.Option(help="Samples predicted per chunk (progress steps).")] = 5000,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Predict new spectra with a trained pipeline; the data's columns must be the model's.

    The zip is checked completely first (paths, sizes, SHA-256 of every member) and
    its fitted objects load with trusted types only, unless --trust.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..facade import resolve_root
    from ..library.predict import predict_file
    from ..workspace.layout import WorkspaceLayout

    state: dict[str, Any] = {}

    def advance(done: int, total: int) -> None:
        if "bar" not in state:
            if total <= chunk_rows:
                return  # one chunk: nothing to follow
            bar = Progress(
                TextColumn("[bold]predict"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=error_console(),
                transient=True,
            )
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task("predict", total=total)
        state["bar"].update(state["task"], completed=done)

    layout = WorkspaceLayout(resolve_root(workspace))
    try:
        report = predict_file(
            layout,
            model,
            data,
            output,
            trust=trust,
            pipeline=pipeline,
            chunk_rows=chunk_rows,
            progress=advance,
        )
    finally:
        if "bar" in state:
            state["bar"].stop()
    print_notes(report.notes)
    if json_output:
        print_json(report.to_dict())
        return
    extra = " with y_true" if report.with_y_true else ""
    console().print(
        f"predicted {report.n_samples} samples with {report.pipeline} in {report.seconds:.2f} s: "
        f"{report.output}{extra}",
        markup=False,
    )
