"""``nirs4all export``: one pipeline as a zip to send (the library's format)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .library import print_notes
from .options import JsonOption, WorkspaceOption
from .render import console, human_size, print_json


def export(
    reference: Annotated[str, typer.Argument(help="DATASET/PIPELINE: folder name, number or hash.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The zip to write.")],
    include_data: Annotated[
        bool,
        typer.Option("--include-data", help="Add the training data (a fullrun zip) to reproduce the run."),
    ] = False,
    data: Annotated[
        Path | None, typer.Option(help="--include-data: the training data, if it moved since the run.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Write a pipeline with the fitted objects it needs (and its data) to a zip.

    The zip is a library entry: 'nirs4all predict --model FILE.zip' applies it and
    'nirs4all library import FILE.zip' keeps it.
    """
    from ..facade import Workspace
    from ..library.exports import export_pipeline

    ws = Workspace.open(workspace, create=False)
    done = export_pipeline(ws, reference, output, include_data=include_data, data=data, force=force)
    print_notes(done.notes)
    if json_output:
        print_json({"path": str(done.path), "type": done.kind, "size": done.size, "source": done.source})
        return
    console().print(
        f"exported {done.source} as a {done.kind} zip (1 pipeline"
        f"{' and its training data' if include_data else ''}, {human_size(done.size)}): {done.path}"
    )
