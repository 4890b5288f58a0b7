"""``nirs4all library ...``: trained pipelines (zips) and templates (configurations)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from .options import DryRunOption, JsonOption, WorkspaceOption, YesOption
from .prompts import confirm_or_refuse
from .render import console, error_console, human_size, print_json, safe_text, table

app = typer.Typer(
    help="Keep trained pipelines and templates: save, list, show, import, remove.", no_args_is_help=True
)
templates_app = typer.Typer(
    help="Pipeline configurations kept by name; run one with 'nirs4all run --pipeline NAME'.",
    no_args_is_help=True,
)
app.add_typer(templates_app, name="templates")

TrustOption = Annotated[
    bool,
    typer.Option("--trust", help="Accept pickles and untrusted types in the zip (they can run code)."),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace an entry of the same name.")]


def plain(value: Any) -> Any:
    """Text from a zip, shown as is (a name like ``[/red]`` is not rich markup)."""
    return escape(value) if isinstance(value, str) else value


def print_notes(notes: list[str]) -> None:
    """Warnings of a library call, on standard error."""
    err = error_console()
    for note in notes:
        err.print(f"[yellow]warning:[/] {escape(note)}", markup=True, highlight=False)


def _score(entry: Any) -> str:
    if entry.score is None:
        return ""
    return f"{entry.partition} {entry.metric} {entry.score:.4g}"


@app.command("save")
def save(
    reference: Annotated[str, typer.Argument(help="DATASET/PIPELINE: folder name, number or hash.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Name of the library entry.")],
    kind: Annotated[
        str,
        typer.Option("--type", "-t", help="filtered (production), pipeline (the run) or fullrun (+ data)."),
    ] = "filtered",
    data: Annotated[
        Path | None, typer.Option(help="fullrun: the training data, if it moved since the run.")
    ] = None,
    force: ForceOption = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Save a pipeline as library/trained/<type>/<name>.zip (fitted objects as skops files)."""
    from ..errors import InputError
    from ..facade import Workspace
    from ..library.trained import save_trained
    from ..maintenance.unlisted import restore_unlisted

    ws = Workspace.open(workspace, create=False)
    restored = 0
    with contextlib.suppress(InputError):  # a bad reference is save_trained's to explain
        dataset = reference.split("/", 1)[0]
        if ws.layout.dataset_dir(dataset).is_dir():  # an interrupted run's rows first
            restored = restore_unlisted(ws, dataset)
    if restored:
        error_console().print(
            f"restored the catalog rows of {restored} pipelines an interrupted run had not indexed"
        )
    entry = save_trained(ws, reference, name, kind, data=data, force=force)
    print_notes(entry.notes)
    if json_output:
        print_json(entry.to_dict())
        return
    console().print(
        f"saved {entry.kind} [bold]{plain(entry.name)}[/] ({entry.pipelines} pipeline(s), "
        f"{human_size(entry.size)}) from {plain(entry.source)}: {plain(str(entry.path))}",
        markup=True,
    )


@app.command("list")
def list_entries(json_output: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """The trained pipelines of the library: name, type, source, score, size, date."""
    from ..facade import Workspace
    from ..library.trained import list_trained

    entries = list_trained(Workspace.open(workspace, create=False).layout)
    if json_output:
        print_json([e.to_dict() for e in entries])
        return
    rows = [
        (
            e.name,
            e.kind,
            e.source,
            _score(e),
            human_size(e.size),
            (e.created_at or "")[:16].replace("T", " "),
            e.problem or "",
        )
        for e in entries
    ]
    columns = ["name", "type", "source", "metric", "size", "date", "problem"]
    console().print(table(f"library: {len(rows)} trained pipeline(s)", columns, rows))


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Library entry (NAME or TYPE/NAME) or a zip file.")],
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Check a zip completely and describe it: pipelines, features, versions, files, trust."""
    from ..facade import resolve_root
    from ..library.trained import show_trained
    from ..workspace.layout import WorkspaceLayout

    found = show_trained(WorkspaceLayout(resolve_root(workspace)), name)
    manifest = found.zip.manifest
    if json_output:
        print_json(
            {
                **found.entry.to_dict(),
                "manifest": manifest,
                "trust_needs": found.trust_needs,
                "config_needs": found.config_needs,
            }
        )
        return
    out = console()
    predict = manifest.get("predict") or {}
    features = predict.get("feature_names") or []
    fitted = manifest.get("fitted_with") or {}
    out.print(
        f"[bold]{plain(found.entry.name)}[/] ({found.entry.kind}) from {plain(found.entry.source)}, "
        f"created {plain(str(manifest.get('created_at', ''))[:19])}: {plain(str(found.entry.path))}",
        markup=True,
    )
    out.print(f"fitted with: {', '.join(f'{k} {v}' for k, v in fitted.items() if v)}", markup=False)
    shown = ", ".join(features[:5]) + (", ..." if len(features) > 5 else "")
    out.print(
        f"predicts {predict.get('target')} ({predict.get('task')}) from "
        f"{predict.get('n_features')} features: {shown}",
        markup=False,
    )
    score = manifest.get("score") or {}
    metric = f"{score.get('partition')} {score.get('metric')}"
    rows = [
        (
            p["folder"],
            p.get("model"),
            p.get("preprocessing"),
            (p.get("metrics") or {}).get(score.get("partition"), {}).get(score.get("metric")),
            len(p["steps"]),
        )
        for p in found.zip.pipelines
    ]
    out.print(table("pipelines", ["pipeline", "model", "preprocessing", metric, "objects"], rows))
    files = [(f["name"], human_size(f["size"]), f["sha256"][:16]) for f in manifest.get("files", [])]
    out.print(table("files (every SHA-256 checked)", ["file", "size", "sha256"], files))
    if found.trust_needs:
        for member, needed in found.trust_needs.items():
            out.print(f"[yellow]needs --trust:[/] {plain(member)}: {plain(', '.join(needed))}", markup=True)
    else:
        out.print("every fitted object loads with trusted types only")
    for folder, classes in found.config_needs.items():
        out.print(
            f"[yellow]needs --trust:[/] pipeline {plain(folder)} would create {plain(', '.join(classes))}",
            markup=True,
        )


@app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="Library entry: NAME or TYPE/NAME.")],
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Delete a trained pipeline's zip from the library."""
    from ..facade import Workspace
    from ..library.trained import find_entry, remove_trained

    layout = Workspace.open(workspace, create=False).layout
    path = find_entry(layout, name)
    if dry_run:
        console().print(f"would remove {path}")
        return
    confirm_or_refuse(f"Remove library entry {name} ({path})?", yes)
    remove_trained(layout, name)
    console().print(f"removed {path}")


@app.command("import")
def import_zip(
    source: Annotated[Path, typer.Argument(help="A library or export zip.")],
    name: Annotated[str | None, typer.Option(help="Name in the library (default: the zip's).")] = None,
    trust: TrustOption = False,
    force: ForceOption = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Copy a zip into the library after checking it fully (paths, sizes, digests, object types)."""
    from ..facade import resolve_root
    from ..library.trained import import_trained
    from ..workspace.layout import WorkspaceLayout

    entry = import_trained(
        WorkspaceLayout(resolve_root(workspace)), source, name=name, trust=trust, force=force
    )
    print_notes(entry.notes)
    if json_output:
        print_json(entry.to_dict())
        return
    console().print(
        f"imported {entry.kind} [bold]{plain(entry.name)}[/] from {plain(str(source))}: "
        f"{plain(str(entry.path))}",
        markup=True,
    )


@templates_app.command("save")
def save_template(
    reference: Annotated[str, typer.Argument(help="DATASET/PIPELINE: folder name, number or hash.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Name of the template.")],
    force: ForceOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Store a pipeline's configuration (no fitted objects) as library/templates/<name>.json."""
    from ..facade import Workspace
    from ..library.templates import save_template as save

    path = save(Workspace.open(workspace, create=False), reference, name, force=force)
    console().print(
        f"saved template [bold]{plain(name)}[/]: {plain(str(path))} "
        f"(run it: nirs4all run --pipeline {plain(name)})",
        markup=True,
    )


@templates_app.command("list")
def list_templates(json_output: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """The templates of the library."""
    from ..facade import Workspace
    from ..library.templates import list_templates as listing

    entries = listing(Workspace.open(workspace, create=False).layout)
    if json_output:
        print_json([t.to_dict() for t in entries])
        return
    rows = [
        (t.name, t.steps, t.description or t.problem or "", human_size(t.size), t.modified[:16])
        for t in entries
    ]
    columns = ["name", "steps", "description", "size", "modified"]
    console().print(table(f"library: {len(rows)} template(s)", columns, rows))


@templates_app.command("remove")
def remove_template(
    name: Annotated[str, typer.Argument(help="Template name.")],
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Delete a template."""
    from ..facade import Workspace
    from ..library.templates import remove_template as remove_file

    layout = Workspace.open(workspace, create=False).layout
    path = remove_file(layout, name, dry_run=True)
    if dry_run:
        console().print(f"would remove {path}")
        return
    confirm_or_refuse(f"Remove template {name} ({path})?", yes)
    remove_file(layout, name)
    console().print(f"removed {path}")


def run_from_zip(source: Path, options: dict[str, Any], json_output: bool, workspace: Path | None) -> None:
    """``nirs4all run --from-zip``: re-run a zip's pipelines and print how the scores compare."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..facade import Workspace
    from ..library.reproduce import rerun_zip

    ws = Workspace.open(workspace)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=error_console()) as bar:
        task_id = bar.add_task(plain(safe_text(Path(source).name)), total=None)

        def advance(saved: Any, done: int, total: int) -> None:  # noqa: ARG001 - run_experiment's callback
            bar.update(task_id, completed=done, total=total)

        result = rerun_zip(ws, source, progress=advance, **options)
    print_notes(result.notes)
    comparisons = result.comparisons
    if json_output:
        print_json(
            {
                "workspace": str(ws.root),
                "dataset": result.report.dataset,
                "session": result.report.session,
                "same_data": result.same_data,
                "all_same": result.all_same,
                "pipelines": [
                    {
                        "folder": c.folder,
                        "new_folder": c.new_folder,
                        "metric": c.metric,
                        "partition": c.partition,
                        "recorded": c.recorded,
                        "rerun": c.rerun,
                        "same": c.same,
                    }
                    for c in comparisons
                ],
            }
        )
        return
    out = console()
    rows = [(c.folder, c.new_folder, c.recorded, c.rerun, "yes" if c.same else "NO") for c in comparisons]
    label = f"{comparisons[0].partition} {comparisons[0].metric}" if comparisons else "score"
    out.print(
        table(
            f"{result.report.dataset}: {len(rows)} pipeline(s) re-run from {source}",
            ["pipeline", "re-run as", f"recorded {label}", f"re-run {label}", "same"],
            rows,
        )
    )
    if not result.same_data:
        out.print(
            "[yellow]the data differs from the data the zip was fitted on: scores are not comparable[/]",
            markup=True,
        )
    elif result.all_same:
        out.print("every score is the same as recorded")
    else:
        out.print("[red]some scores differ from the recorded ones[/]", markup=True)
