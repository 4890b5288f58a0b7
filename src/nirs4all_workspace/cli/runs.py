"""``nirs4all runs ...``: the run folders of each dataset."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import JsonOption, WorkspaceOption, parse_age
from .render import console, human_size, print_json, rows_json, table

app = typer.Typer(help="List and inspect the runs of each dataset.", no_args_is_help=True)


@app.command("list")
def list_runs(
    older_than: Annotated[
        str | None, typer.Option(help="Only datasets idle for this long, e.g. 30d.")
    ] = None,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """One line per dataset: sessions, pipelines, size, last run and best score."""
    from ..workspace.inventory import overviews
    from ..workspace.workspace import Workspace

    age = parse_age(older_than) if older_than else None
    found = overviews(Workspace.open(workspace, create=False), older_than=age)
    if json_output:
        print_json([o.to_dict() for o in found])
        return
    rows = [
        (
            o.dataset,
            o.sessions,
            o.pipelines,
            o.completed,
            o.failed,
            human_size(o.size_bytes),
            o.last_run,
            None if o.best is None else f"{o.best.partition} {o.best.metric} {o.best.score:.4g}",
            None if o.best is None else o.best.folder,
        )
        for o in found
    ]
    columns = [
        "dataset",
        "sessions",
        "pipelines",
        "completed",
        "failed",
        "size",
        "last run",
        "best",
        "best pipeline",
    ]
    console().print(table("runs", columns, rows))


@app.command("show")
def show_runs(
    dataset: Annotated[str, typer.Argument(help="Dataset name (a folder of runs/).")],
    top: Annotated[int, typer.Option(help="How many pipelines to list, best first.")] = 20,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The sessions of a dataset and its best pipelines."""
    from ..errors import PipelineNotFound
    from ..workspace.inventory import dataset_overview
    from ..workspace.workspace import Workspace

    ws = Workspace.open(workspace, create=False)
    if dataset not in ws.datasets():
        known = ", ".join(ws.datasets()) or "none"
        raise PipelineNotFound(f"no dataset {dataset!r} in {ws.layout.runs_dir}; datasets: {known}")
    overview = dataset_overview(ws, dataset)
    best = overview.best
    metric = best.metric if best else None
    partition = best.partition if best else "val"
    frame = ws.predictions.top(top, metric=metric, partition=partition, dataset=dataset)
    metric = metric or ws.predictions.default_metric(dataset)
    if json_output:
        print_json(
            {
                "overview": overview.to_dict(),
                "sessions": ws.sessions.sessions(dataset),
                "top": rows_json(frame.to_dicts()),
            }
        )
        return
    out = console()
    sessions = [
        (
            s["session"],
            s.get("started_at", "")[:19],
            s.get("pipelines"),
            s.get("completed"),
            s.get("failed"),
            s.get("duration_s"),
        )
        for s in ws.sessions.sessions(dataset)
    ]
    out.print(
        table(
            f"{dataset}: sessions",
            ["session", "started", "pipelines", "completed", "failed", "seconds"],
            sessions,
        )
    )
    rows = [
        (
            r["pipeline_number"],
            r["pipeline_folder"],
            r["model"],
            r["preprocessing"],
            r.get(metric),
            r["session"],
        )
        for r in frame.iter_rows(named=True)
    ]
    out.print(
        table(
            f"{dataset}: top {len(rows)} by {partition} {metric}",
            ["#", "pipeline", "model", "preprocessing", metric, "session"],
            rows,
        )
    )
    if best is not None:
        out.print(f"best predictions: {ws.layout.best_csv(dataset, best.folder)}")
