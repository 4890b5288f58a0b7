"""``nirs4all runs ...``: the run folders of each dataset."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import DryRunOption, JsonOption, WorkspaceOption, YesOption, parse_age
from .prompts import confirm_or_refuse
from .render import console, human_size, print_json, rows_json, table

app = typer.Typer(help="List and inspect the runs of each dataset.", no_args_is_help=True)

SESSIONS_SHOWN = 20  # runs show DATASET: the newest sessions in the table (--json has them all)


@app.command("list")
def list_runs(
    older_than: Annotated[
        str | None, typer.Option(help="Only datasets idle for this long, e.g. 30d.")
    ] = None,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """One line per dataset: sessions, pipelines, size, last run and best score."""
    from ..facade import Workspace
    from ..maintenance.inventory import overviews

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
            ("~" if o.size_estimated else "") + human_size(o.size_bytes),
            o.last_run,
            None
            if o.best is None
            else f"{o.best.partition} {o.best.metric} {o.best.score:.4g}"
            + (f" ({o.older_versions} of older data versions left out)" if o.older_versions else ""),
            None if o.best is None else o.best.folder,
            "yes" if o.archived else "",
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
        "archived?",
    ]
    console().print(table("runs", columns, rows))


@app.command("show")
def show_runs(
    dataset: Annotated[
        str,
        typer.Argument(help="DATASET (its sessions and best pipelines) or DATASET/PIPELINE (one pipeline)."),
    ],
    top: Annotated[int, typer.Option(min=1, help="How many pipelines to list, best first.")] = 20,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The sessions and best pipelines of a dataset, or everything about one pipeline.

    DATASET/PIPELINE (folder name, number or hash) shows its identity, configuration,
    scores with the cross-validation mean and spread, files, and the commands that
    reproduce or export it.
    """
    from ..catalog.engine_metrics import words_for
    from ..catalog.versions import newest_versions
    from ..errors import PipelineNotFound
    from ..facade import Workspace
    from ..maintenance.inventory import dataset_overview

    ws = Workspace.open(workspace, create=False)
    if "/" in dataset:
        from ..inspection import describe_pipeline

        view = describe_pipeline(ws, dataset)
        if json_output:
            print_json(view.to_dict())
        else:
            from .pipeline_view import print_pipeline

            print_pipeline(console(), view)
        return
    if dataset not in ws.datasets():
        known = ", ".join(ws.datasets()) or "none"
        raise PipelineNotFound(f"no dataset {dataset!r} in {ws.layout.runs_dir}; datasets: {known}")
    overview = dataset_overview(ws, dataset)
    best = overview.best
    metric = best.metric if best else None
    partition = best.partition if best else "val"
    versions = newest_versions(ws.predictions, dataset)  # the newest data version's pipelines
    frame = ws.predictions.top(top, metric=metric, partition=partition, dataset=dataset, where=versions.where)
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
    older = len(sessions) - SESSIONS_SHOWN
    shown = f" (the newest {SESSIONS_SHOWN}; --json lists all)" if older > 0 else ""
    out.print(
        table(
            f"{dataset}: sessions{shown}",
            ["session", "started", "pipelines", "completed", "failed", "seconds"],
            sessions[-SESSIONS_SHOWN:],
        )
    )
    if older > 0:
        out.print(f"{older} older sessions not shown")
    words = words_for(ws.predictions.engines(dataset))
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
            ["#", "pipeline", words["model"], words["preprocessing"], metric, "session"],
            rows,
        )
    )
    if best is not None:
        out.print(f"best predictions: {ws.layout.best_csv(dataset, best.folder)}")


SessionOption = Annotated[str | None, typer.Option(help="Only the pipelines of this session.")]


VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="List every pipeline of the plan.")]


def _print_selection(
    out, title: str, pipelines, skipped: list[str], verbose: bool = False, best=None
) -> None:
    """The plan: a summary (counts, size, sessions, the best), or every pipeline with ``verbose``."""
    if verbose:
        rows = [
            (p.number, p.folder, p.session, p.status, p.created_at[:19], human_size(p.size_bytes))
            for p in pipelines
        ]
        out.print(table(title, ["#", "pipeline", "session", "status", "created", "size"], rows))
    else:
        statuses = [p.status for p in pipelines]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("completed", "failed") if s in statuses)
        sessions: dict[str, int] = {}
        for p in pipelines:
            sessions[p.session] = sessions.get(p.session, 0) + 1
        shown = ", ".join(f"{name} ({n})" for name, n in list(sessions.items())[:8])
        more = f" and {len(sessions) - 8} more" if len(sessions) > 8 else ""
        size = human_size(sum(p.size_bytes for p in pipelines))
        out.print(f"{title}: {counts}; {size}", markup=False)
        out.print(f"  sessions: {shown}{more}", markup=False)
        if best is not None:
            among = best.folder in {p.folder for p in pipelines}
            where = "is among them" if among else "is not among them"
            out.print(
                f"  the best, {best.folder} ({best.partition} {best.metric} {best.score:.4g}), {where}",
                markup=False,
            )
        out.print("  (--verbose lists every pipeline)", markup=False)
    if skipped:
        note = f"left alone (incomplete, see 'nirs4all workspace verify'): {', '.join(skipped)}"
        out.print(note, markup=False)


@app.command("delete")
def delete_runs(
    dataset: Annotated[str, typer.Argument(help="Dataset name (a folder of runs/).")],
    session: SessionOption = None,
    older_than: Annotated[
        str | None, typer.Option(help="Only pipelines created longer ago than this, e.g. 30d.")
    ] = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    force: Annotated[
        bool, typer.Option("--force", help="Delete the best result even if it has no archived copy.")
    ] = False,
    verbose: VerboseOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Delete finished pipeline folders of a dataset; the catalog keeps their rows.

    Refuses to delete the dataset's best result unless it was archived with
    'nirs4all catalog archive' (or --force). Numbers are never reused.
    """
    from ..errors import DeletionRefused
    from ..facade import Workspace
    from ..maintenance.retention import delete_pipelines, plan_deletion

    age = parse_age(older_than) if older_than else None
    ws = Workspace.open(workspace, create=False)
    plan = plan_deletion(ws, dataset, session=session, older_than=age)
    out = console()
    if not plan.pipelines:
        out.print(f"nothing to delete in {dataset}")
        return
    title = f"{'would delete' if dry_run else 'to delete'}: {len(plan.pipelines)} pipelines of {dataset}"
    _print_selection(out, title, plan.pipelines, plan.skipped_incomplete, verbose, ws.best.current(dataset))
    if plan.refusal and not force:
        raise DeletionRefused(plan.refusal)
    if dry_run:
        out.print(f"dry run: {human_size(plan.size_bytes)} would be freed; nothing was deleted")
        return
    question = f"Delete {len(plan.pipelines)} pipelines ({human_size(plan.size_bytes)}) of {dataset}?"
    confirm_or_refuse(question, yes)
    report = delete_pipelines(ws, plan, force=force)
    out.print(
        f"deleted {len(report.deleted)} pipelines and {report.binaries_removed} binaries, "
        f"freed {human_size(report.bytes_freed)}; best is now {report.best_after or 'none'}; "
        "their catalog rows are kept"
    )


@app.command("archive")
def archive_runs(
    dataset: Annotated[str, typer.Argument(help="Dataset name (a folder of runs/).")],
    session: SessionOption = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    verbose: VerboseOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Tar finished pipelines into catalog/archives/runs/, verify the tar, then delete them."""
    from ..facade import Workspace
    from ..maintenance.archive_runs import archive_runs as archive
    from ..maintenance.archive_runs import plan_runs_archive

    ws = Workspace.open(workspace, create=False)
    plan = plan_runs_archive(ws, dataset, session=session)
    out = console()
    if not plan.pipelines:
        out.print(f"nothing to archive in {dataset}")
        return
    verb = "would archive" if dry_run else "to archive"
    title = f"{verb}: {len(plan.pipelines)} pipelines of {dataset}"
    best = ws.best.current(dataset)
    _print_selection(out, title, plan.pipelines, plan.skipped_incomplete, verbose, best)
    size = human_size(plan.size_bytes)
    if dry_run:
        out.print(f"dry run: {len(plan.members)} files ({size}) would go to catalog/archives/runs/")
        return
    question = f"Archive {len(plan.pipelines)} pipelines ({size}) of {dataset}, then delete them?"
    confirm_or_refuse(question, yes)
    report = archive(ws, plan)
    best = report.deletion.best_after or "none"
    out.print(
        f"archived {report.files} files to {report.archive} ({human_size(report.size_bytes)}, verified); "
        f"deleted {len(report.deletion.deleted)} pipelines; best is now {best}"
    )
