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
    plots: Annotated[
        str,
        typer.Option(
            help="PNGs drawn into outputs/ where missing: best (the session's best pipeline), "
            "all (every completed one) or none."
        ),
    ] = "best",
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Write exports/session_reports/DATASET.html (one self-contained file) and print its path.

    Also draws the PNGs of outputs/ that a run left to be drawn when asked (--plots).
    """
    from ..errors import InputError, WorkspaceError
    from ..facade import Workspace
    from ..reports.run_outputs import write_session_plots
    from ..reports.session import write_session_report
    from .render import error_console

    if plots not in ("best", "all", "none"):
        raise InputError(f"--plots must be one of best, all, none, not {plots!r}")
    ws = Workspace.open(workspace, create=False)
    path = write_session_report(ws, dataset, session)
    try:  # the report is written: PNGs that cannot be drawn (e.g. data gone) are a warning
        drawn = write_session_plots(ws, dataset, session, plots)
    except WorkspaceError as exc:
        drawn = []
        error_console().print(f"warning: plots not drawn: {exc}", markup=False)
    if json_output:
        payload = {"dataset": dataset, "report": str(path), "size": path.stat().st_size}
        print_json({**payload, "plots": [str(p) for p in drawn]})
    else:
        console().print(str(path), soft_wrap=True)
        if drawn:
            console().print(
                f"plots: {len(drawn)} PNG in {', '.join(sorted({str(p.parent) for p in drawn}))}",
                soft_wrap=True,
                markup=False,
            )
    if open_report:
        import webbrowser

        if not webbrowser.open(path.as_uri()):
            error_console().print(f"could not open a browser; open the report yourself: {path}", markup=False)
