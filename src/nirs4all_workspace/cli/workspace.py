"""``nirs4all workspace ...``: check, repair, clean up and measure the whole workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import DryRunOption, JsonOption, WorkspaceOption, YesOption, parse_age
from .prompts import confirm_or_refuse
from .render import console, human_size, print_json, table

app = typer.Typer(help="Check, repair, clean up and measure the workspace.", no_args_is_help=True)


@app.command("verify")
def verify_workspace(
    repair: Annotated[
        bool, typer.Option("--repair", help="Fix what can be fixed, then check again.")
    ] = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Check binaries, statuses, numbering, catalog, best files and archives.

    Exit status 0 when the workspace is sound, 1 when problems remain. Run it
    while no other nirs4all process writes to the workspace.
    """
    from ..facade import Workspace
    from ..maintenance.verify import verify

    report = verify(Workspace.open(workspace, create=False), repair=repair)
    if json_output:
        print_json(report.to_dict())
    else:
        out = console()
        if report.problems:
            columns = ["check", "path", "problem"] + (["repair"] if repair else ["repairable"])
            rows = [
                (
                    p.check,
                    p.path,
                    p.message,
                    p.action or ("not repaired" if p.repairable else "cannot repair"),
                )
                if repair
                else (p.check, p.path, p.message, "yes" if p.repairable else "no")
                for p in report.problems
            ]
            out.print(table(f"{len(report.problems)} problems found", columns, rows))
        checked = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in sorted(report.checked.items()))
        out.print(f"checked {checked or 'an empty workspace'}")
        if report.read_only:
            out.print("workspace is read-only: checked without locks; it cannot be repaired here")
        if report.ok:
            out.print("workspace is sound" if not report.problems else "every problem was repaired")
        else:
            hint = "" if repair else "; 'nirs4all workspace verify --repair' fixes what can be fixed"
            out.print(f"{len(report.remaining)} problems remain{hint}")
            for p in report.remaining if repair else []:
                out.print(f"  {p.check}: {p.path}: {p.message}", markup=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command("gc")
def collect_garbage(
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    min_age: Annotated[
        str, typer.Option(help="Spare binaries and temporaries younger than this (a run may be using them).")
    ] = "10m",
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Remove unreferenced binaries, compacted fragments, stray temporaries and trash folders."""
    from ..facade import Workspace
    from ..maintenance import gc

    age = parse_age(min_age).total_seconds()
    ws = Workspace.open(workspace, create=False)
    report = gc.collect_garbage(ws, dry_run=True, min_age_s=age)
    if report.items and not dry_run:
        counts = ", ".join(f"{n} {kind}" for kind, n in report.counts().items() if n)
        confirm_or_refuse(f"Remove {counts} ({human_size(report.bytes_freed)})?", yes)
        report = gc.collect_garbage(ws, dry_run=False, min_age_s=age)
    if json_output:
        print_json(report.to_dict())
        return
    out = console()
    if report.items:
        rows = [(i.kind, i.path, human_size(i.size)) for i in report.items]
        out.print(table("would remove" if dry_run else "removed", ["kind", "path", "size"], rows))
    for reason in report.skipped:
        out.print(f"skipped: {reason}", markup=False)
    verb = "would free" if dry_run else "freed"
    out.print(f"{verb} {human_size(report.bytes_freed)} ({len(report.items)} items)")
    note = spared_note(report.spared)
    if note:
        out.print(note, markup=False)


def spared_note(spared) -> str | None:
    """One line on what gc's age grace keeps: how many files, how much, collectable from when."""
    if spared is None or not spared.files:
        return None
    minutes = f"{spared.min_age_s / 60:g} minutes"
    return (
        f"spared {spared.files} files ({human_size(spared.size)}) younger than {minutes} "
        f"(a run may be using them): collectable from {spared.when()}, or now with --min-age 0"
    )


@app.command("purge")
def purge_trash(
    older_than: Annotated[
        str | None, typer.Option(help="Only what was deleted longer ago than this, e.g. 30d.")
    ] = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    min_age: Annotated[
        str, typer.Option(help="Then collect binaries nothing references, if older than this (as gc).")
    ] = "10m",
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Empty the trash of every dataset for good, then collect the binaries nothing references.

    Purged pipelines cannot be restored ('runs restore' says when they were purged);
    their numbers stay taken and their catalog rows stay, flagged 'trashed'.
    """
    from ..facade import Workspace
    from ..maintenance.purge import plan_purge, purge

    age = parse_age(older_than) if older_than else None
    min_age_s = parse_age(min_age).total_seconds()
    ws = Workspace.open(workspace, create=False)
    plan = plan_purge(ws, older_than=age)
    out = console()
    pipelines = plan.pipelines
    if not pipelines:
        if json_output:
            print_json(plan.to_dict())
        else:
            out.print("the trash is empty" + (f" of anything deleted over {older_than} ago" if age else ""))
        return
    datasets = sorted({d for d, _p in pipelines})
    summary = (
        f"{len(pipelines)} pipelines ({human_size(plan.size_bytes)}) in the trash of "
        f"{', '.join(datasets)}, from {len(plan.records)} deletions"
    )
    if dry_run:
        if json_output:
            print_json(plan.to_dict())
        else:
            out.print(f"would purge {summary}; nothing was removed", markup=False)
        return
    confirm_or_refuse(f"Delete for good {summary}? They cannot be restored afterwards.", yes)
    report = purge(ws, plan, binaries_min_age_s=min_age_s)
    if json_output:
        print_json(report.to_dict())
        return
    out.print(
        f"purged {report.pipelines} pipelines and {report.binaries_removed} binaries, "
        f"freed {human_size(report.bytes_freed)}",
        markup=False,
    )
    note = spared_note(report.spared)
    if note:
        out.print(note.replace("--min-age 0", "'nirs4all workspace gc --min-age 0'"), markup=False)


@app.command("migrate")
def migrate_workspace(
    dry_run: DryRunOption = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Upgrade a workspace written by an earlier version to this version's format, in place.

    File by file, each atomically; run it again to finish an interrupted migration.
    Run it while no other nirs4all process writes to the workspace.
    """
    from ..facade import Workspace
    from ..maintenance.migrate import migrate

    report = migrate(Workspace.open(workspace, create=False), dry_run=dry_run)
    if json_output:
        print_json(report.to_dict())
        return
    out = console()
    if not report.steps:
        out.print(f"workspace is already at format {report.to_version}; nothing to migrate")
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts().items())) or "no file"
    verb = "would upgrade" if dry_run else "upgraded"
    out.print(f"{verb} format {report.from_version} -> {report.to_version}: {counts}", markup=False)


@app.command("du")
def disk_usage(json_output: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """Disk usage per dataset and per kind (binaries, runs, trash, catalog, archives, library, exports).

    'trash' is what 'nirs4all runs delete' moved aside: 'nirs4all workspace purge' frees it.
    """
    from ..facade import Workspace
    from ..maintenance.usage import disk_usage as usage

    report = usage(Workspace.open(workspace, create=False))
    if json_output:
        print_json(report.to_dict())
        return
    out = console()
    rows = [
        (
            d.dataset,
            human_size(d.pipelines),
            human_size(d.binaries),
            human_size(d.trash),
            human_size(d.other),
            human_size(d.total),
        )
        for d in report.datasets
    ]
    columns = ["dataset", "pipelines", "binaries", "trash", "other", "total"]
    out.print(table("datasets", columns, rows))
    kinds = [(kind, human_size(size)) for kind, size in report.kinds.items()]
    out.print(table("workspace", ["kind", "size"], [*kinds, ("total", human_size(report.total))]))
