"""``nirs4all workflow ...``: multi-phase workflows, resumable and runnable on a cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from .options import JsonOption, WorkspaceOption
from .render import console, error_console, print_json, table

app = typer.Typer(
    help="Run multi-phase workflows (grid, analysis, ensemble, validation).", no_args_is_help=True
)


@app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="Workflow file (YAML): named phases, see docs/workflows.md.")],
    backend: Annotated[
        str, typer.Option(help="Where pipelines execute: loky (local), dask or ray (see docs/cluster.md).")
    ] = "loky",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default with dask: a local cluster).")
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="Processes for the pipelines (-1: all cores or cluster workers); see docs/cluster.md.",
        ),
    ] = 1,
    from_phase: Annotated[
        str | None,
        typer.Option("--from", help="Recompute this phase and every phase reading it, checkpoints or not."),
    ] = None,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Run a workflow file, resuming from its checkpoints if it was stopped.

    Phases whose inputs changed (pipeline files, data, upstream outputs) run again.
    """
    from ..facade import Workspace
    from ..workflows import run_workflow

    with error_console().status("starting", spinner="dots") as shown:
        report = run_workflow(
            Workspace.open(workspace),
            file,
            backend=backend,
            scheduler=scheduler,
            n_jobs=jobs,
            progress=lambda line: shown.update(escape(line)),
            from_phase=from_phase,
        )
    from ..workflows.outcome import workflow_outcome

    result = workflow_outcome(Workspace.open(workspace), report.document)
    if json_output:
        print_json(
            {
                "id": report.workflow_id,
                "folder": str(report.folder),
                "ran": report.ran,
                "resumed": report.resumed,
                "result": result,
                "workflow": report.document,
            }
        )
        return
    _print_status(report.document)
    console().print(f"folder: {report.folder}")
    if report.resumed:
        console().print(f"resumed from checkpoints: {', '.join(report.resumed)}")
    if result is not None:
        _print_result(result)


def _print_result(result: dict[str, Any]) -> None:
    """The last line: the chosen pipeline or blend and its validation and test scores."""
    members = result["members"]
    if result["kind"] == "blend":
        parts = ", ".join(f"{m['name']} x{m['weight']:g}" for m in members)
        chosen = f"blend of {len(members)} pipelines ({parts})"
    else:
        chosen = f"pipeline {result.get('pipeline') or members[0]['name']}"
    order = {"val": 0, "test": 1}
    shown = sorted((p for p in result["scores"] if p != "train"), key=lambda p: (order.get(p, 2), p))
    scores = ", ".join(f"{p} {result['metric']} {result['scores'][p]:.4g}" for p in shown)
    console().print(f"result (phase {result['phase']}): {chosen}; {scores}", markup=False)


@app.command("status")
def status(
    workflow_id: Annotated[
        str, typer.Argument(metavar="ID", help="Workflow id (see 'nirs4all workflow list').")
    ],
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The phases of a workflow: status, output file, duration, and which are stale and why."""
    from ..facade import Workspace
    from ..workflows import workflow_status

    document = workflow_status(Workspace.open(workspace, create=False), workflow_id)
    if json_output:
        print_json(document)
        return
    _print_status(document)


@app.command("list")
def list_(json_output: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """One line per workflow of the workspace."""
    from ..facade import Workspace
    from ..workflows import list_workflows

    found = list_workflows(Workspace.open(workspace, create=False).layout)
    if json_output:
        print_json(found)
        return
    rows = [
        (
            w["id"],
            w.get("status"),
            f"{sum(p['status'] == 'completed' for p in w['phases'])}/{len(w['phases'])}",
            w.get("dataset"),
            w.get("updated_at"),
            w.get("file"),
        )
        for w in found
    ]
    console().print(table("workflows", ["id", "status", "phases done", "dataset", "updated", "file"], rows))


def _print_status(document: dict[str, Any]) -> None:
    rows = [
        (p["name"], p["type"], _phase_status(p), p.get("duration_s"), p["output"], _phase_note(p))
        for p in document["phases"]
    ]
    title = f"workflow {document['id']}: {document.get('status')}"
    console().print(table(title, ["phase", "type", "status", "seconds", "output", "why"], rows))


def _phase_status(phase: dict[str, Any]) -> str:
    if phase.get("edited_by_hand"):
        return "edited"
    return "stale" if phase.get("stale") and phase["status"] == "completed" else phase["status"]


def _phase_note(phase: dict[str, Any]) -> str:
    notes = list(phase.get("stale") or [])
    if phase.get("edited_by_hand"):
        notes.insert(0, "output edited by hand: kept, the phases reading it are recomputed from it")
    return "; ".join(notes)
