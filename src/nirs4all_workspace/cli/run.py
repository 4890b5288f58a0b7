"""``nirs4all run``: a grid search on one or more datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import InputError
from .options import JsonOption, WorkspaceOption
from .render import console, error_console, print_json, table


def run(
    dataset: Annotated[
        list[Path] | None,
        typer.Option("--dataset", "-d", help="CSV/Parquet file or Xcal/Ycal folder; repeat for several."),
    ] = None,
    pipeline: Annotated[
        list[str] | None,
        typer.Option("--pipeline", "-p", help="Pipeline config (YAML/JSON) or library template; repeatable."),
    ] = None,
    session: Annotated[str | None, typer.Option(help="Session name (default: the start time).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Pipelines run in parallel (-1: all cores).")] = 1,
    metric: Annotated[
        str | None, typer.Option(help="Metric that picks the best, e.g. rmse, r2, accuracy, test_rmse.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Target column of a CSV/Parquet dataset (default: last).")
    ] = None,
    task: Annotated[
        str | None, typer.Option(help="regression or classification (default: from the target).")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="Engine that expands and executes pipelines (default: the default engine)."),
    ] = None,
    top: Annotated[int, typer.Option(help="Rows of the final table.")] = 10,
    plots: Annotated[
        str,
        typer.Option(help="Plots drawn into outputs/ at the end: best (the session's best), all or none."),
    ] = "best",
    from_zip: Annotated[
        Path | None,
        typer.Option("--from-zip", help="Re-run the pipelines of a library zip (fullrun: on its own data)."),
    ] = None,
    trust: Annotated[
        bool, typer.Option("--trust", help="--from-zip: accept classes and objects that are not trusted.")
    ] = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Run every pipeline variant on each dataset and store the results.

    With no --dataset and no --pipeline: the built-in demo dataset and demo grid.
    """
    from ..configs import load_pipeline
    from ..engines.declaration import dataset_task, declaration_of_engine
    from ..engines.registry import get_engine
    from ..experiment import check_run_options, resolve_metric, run_experiment
    from ..reports.run_outputs import check_plots
    from ..workspace.layout import WorkspaceLayout, validate_name
    from ..workspace.workspace import Workspace, resolve_root

    if task not in (None, "regression", "classification"):
        raise InputError(f"--task must be regression or classification, not {task!r}")
    if top < 1:
        raise InputError("--top must be at least 1")
    session = check_run_options(session, jobs)
    check_plots(plots)
    layout = WorkspaceLayout(resolve_root(workspace))
    runner = get_engine(engine)
    if from_zip is not None:
        from .library import run_from_zip

        if pipeline or (dataset and len(dataset) > 1):
            raise InputError("--from-zip runs the zip's pipelines: no --pipeline, at most one --dataset")
        data = runner.load_dataset(Path(dataset[0]), target=target, task=task) if dataset else None
        options = {"dataset": data, "session": session, "n_jobs": jobs, "metric": metric, "trust": trust}
        run_from_zip(from_zip, {**options, "plots": plots}, json_output, workspace)
        return
    # Everything is read and validated before the workspace is touched.
    if dataset:
        datasets = [runner.load_dataset(Path(p), target=target, task=task) for p in dataset]
    else:
        datasets = [runner.demo_dataset()]
    if len(datasets) > 1 and hasattr(runner, "align_datasets"):
        datasets = runner.align_datasets(datasets)  # time series: bar i is the same moment in each
    for data in datasets:
        validate_name(data.name)
    user_configs = [load_pipeline(ref, layout)[0] for ref in pipeline or []]
    plans = []
    for data in datasets:
        task_name = dataset_task(runner, data)
        resolve_metric(runner, task_name, metric)
        configs = user_configs or [runner.default_config(task=task_name)]
        specs = [spec for config in configs for spec in runner.expand(config)]
        if not specs:
            raise InputError("the pipeline configuration expands to no pipeline")
        plans.append((data, configs[0] if len(configs) == 1 else configs, specs))

    ws = Workspace.open(layout.root)
    reports = [
        _run_one(ws, runner, data, config, specs, session, jobs, metric, run_experiment, plots=plots)
        for data, config, specs in plans
    ]
    if json_output:
        print_json({"workspace": str(ws.root), "runs": [_report_json(ws, r, top) for r in reports]})
        return
    out = console()
    words = declaration_of_engine(runner).word  # the engine's words: strategy, stop loss...
    for report in reports:
        _print_report(out, ws, report, top, words)


def _run_one(ws, runner, data, config, specs, session, jobs, metric, run_experiment, plots="best"):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=error_console(),
        transient=False,
    ) as bar:
        task_id = bar.add_task(f"{data.name}", total=len(specs), last="")

        def advance(saved, done, total):  # noqa: ARG001
            bar.update(task_id, completed=done, last=saved.handle.folder)

        return run_experiment(
            ws,
            runner,
            data,
            config,
            specs=specs,
            session=session,
            n_jobs=jobs,
            metric=metric,
            progress=advance,
            plots=plots,
        )


def _ranked(report, top):
    """The ``top`` pipelines of this session by the session's metric."""
    partition = report.partition
    scored = [s for s in report.saved if s.score(report.metric, partition) is not None]
    scored.sort(key=lambda s: s.score(report.metric, partition), reverse=report.direction == "max")
    return scored[:top], partition


def _report_json(ws, report, top) -> dict[str, Any]:
    ranked, partition = _ranked(report, top)
    best = report.best
    return {
        "dataset": report.dataset,
        "session": report.session,
        "metric": report.metric,
        "partition": partition,
        "direction": report.direction,
        "pipelines": report.summary.pipelines,
        "completed": report.summary.completed,
        "failed": report.summary.failed,
        "duration_s": report.summary.duration_s,
        "best": None
        if best is None
        else {
            "folder": best.folder,
            "number": best.number,
            "score": best.score,
            "file": str(ws.layout.best_csv(report.dataset, best.folder)),
        },
        "top": [
            {
                "folder": s.handle.folder,
                "model": s.record["model"],
                "preprocessing": s.record["preprocessing"],
                "score": s.score(report.metric, partition),
                "status": s.status,
            }
            for s in ranked
        ],
        **_outputs_json(report.outputs),
        **({"analytics": [str(p) for p in report.engine_summary.files]} if report.engine_summary else {}),
    }


def _outputs_json(outputs) -> dict[str, Any]:
    """The plots and session report drawn at the end, and the seconds they added."""
    if outputs is None:
        return {}
    return {
        "report": str(outputs.report) if outputs.report else None,
        "plots": [str(p) for p in outputs.plots],
        "plots_s": round(outputs.plots_s, 3),
        "report_s": round(outputs.report_s, 3),
        "report_error": outputs.error,
    }


def _print_report(out, ws, report, top, words=str) -> None:
    ranked, partition = _ranked(report, top)
    label = f"{partition} {report.metric}"
    with_test = any(report.metric in s.metrics.get("test", {}) for s in ranked) and partition != "test"
    columns = ["pipeline", words("model"), words("preprocessing"), label]
    columns += [f"test {report.metric}"] if with_test else []
    rows = [
        (s.handle.folder, s.record["model"], s.record["preprocessing"], s.score(report.metric, partition))
        + ((s.metrics.get("test", {}).get(report.metric),) if with_test else ())
        for s in ranked
    ]
    title = (
        f"{report.dataset}: top {len(rows)} of {report.summary.pipelines} pipelines by {label} "
        f"({report.summary.completed} completed, {report.summary.failed} failed, "
        f"{report.summary.duration_s:.1f} s)"
    )
    out.print(table(title, columns, rows))
    if report.best is not None:
        best_file = ws.layout.best_csv(report.dataset, report.best.folder)
        out.print(f"best: [bold]{report.best.folder}[/] ({label} = {report.best.score:.4g})")
        out.print(f"best predictions: {best_file}")
    for error in report.summary.errors[:5]:
        out.print(f"[red]failed[/] {error['folder']}: {error['error']}")
    outputs = report.outputs
    if outputs is not None and outputs.report is not None:
        drawn = f"{len(outputs.plots)} plots and the report" if outputs.plots else "the report"
        out.print(f"report: {outputs.report} ({drawn} took {outputs.seconds:.1f} s)")
    if outputs is not None and outputs.error:
        out.print(f"[yellow]warning:[/] plots or report not written: {outputs.error}")
    summary = getattr(report, "engine_summary", None)
    if summary is not None and summary.files:
        out.print(f"analytics: {summary.files[0].parent}")
    if summary is not None and summary.error:
        out.print(f"[yellow]warning:[/] analytics not written: {summary.error}")
