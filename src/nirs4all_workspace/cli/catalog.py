"""``nirs4all catalog ...``: queries over every prediction of the workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import DryRunOption, JsonOption, WorkspaceOption, YesOption
from .prompts import confirm_or_refuse
from .render import console, print_json, rows_json, table

app = typer.Typer(
    help="Query the catalog of predictions (Parquet, survives deleted runs).", no_args_is_help=True
)

_BASE = ["dataset", "pipeline_number", "pipeline_folder", "model", "preprocessing", "partition"]


def _metric_columns(frame) -> list[str]:
    from ..catalog.schema import metric_columns

    return [c for c in metric_columns(frame.columns) if frame[c].null_count() < frame.height]


@app.command("list")
def list_predictions(
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    sort: Annotated[str | None, typer.Option(help="Metric to sort by (best first), e.g. rmse or r2.")] = None,
    top: Annotated[int, typer.Option(help="How many rows.")] = 20,
    partition: Annotated[str, typer.Option(help="train, val or test.")] = "val",
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The best predictions by a metric, across datasets or for one."""
    from ..workspace.workspace import Workspace

    ws = Workspace.open(workspace, create=False)
    frame = ws.predictions.top(top, metric=sort, partition=partition, dataset=dataset)
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


@app.command("best")
def best_prediction(
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    metric: Annotated[
        str | None, typer.Option(help="Metric (default: rmse, or accuracy for classification).")
    ] = None,
    partition: Annotated[str, typer.Option(help="train, val or test.")] = "val",
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The best completed pipeline of a dataset according to the catalog."""
    from ..errors import PipelineNotFound
    from ..workspace.workspace import Workspace

    ws = Workspace.open(workspace, create=False)
    chosen = metric or ws.predictions.default_metric(dataset)
    row = ws.predictions.best(dataset, metric=chosen, partition=partition)
    if row is None:
        raise PipelineNotFound(f"the catalog has no completed prediction for dataset {dataset!r}")
    if json_output:
        print_json({"metric": chosen, "partition": partition, "score": row[chosen], **rows_json([row])[0]})
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


@app.command("query")
def query_predictions(
    sql: Annotated[
        str, typer.Argument(help='SQL over the table "predictions", e.g. "SELECT count(*) FROM predictions".')
    ],
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Run SQL (polars dialect) over the prediction metadata."""
    from ..workspace.workspace import Workspace

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
    from ..workspace.workspace import Workspace

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
    from ..catalog.archive import archive_pipeline
    from ..workspace.workspace import Workspace

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
    from ..catalog.rebuild import rebuild_catalog
    from ..workspace.workspace import Workspace

    ws = Workspace.open(workspace, create=False)
    plan = rebuild_catalog(ws, dry_run=True)
    if not dry_run:
        confirm_or_refuse(
            f"Rebuild the catalog from {plan.from_folders} pipeline folders and {plan.from_archives} "
            f"archived pipelines ({plan.dropped or 0} rows of deleted, unarchived pipelines dropped)?",
            yes,
        )
    report = plan if dry_run else rebuild_catalog(ws)
    if json_output:
        print_json(report.to_dict())
        return
    verb = "would rebuild" if dry_run else "rebuilt"
    console().print(
        f"{verb} {report.rows} rows from {report.from_folders} pipeline folders and "
        f"{report.from_archives} archived pipelines; {report.dropped or 0} rows dropped"
    )
    for problem in report.skipped[:10]:
        console().print(f"[yellow]skipped[/] {problem}")


@app.command("report")
def catalog_report(workspace: WorkspaceOption = None) -> None:
    """Write catalog/reports/: global_performance.html and dataset_history/DATASET.html."""
    from ..reports.catalog_reports import write_catalog_reports
    from ..workspace.workspace import Workspace

    paths = write_catalog_reports(Workspace.open(workspace, create=False))
    out = console()
    for path in paths:
        out.print(str(path), soft_wrap=True)
