"""``nirs4all run``: a grid search on one or more datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..errors import InputError, WorkspaceError
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
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="Processes for the pipelines (-1: all cores); workers start when the grid pays for them.",
        ),
    ] = 1,
    backend: Annotated[
        str, typer.Option(help="Where pipelines execute: loky (local processes), dask or ray.")
    ] = "loky",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default with dask: a local cluster).")
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="Metric that picks the best, e.g. rmse, r2, accuracy, test_rmse.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Target column of a CSV/Parquet dataset (default: last).")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Dataset name (default: the file or folder name); one --dataset."),
    ] = None,
    task: Annotated[
        str | None, typer.Option(help="regression or classification (default: from the target).")
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(help="With a folder of instrument files: the CSV naming each file and its target(s)."),
    ] = None,
    resample: Annotated[
        bool, typer.Option("--resample", help="--reference: put spectra on different axes onto one.")
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(help="Engine that expands and executes pipelines (default: the default engine)."),
    ] = None,
    top: Annotated[int, typer.Option(help="Rows of the final table.")] = 10,
    plots: Annotated[
        str,
        typer.Option(
            help="Figures at the end: report (in the session report only), best (also the best "
            "pipeline's PNGs in outputs/), all (PNGs of every completed pipeline) or none."
        ),
    ] = "report",
    from_zip: Annotated[
        Path | None,
        typer.Option("--from-zip", help="Re-run the pipelines of a library zip (fullrun: on its own data)."),
    ] = None,
    trust: Annotated[
        bool, typer.Option("--trust", help="--from-zip: accept classes and objects that are not trusted.")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Run only the variants not completed on the dataset yet (after a stop)."
        ),
    ] = False,
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Run every pipeline variant on each dataset and store the results.

    With no --dataset and no --pipeline: the built-in demo dataset and demo grid.
    With --resume: the same command again after a stop; completed variants are reused, not refitted.
    """
    from ..engines.declaration import declaration_of_engine
    from ..planning import plan_run

    if top < 1:
        raise InputError("--top must be at least 1")
    if from_zip is not None:
        from ..engines.registry import get_engine
        from ..experiment import check_run_options
        from .library import run_from_zip

        if pipeline or (dataset and len(dataset) > 1):
            raise InputError("--from-zip runs the zip's pipelines: no --pipeline, at most one --dataset")
        if backend != "loky" or scheduler:
            raise InputError("--from-zip runs on this machine: no --backend or --scheduler with it")
        session = check_run_options(session, jobs)
        runner = get_engine(engine)
        data = runner.load_dataset(Path(dataset[0]), target=target, task=task) if dataset else None
        options = {"dataset": data, "session": session, "n_jobs": jobs, "metric": metric, "trust": trust}
        run_from_zip(from_zip, {**options, "plots": plots}, json_output, workspace)
        return
    plan = plan_run(
        workspace,
        engine=engine,
        datasets=dataset or (),
        pipelines=pipeline or (),
        name=name,
        target=target,
        task=task,
        reference=reference,
        resample=resample,
        session=session,
        n_jobs=jobs,
        metric=metric,
        plots=plots,
        resume=resume,
        backend=backend,
        scheduler=scheduler,
    )
    ws, reports = _execute(plan)
    if json_output:
        print_json({"workspace": str(ws.root), "runs": [_report_json(ws, r, top) for r in reports]})
        _refuse_unscored(reports)
        return
    out = console()
    words = declaration_of_engine(plan.engine).word  # the engine's words: strategy, stop loss...
    for report in reports:
        _print_report(out, ws, report, top, words)
    _refuse_unscored(reports)


def _refuse_unscored(reports) -> None:
    """A run in which no pipeline got a score is a failure: exit 1 saying why."""
    from ..errors import WorkspaceError
    from ..experiment import unscored_reason

    reasons = [reason for reason in map(unscored_reason, reports) if reason]
    if reasons:
        raise WorkspaceError(" | ".join(reasons))


def _execute(plan):
    """Run the plan, a progress bar per dataset; Ctrl-C becomes one line: what was saved, how to resume."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..experiment import effective_jobs, usable_cores
    from ..facade import Workspace
    from ..planning import execute_plan

    def say_jobs(planned):
        if plan.backend != "loky":
            return  # a cluster: -j is its business
        used = effective_jobs(plan.n_jobs, len(planned.specs))
        if used != plan.n_jobs:
            error_console().print(
                f"-j {plan.n_jobs}: using {used} process{'es' if used > 1 else ''} "
                f"({usable_cores()} cores, {len(planned.specs)} pipelines)",
                markup=False,
            )

    bars = []

    def progress(planned):
        bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[last]}"),
            console=error_console(),
            transient=False,
        )
        bars.append(bar)
        bar.start()
        task_id = bar.add_task(f"{planned.dataset.name}", total=len(planned.specs), last="")

        def advance(saved, done, total):
            bar.update(task_id, completed=done, last=saved.handle.folder)
            if done == total:
                bar.stop()

        return advance

    try:
        reports = execute_plan(plan, progress, before=say_jobs)
    except KeyboardInterrupt:
        import warnings

        # -j N: joblib warns, as its generator is dropped, that it cancelled queued tasks: they are the rest.
        warnings.filterwarnings(
            "ignore",
            message=r".*tasks which were still being processed",
            category=UserWarning,
        )
        ws = Workspace.open(plan.root)
        raise _interrupted(ws, [p.dataset.name for p in plan.datasets], plan.session) from None
    finally:
        for bar in bars:
            bar.stop()
    return Workspace.open(plan.root), reports


def _interrupted(ws, datasets, session):
    """Ctrl-C: how many pipelines this command saved, and the command that resumes it."""
    import shlex
    import sys

    from ..errors import Interrupted
    from ..resume import session_pipelines

    saved = session_pipelines(ws, datasets, session)
    args = sys.argv[1:]
    if "run" in args:
        again = "nirs4all " + shlex.join([*args, *([] if "--resume" in args else ["--resume"])])
    else:
        again = "the same 'nirs4all run' command with --resume"
    return Interrupted(f"interrupted: {saved} pipeline(s) saved; to run the rest: {again}")


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
        "restored": report.restored,
        "best": None
        if best is None
        else {
            "folder": best.folder,
            "number": best.number,
            "score": best.score,
            "file": str(ws.layout.best_csv(report.dataset, best.folder)),
        },
        "dataset_best": _dataset_best(ws, report),
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
        **({"reused": report.reused} if getattr(report, "reused", 0) else {}),
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
    if report.restored:
        restored = report.restored
        out.print(f"restored the catalog rows of {restored} pipelines an interrupted run had not indexed")
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
    if getattr(report, "reused", 0):
        out.print(f"resumed: {report.reused} of {report.summary.pipelines} pipelines had completed, reused")
    _print_failures(out, ws, report)
    outputs = report.outputs
    if outputs is not None and outputs.report is not None:
        drawn = f"{len(outputs.plots)} plots and the report" if outputs.plots else "the report"
        out.print(f"report: {outputs.report} ({drawn} took {outputs.seconds:.1f} s)")
    if outputs is not None and outputs.error:
        out.print(
            f"[yellow]warning:[/] plots or report not written: {escape(str(outputs.error))}", markup=True
        )
    summary = getattr(report, "engine_summary", None)
    if summary is not None and summary.files:
        out.print(f"analytics: {summary.files[0].parent}")
    if summary is not None and summary.error:
        out.print(f"[yellow]warning:[/] analytics not written: {escape(str(summary.error))}", markup=True)
    _print_best(out, ws, report, label)


SHOWN_FAILURES = 3


def _print_failures(out, ws, report) -> None:
    """How many pipelines failed and the first few errors; run.log lists every one."""
    from rich.markup import escape

    errors = report.summary.errors
    if not errors:
        return
    out.print(f"[red]{len(errors)} of {report.summary.pipelines} pipelines failed[/]:", markup=True)
    for error in errors[:SHOWN_FAILURES]:
        out.print(f"  {escape(error['folder'])}: {escape(str(error['error']))}", markup=True)
    more = f"and {len(errors) - SHOWN_FAILURES} more; " if len(errors) > SHOWN_FAILURES else ""
    out.print(f"  ({more}{ws.layout.run_log(report.dataset)} lists every failed pipeline)", markup=False)


def _dataset_best(ws, report) -> dict[str, Any] | None:
    """The dataset's best (newest data version) when it is not this session's, with its session."""
    best = report.best
    session_best = _ranked(report, 1)[0]
    if best is None or (session_best and session_best[0].handle.folder == best.folder):
        return None
    try:
        session = ws.manifests.read_pipeline(report.dataset, best.folder).get("session")
    except WorkspaceError:
        session = None
    return {"folder": best.folder, "number": best.number, "score": best.score, "session": session}


def _print_best(out, ws, report, label) -> None:
    """Last lines: the session's best and, when another session holds it, the dataset's best."""
    from ..catalog.versions import newest_versions

    session_best = _ranked(report, 1)[0]
    if session_best:
        top = session_best[0]
        score = top.score(report.metric, report.partition)
        out.print(
            f"session best: [bold]{escape(top.handle.folder)}[/] ({escape(label)} = {score:.4g})", markup=True
        )
    other = _dataset_best(ws, report)
    if other is not None:
        out.print(
            f"dataset best: [bold]{escape(other['folder'])}[/] ({escape(label)} = {other['score']:.4g}, "
            f"from session {escape(str(other['session']))})",
            markup=True,
        )
    left_out = newest_versions(ws.predictions, report.dataset).left_out(
        ws.predictions, report.dataset, report.partition
    )
    if left_out:
        out.print(f"{left_out} pipelines of older data versions of {report.dataset} were not ranked")
    if report.best is not None:
        out.print(f"best predictions: {ws.layout.best_csv(report.dataset, report.best.folder)}")
