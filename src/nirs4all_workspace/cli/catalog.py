"""``nirs4all catalog ...``: queries over every prediction of the workspace."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from .options import DryRunOption, JsonOption, WorkspaceOption, YesOption
from .prompts import confirm_or_refuse
from .render import console, error_console, print_json, rows_json, table

app = typer.Typer(
    help="Query the catalog of predictions (Parquet, survives deleted runs).", no_args_is_help=True
)

AllVersionsOption = Annotated[
    bool,
    typer.Option(
        "--all-versions", help="Rank the pipelines of every data version (default: the newest only)."
    ),
]

_BASE = ["dataset", "pipeline_number", "pipeline_folder", "model", "preprocessing", "partition"]


def _metric_columns(frame) -> list[str]:
    from ..catalog.schema import metric_columns

    return [c for c in metric_columns(frame.columns) if frame[c].null_count() < frame.height]


@app.command("list")
def list_predictions(
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    sort: Annotated[str | None, typer.Option(help="Metric to sort by (best first), e.g. rmse or r2.")] = None,
    top: Annotated[int, typer.Option(min=1, help="How many rows.")] = 20,
    partition: Annotated[str, typer.Option(help="train, val or test.")] = "val",
    all_versions: AllVersionsOption = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The best predictions by a metric, across datasets or for one (newest data versions)."""
    from ..catalog.versions import newest_versions, split_metric
    from ..facade import Workspace

    ws = Workspace.open(workspace, create=False)
    if sort is not None:
        sort, partition = split_metric(sort, partition)
    if dataset is not None and ws.predictions.count():
        _check_known(ws, dataset)
    versions = newest_versions(ws.predictions, dataset, all_versions)
    frame = ws.predictions.top(top, metric=sort, partition=partition, dataset=dataset, where=versions.where)
    if json_output:
        print_json(rows_json(frame.to_dicts()))
        return
    columns = _BASE + _metric_columns(frame)
    rows = [[row[c] for c in columns] for row in frame.select(columns).iter_rows(named=True)]
    from ..catalog.engine_metrics import words_for

    words = words_for(frame["engine"].unique().to_list() if "engine" in frame.columns else [])
    headers = ["dataset", "#", "pipeline", words["model"], words["preprocessing"], "partition"]
    headers += columns[len(_BASE) :]
    console().print(table(f"catalog: top {frame.height} ({partition})", headers, rows))
    _say_left_out(versions.left_out(ws.predictions, dataset, partition))


def _unlisted_note(unlisted: int, dataset: str) -> str:
    return (
        f"{unlisted} finished pipelines of {dataset!r} are not in the catalog yet (a run under way, "
        "or one interrupted: the next run on it or 'nirs4all workspace verify --repair' adds them)"
    )


def _check_known(ws, dataset: str) -> None:
    """PipelineNotFound for a dataset the catalog lacks, naming the finished pipelines it has on disk."""
    from ..catalog.versions import check_dataset
    from ..errors import PipelineNotFound

    try:
        check_dataset(ws.predictions, dataset)
    except PipelineNotFound:
        # Not in the catalog, yet its folders may hold finished pipelines a kill left unindexed.
        unlisted = _unlisted_or_none(ws, dataset)
        if not unlisted:
            raise
        raise PipelineNotFound(_unlisted_note(unlisted, dataset)) from None


def _unlisted_or_none(ws, dataset: str) -> int:
    from ..errors import WorkspaceError
    from ..maintenance.unlisted import unlisted_pipelines

    try:
        return len(unlisted_pipelines(ws, dataset))
    except WorkspaceError:  # a name no folder can have: it is simply unknown
        return 0


def _nothing_ranked(predictions, dataset: str, metric: str, partition: str) -> str:
    """Why ``catalog best`` found no row: a partition the dataset lacks is named as such."""
    import polars as pl

    frame = predictions.collect(
        predictions.scan().filter(pl.col("dataset") == dataset).select("partition").unique()
    )
    present = sorted(p for p in frame["partition"].to_list() if p)
    if present and partition not in present:
        return (
            f"the catalog has no {partition!r} {metric} for dataset {dataset!r}: its pipelines have "
            f"partitions: {', '.join(present)}"
        )
    return f"the catalog has no completed {partition} {metric} for dataset {dataset!r}"


@app.command("best")
def best_prediction(
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    metric: Annotated[
        str | None, typer.Option(help="Metric (default: rmse, or accuracy for classification).")
    ] = None,
    partition: Annotated[str, typer.Option(help="train, val or test.")] = "val",
    all_versions: AllVersionsOption = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The best completed pipeline of a dataset according to the catalog (its newest data version)."""
    from ..catalog.versions import newest_versions, split_metric
    from ..errors import PipelineNotFound
    from ..facade import Workspace
    from ..maintenance.unlisted import unlisted_pipelines

    ws = Workspace.open(workspace, create=False)
    _check_known(ws, dataset)
    if metric is not None:
        metric, partition = split_metric(metric, partition)
    chosen = metric or ws.predictions.default_metric(dataset)
    versions = newest_versions(ws.predictions, dataset, all_versions)
    rows_found = ws.predictions.top(
        1, metric=chosen, partition=partition, dataset=dataset, where=versions.where
    )
    row = rows_found.row(0, named=True) if rows_found.height else None
    unlisted = len(unlisted_pipelines(ws, dataset))
    if unlisted:
        error_console().print(
            f"[yellow]warning:[/] {escape(_unlisted_note(unlisted, dataset))}", soft_wrap=True, markup=True
        )
    if row is None:
        raise PipelineNotFound(_nothing_ranked(ws.predictions, dataset, chosen, partition))
    left_out = versions.left_out(ws.predictions, dataset, partition)
    if json_output:
        print_json(
            {
                "metric": chosen,
                "partition": partition,
                "score": row[chosen],
                "older_versions_left_out": left_out,
                "unlisted_pipelines": unlisted,
                **rows_json([row])[0],
            }
        )
        return
    from ..catalog.engine_metrics import GENERIC_WORDS, words_for

    out = console()
    words = words_for([row.get("engine") or ""])
    keys = ["pipeline_folder", "pipeline_number", "model", "preprocessing", "session", "path", "created_at"]
    if words["n_samples"] != GENERIC_WORDS["n_samples"]:  # the engine's own unit (e.g. trades)
        keys.insert(4, "n_samples")
    rows = [(words.get(key, key), row.get(key)) for key in keys]
    rows.insert(0, (f"{partition} {chosen}", row[chosen]))
    out.print(table(f"best of {dataset}", ["field", "value"], rows))
    _say_left_out(left_out)


def _say_left_out(count: int) -> None:
    if count:
        console().print(
            f"{count} pipelines of older data versions left out (--all-versions ranks them too)",
            soft_wrap=True,
        )


@app.command("query")
def query_predictions(
    sql: Annotated[
        str, typer.Argument(help='SQL over the table "predictions", e.g. "SELECT count(*) FROM predictions".')
    ],
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Run SQL (polars dialect) over the prediction metadata."""
    from ..facade import Workspace

    frame = Workspace.open(workspace, create=False).predictions.query(sql)
    if json_output:
        print_json(rows_json(frame.to_dicts()))
        return
    console().print(table(None, frame.columns, frame.rows()))


@app.command("compact")
def compact_catalog(
    full: Annotated[
        bool, typer.Option("--full", help="Fold the arrays too, however few new rows they hold.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Fold the appended fragments into the two Parquet files."""
    from ..facade import Workspace

    report = Workspace.open(workspace, create=False).predictions.compact(full=full)
    arrays = f"; arrays of {report.data_folded} fragments folded" if report.data_folded else ""
    console().print(
        f"compacted {report.fragments} fragments ({report.rows} rows){arrays}; "
        f"catalog holds {report.meta_rows_total} rows"
    )


@app.command("archive")
def archive_prediction(
    reference: Annotated[str, typer.Argument(help="DATASET/PIPELINE: folder name, number or hash.")],
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Keep a permanent copy of a pipeline (predictions + zip) that survives deleting its run."""
    from ..facade import Workspace
    from ..maintenance.archive_pipeline import archive_pipeline

    report = archive_pipeline(Workspace.open(workspace, create=False), reference)
    if json_output:
        print_json(report.to_dict())
        return
    out = console()
    out.print(f"archived {report.dataset}/{report.folder}: {report.archive} ({report.files} files)")
    if report.predictions:
        out.print(f"predictions: {report.predictions}")


@app.command("rebuild")
def rebuild(
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Rebuild both Parquet files from the run folders and the archives alone."""
    from ..facade import Workspace
    from ..maintenance.rebuild import rebuild_catalog

    ws = Workspace.open(workspace, create=False)
    plan = rebuild_catalog(ws, dry_run=True)
    for problem in plan.unrecovered:  # before anything is replaced
        error_console().print(
            f"[yellow]cannot recover:[/] {escape(str(problem))}", soft_wrap=True, markup=True
        )
    if not dry_run:
        confirm_or_refuse(
            f"Rebuild the catalog from {plan.from_folders} pipeline folders, {plan.from_trash} in the "
            f"trash and {plan.from_archives} archived pipelines, keeping {plan.kept} rows of pipelines "
            "no longer on disk"
            f"{f' ({len(plan.unrecovered)} problems above)' if plan.unrecovered else ''}?",
            yes,
        )
    report = plan if dry_run else rebuild_catalog(ws)
    if json_output:
        print_json(report.to_dict())
        return
    verb = "would rebuild" if dry_run else "rebuilt"
    console().print(
        f"{verb} {report.rows} rows from {report.from_folders} pipeline folders, {report.from_trash} "
        f"in the trash and {report.from_archives} archived pipelines, {report.kept} rows kept of "
        f"pipelines no longer on disk; {report.dropped or 0} rows dropped"
    )
    for problem in report.skipped[:10]:
        console().print(f"[yellow]skipped[/] {escape(str(problem))}", markup=True)


@app.command("report")
def catalog_report(workspace: WorkspaceOption = None) -> None:
    """Write catalog/reports/: global_performance.html and dataset_history/DATASET.html."""
    from ..facade import Workspace
    from ..reports.catalog_reports import write_catalog_reports

    paths = write_catalog_reports(Workspace.open(workspace, create=False))
    out = console()
    for path in paths:
        out.print(str(path), soft_wrap=True)
