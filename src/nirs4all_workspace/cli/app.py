"""The ``nirs4all`` command: a thin layer over the library.

Each command parses its options, makes one library call and renders the
result. :func:`main` is the only place that turns exceptions into a message and
an exit status: 2 for bad input, 1 for other failures, 130 when interrupted.
"""

from __future__ import annotations

import sys

import typer

from ..errors import WorkspaceError
from . import catalog, run, runs
from .render import error_console

app = typer.Typer(
    name="nirs4all",
    help="Keep machine-learning experiment results in a workspace you can browse, query and share.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("run", help=run.run.__doc__)(run.run)
app.add_typer(runs.app, name="runs")
app.add_typer(catalog.app, name="catalog")


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    err = error_console()
    try:
        result = app(args=argv, prog_name="nirs4all", standalone_mode=False)
    except WorkspaceError as exc:
        err.print(f"[bold red]error:[/] {_one_line(str(exc))}", markup=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err.print("aborted")
        return 130
    except KeyboardInterrupt:
        err.print("interrupted: finished pipelines are kept; 'nirs4all workspace verify' checks the rest")
        return 130
    except Exception as exc:
        # Usage errors of the argument parser (click's or typer's own copy of it).
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        err.print(f"[bold red]error:[/] {_one_line(exc.format_message())}", markup=True)
        return int(exc.exit_code)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
