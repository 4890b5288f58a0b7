"""``nirs4all report DATASET``: (re)write a dataset's session report, optionally open it."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import JsonOption, WorkspaceOption
from .render import console, print_json


def report(
    dataset: Annotated[str, typer.Argument(help="Dataset name (a folder under runs/).")],
    session: Annotated[
        str | None, typer.Option(help="Session to report on (default: the dataset's latest).")
    ] = None,
    open_report: Annotated[
        bool, typer.Option("--open", help="Open the report in the default web browser.")
    ] = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Write exports/session_reports/DATASET.html (one self-contained file) and print its path."""
    from ..facade import Workspace
    from ..reports.session import write_session_report

    path = write_session_report(Workspace.open(workspace, create=False), dataset, session)
    if json_output:
        print_json({"dataset": dataset, "report": str(path), "size": path.stat().st_size})
    else:
        console().print(str(path), soft_wrap=True)
    if open_report:
        import webbrowser

        if not webbrowser.open(path.as_uri()):
            from .render import error_console

            error_console().print(f"could not open a browser; open the report yourself: {path}", markup=False)
