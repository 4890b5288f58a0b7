"""The ``nirs4all`` command: a thin layer over the library.

Each command parses its options, makes one library call and renders the
result. :func:`main` is the only place that turns exceptions into a message and
an exit status: 2 for bad input, 1 for other failures, 130 when interrupted.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from rich.markup import escape

from ..errors import Interrupted, WorkspaceError
from . import (
    analytics,
    catalog,
    compare,
    export,
    library,
    predict,
    replay,
    report,
    run,
    runs,
    workflow,
    workspace,
)
from .engines import engines
from .options import WorkspaceOption
from .render import error_console

app = typer.Typer(
    name="nirs4all",
    help="Keep machine-learning experiment results in a workspace you can browse, query and share.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """``nirs4all --workspace PATH COMMAND ...``: the option before the subcommand too.

    It becomes the default of every subcommand's own ``--workspace`` (which wins when given).
    """
    if workspace is not None:
        ctx.default_map = _workspace_defaults(ctx.command, str(workspace))


def _workspace_defaults(command: Any, value: str) -> dict[str, Any]:
    """click's ``default_map`` giving ``--workspace`` to every command below ``command``."""
    found: dict[str, Any] = {}
    for name, sub in getattr(command, "commands", {}).items():
        if hasattr(sub, "commands"):
            found[name] = _workspace_defaults(sub, value)
            continue
        param = next((p for p in sub.params if p.name == "workspace"), None)
        if param is not None:
            found[name] = {"workspace": [value] if param.multiple else value}
    return found


def _whole_help(command: Any) -> Any:
    """Command listings show each command's whole first paragraph, not a cut ``...``."""
    for sub in getattr(command, "commands", {}).values():
        if not sub.short_help and sub.help:
            first = sub.help.strip().split("\n\n", 1)[0]
            sub.short_help = " ".join(first.split())
        _whole_help(sub)
    return command


app.command("run", help=run.run.__doc__)(run.run)
app.add_typer(runs.app, name="runs")
app.command("compare", help=compare.compare.__doc__)(compare.compare)
app.add_typer(catalog.app, name="catalog")
app.add_typer(library.app, name="library")
app.command("export", help=export.export.__doc__)(export.export)
app.command("predict", help=predict.predict.__doc__)(predict.predict)
app.add_typer(workspace.app, name="workspace")
app.command("report", help=report.report.__doc__)(report.report)
app.add_typer(analytics.app, name="analytics")
app.command("replay", help=replay.replay.__doc__)(replay.replay)
app.add_typer(workflow.app, name="workflow")
app.command("engines", help=engines.__doc__)(engines)


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _describe(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return _one_line(exc.strerror + (f": {exc.filename}" if exc.filename else ""))
    return _one_line(str(exc))


def _unforeseen(exc: Exception) -> int:
    """A usage error of the argument parser (click's or typer's own copy of it), or a fault
    nobody foresaw (a bug of ours or of a library): one line, never a traceback."""
    err = error_console()
    if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
        err.print(f"[bold red]error:[/] {_one_line(exc.format_message())}", markup=True)
        return int(exc.exit_code)
    if os.environ.get("NIRS4ALL_DEBUG"):
        raise exc
    err.print(
        f"[bold red]error:[/] unexpected {type(exc).__name__}: {escape(_describe(exc))} "
        "(a bug: NIRS4ALL_DEBUG=1 shows where; files already saved are kept, "
        "'nirs4all workspace verify' checks them)",
        markup=True,
        soft_wrap=True,
    )
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    err = error_console()
    try:
        command = _whole_help(typer.main.get_command(app))
        result = command.main(args=argv, prog_name="nirs4all", standalone_mode=False)
    except (WorkspaceError, OSError) as exc:
        # OSError: the file system refused (disk full, permissions, a folder where a file should be).
        if isinstance(exc, Interrupted):  # Ctrl-C a command turned into what was kept and how to go on
            err.print(_one_line(str(exc)))
        else:
            err.print(f"[bold red]error:[/] {escape(_describe(exc))}", markup=True)
        return getattr(exc, "exit_code", 1)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err.print("aborted")
        return 130
    except KeyboardInterrupt:
        err.print("interrupted: finished pipelines are kept; 'nirs4all workspace verify' checks the rest")
        return 130
    except Exception as exc:
        return _unforeseen(exc)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
