"""``nirs4all runs ...``: the run folders of each dataset."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import InputError
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

        try:
            view = describe_pipeline(ws, dataset)
        except PipelineNotFound:
            _say_if_trashed(ws, dataset)
            raise
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


def _say_if_trashed(ws, reference: str) -> None:
    """PipelineNotFound saying the pipeline is in the trash (or was purged), if it is."""
    from ..errors import PipelineNotFound, WorkspaceError
    from ..maintenance.trash import plan_restore
    from ..workspace.manifest import split_reference

    try:
        name, ref = split_reference(reference)
        plan = plan_restore(ws, name, ref=ref)
    except WorkspaceError as exc:
        if "purged on" in str(exc):
            raise PipelineNotFound(str(exc)) from None
        return
    folder = plan.pipelines[-1].folder
    raise PipelineNotFound(
        f"pipeline {name}/{folder} is in the trash; 'nirs4all runs restore {name}/{folder}' brings it back"
    )


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
    dataset: Annotated[
        str, typer.Argument(help="DATASET (its finished pipelines) or DATASET/PIPELINE (one pipeline).")
    ],
    session: SessionOption = None,
    older_than: Annotated[
        str | None, typer.Option(help="Only pipelines created longer ago than this, e.g. 30d.")
    ] = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    force: Annotated[
        bool, typer.Option("--force", hidden=True, help="Accepted for old scripts; the trash keeps a copy.")
    ] = False,
    verbose: VerboseOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Move finished pipeline folders of a dataset to its trash (runs/DATASET/_trash/).

    Their catalog rows stay, flagged 'trashed' and left out of rankings; their
    binaries stay. 'nirs4all runs restore' brings them back byte-identical (the
    best file too); 'nirs4all workspace purge' deletes them for good. If the best
    is among them, the best is chosen again among what remains. Numbers are never reused.
    """
    from ..facade import Workspace
    from ..maintenance.retention import plan_deletion
    from ..maintenance.trash import move_to_trash, select_pipeline
    from ..workspace.manifest import split_reference

    del force  # the trash keeps a copy of the best: nothing to force any more
    age = parse_age(older_than) if older_than else None
    ws = Workspace.open(workspace, create=False)
    if "/" in dataset:
        name, ref = split_reference(dataset)
        if session or older_than:
            raise InputError("runs delete DATASET/PIPELINE takes no --session or --older-than")
        pipelines, skipped, selection = [select_pipeline(ws, name, ref)], [], "pipeline"
    else:
        name = dataset
        plan = plan_deletion(ws, name, session=session, older_than=age)
        pipelines, skipped = plan.pipelines, plan.skipped_incomplete
        selection = f"session {session}" if session else "all"
        if older_than:
            selection += f", older than {older_than}"
    out = console()
    if not pipelines:
        out.print(f"nothing to delete in {name}", markup=False)
        return
    title = f"{'would delete' if dry_run else 'to delete'}: {len(pipelines)} pipelines of {name}"
    _print_selection(out, title, pipelines, skipped, verbose, _best_or_none(ws, name))
    size = human_size(sum(p.size_bytes for p in pipelines))
    out.print(
        f"  they go to the trash ({size}): 'nirs4all runs restore {name}' brings them back, "
        "'nirs4all workspace purge' frees their space",
        markup=False,
    )
    if dry_run:
        out.print("dry run: nothing was deleted")
        return
    confirm_or_refuse(f"Move {len(pipelines)} pipelines ({size}) of {name} to the trash?", yes)
    report = move_to_trash(ws, name, pipelines, selection)
    out.print(
        f"deleted {len(report.moved)} pipelines (moved to the trash, {size}); "
        f"best is now {report.best_after or 'none'}; their catalog rows are kept, flagged 'trashed'",
        markup=False,
    )


def _best_or_none(ws, dataset: str):
    from ..errors import IntegrityError

    try:
        return ws.best.current(dataset)
    except IntegrityError:
        return None


@app.command("restore")
def restore_runs(
    dataset: Annotated[
        str | None,
        typer.Argument(help="DATASET (all it has in the trash) or DATASET/PIPELINE (one pipeline)."),
    ] = None,
    session: SessionOption = None,
    from_archive: Annotated[
        str | None,
        typer.Option(
            "--from-archive",
            help="A .tar.gz of 'nirs4all runs archive' (a path, or its name).",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRunOption = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Bring deleted pipelines back from the trash, or archived ones from a runs archive.

    Files come back byte-identical, with their own numbers, and the best file if
    the best was among them. Purged pipelines cannot be restored. An archive is
    verified (safe names, sizes, SHA-256) before anything is written, and refused
    if a pipeline number it holds is already used in the dataset.
    """
    from ..facade import Workspace

    ws = Workspace.open(workspace, create=False)
    out = console()
    if from_archive is not None:
        if dataset or session:
            raise InputError("runs restore --from-archive takes no DATASET or --session (the archive says)")
        _restore_archive(ws, from_archive, dry_run, json_output)
        return
    if dataset is None:
        raise InputError("runs restore needs DATASET[/PIPELINE] or --from-archive ARCHIVE")
    from ..maintenance.trash import plan_restore, restore

    if "/" in dataset:
        from ..workspace.manifest import split_reference

        name, ref = split_reference(dataset)
    else:
        name, ref = dataset, None
    plan = plan_restore(ws, name, ref=ref, session=session)
    if dry_run:
        if json_output:
            print_json(plan.to_dict())
            return
        best = f"; the former best, {plan.restores_best}, is among them" if plan.restores_best else ""
        out.print(
            f"would restore {len(plan.pipelines)} pipelines of {name} ({human_size(plan.size_bytes)}){best}",
            markup=False,
        )
        return
    report = restore(ws, plan)
    if json_output:
        print_json(report.to_dict())
        return
    out.print(
        f"restored {len(report.restored)} pipelines of {name} from the trash; "
        f"best is now {report.best_after or 'none'}",
        markup=False,
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
    out.print(_binaries_note(plan, after=False), markup=False)
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
    out.print(_binaries_note(plan, after=True), markup=False)


def _restore_archive(ws, from_archive: str, dry_run: bool, json_output: bool) -> None:
    from ..maintenance.restore_archive import plan_archive_restore, restore_from_archive

    out = console()
    plan = plan_archive_restore(ws, from_archive)
    if dry_run or not plan.pipelines:
        if json_output:
            print_json(plan.to_dict())
            return
        verb = "would restore" if dry_run else "restored"
        already = f" ({len(plan.already)} already in place)" if plan.already else ""
        out.print(
            f"{verb} {len(plan.pipelines)} pipelines of {plan.dataset} from {plan.archive.name}{already}",
            markup=False,
        )
        return
    report = restore_from_archive(ws, plan)
    if json_output:
        print_json(report.to_dict())
        return
    out.print(
        f"restored {len(report.restored)} pipelines of {report.dataset} from {plan.archive.name} "
        f"(verified); best is now {report.best_after or 'none'}",
        markup=False,
    )


def _binaries_note(plan, after: bool) -> str:
    """What the binaries only the archived pipelines use will free, and when (gc's grace)."""
    count, size, spared = plan.binaries_outlook()
    if not count:
        return "  binaries: none is used only by these pipelines"
    if not spared.files:
        verb = "were freed" if after else "are freed with them"
        return f"  binaries: {count} files ({human_size(size)}) used only by these pipelines {verb}"
    now = count - spared.files
    freed = f", {now} ({human_size(size - spared.size)}) freed at once" if now else ""
    which = f"{spared.files} ({human_size(spared.size)})" if now else "all"
    lead = "  binaries" if after else "  binaries, after the deletion"
    return (
        f"{lead}: {count} files ({human_size(size)}) used only by these pipelines{freed}; "
        f"{which} kept {_grace(spared.min_age_s)} in case a run "
        f"reuses them, collectable from {spared.when()} by 'nirs4all workspace gc' "
        "(at once: 'nirs4all workspace gc --min-age 0')"
    )


def _grace(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:g} minutes" if minutes < 120 else f"{minutes / 60:g} hours"
