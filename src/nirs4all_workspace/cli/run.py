"""``nirs4all run``: a grid search on one or more datasets."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

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
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Pipelines run in parallel (-1: all cores).")] = 1,
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
        typer.Option(help="Plots drawn into outputs/ at the end: best (the session's best), all or none."),
    ] = "best",
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
    from ..configs import load_pipeline
    from ..engines.declaration import dataset_task, declaration_of_engine
    from ..engines.registry import get_engine
    from ..experiment import check_run_options, resolve_metric, run_experiment
    from ..facade import Workspace, resolve_root
    from ..reports.run_outputs import check_plots
    from ..workspace.case_names import refuse_case_twin
    from ..workspace.layout import WorkspaceLayout

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
    files = {"reference": reference, "resample": True} if resample else {"reference": reference}
    extra = {key: value for key, value in files.items() if value is not None}  # only engines that read them
    if dataset:
        datasets = [runner.load_dataset(Path(p), target=target, task=task, **extra) for p in dataset]
    else:
        datasets = [runner.demo_dataset()]
    if len(datasets) > 1 and hasattr(runner, "align_datasets"):
        datasets = runner.align_datasets(datasets)  # time series: bar i is the same moment in each
    datasets = _named_and_checked(datasets, name, layout)
    for data in datasets:
        refuse_case_twin(layout, data.name)
    user_configs = [load_pipeline(ref, layout)[0] for ref in pipeline or []]
    plans = []
    for data in datasets:
        task_name = dataset_task(runner, data)
        resolve_metric(runner, task_name, metric)
        configs = user_configs or [_default_config(runner, data, task_name)]
        specs = [spec for config in configs for spec in runner.expand(config)]
        if not specs:
            raise InputError("the pipeline configuration expands to no pipeline")
        plans.append((data, configs[0] if len(configs) == 1 else configs, specs))

    ws = Workspace.open(layout.root)
    execute = _resumed() if resume else run_experiment  # --resume: the same call, on the variants left
    with _no_space_as_os_error(layout.root):
        reports = _run_all(ws, runner, plans, session, jobs, metric, execute, plots)
    if json_output:
        print_json({"workspace": str(ws.root), "runs": [_report_json(ws, r, top) for r in reports]})
        _refuse_unscored(reports)
        return
    out = console()
    words = declaration_of_engine(runner).word  # the engine's words: strategy, stop loss...
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


@contextmanager
def _no_space_as_os_error(root: Path) -> Iterator[None]:
    """A full disk met inside polars or pyarrow (their own error types) becomes the OSError it is."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, OSError) or "No space left on device" not in str(exc):
            raise
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(root)) from None


def _default_config(runner, data, task: str):
    """The engine's built-in grid for ``task``, fitted to the data's size where the engine knows how."""
    fitted = getattr(runner, "default_config_for", None)
    if fitted is not None:
        return fitted(data)
    return runner.default_config(task=task)


def _named_and_checked(datasets, name, layout):
    """The datasets under their names (``--name``), each checked against its folder's question.

    A folder answers one question (target, bar range, task): another is refused
    here, before anything is written.
    """
    from ..workspace.dataset_info import check_identity, identity_of
    from ..workspace.layout import validate_name

    if name is not None:
        if len(datasets) > 1:
            raise InputError("--name names one dataset: give a single --dataset with it")
        datasets = [_renamed(datasets[0], validate_name(name))]
    for data in datasets:
        validate_name(data.name)
        check_identity(layout, data.name, identity_of(data))
    return datasets


def _renamed(data, name: str):
    """The dataset ``data`` under another name (``--name``), whatever its engine."""
    import copy
    import dataclasses

    if dataclasses.is_dataclass(data):
        return dataclasses.replace(data, name=name)
    renamed = copy.copy(data)
    renamed.name = name
    return renamed


def _run_one(ws, runner, data, config, specs, session, jobs, metric, run_experiment, plots="best"):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..experiment import effective_jobs, usable_cores

    used = effective_jobs(jobs, len(specs))
    if used != jobs:
        error_console().print(
            f"-j {jobs}: using {used} process{'es' if used > 1 else ''} "
            f"({usable_cores()} cores, {len(specs)} pipelines)",
            markup=False,
        )
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


def _run_all(ws, runner, plans, session, jobs, metric, execute, plots):
    """Every planned run; Ctrl-C becomes one line: what was saved, how to resume."""
    try:
        return [
            _run_one(ws, runner, data, config, specs, session, jobs, metric, execute, plots=plots)
            for data, config, specs in plans
        ]
    except KeyboardInterrupt:
        import warnings

        # -j N: joblib warns, as its generator is dropped, that it cancelled queued tasks: they are the rest.
        warnings.filterwarnings(
            "ignore",
            message=r".*tasks which were still being processed",
            category=UserWarning,
        )
        raise _interrupted(ws, [data.name for data, _, _ in plans], session) from None


def _resumed():
    from ..resume import run_resumed

    return run_resumed


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
    _print_best(out, ws, report, label)


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
        out.print(f"session best: [bold]{top.handle.folder}[/] ({label} = {score:.4g})")
    other = _dataset_best(ws, report)
    if other is not None:
        out.print(
            f"dataset best: [bold]{other['folder']}[/] ({label} = {other['score']:.4g}, "
            f"from session {other['session']})"
        )
    left_out = newest_versions(ws.predictions, report.dataset).left_out(
        ws.predictions, report.dataset, report.partition
    )
    if left_out:
        out.print(f"{left_out} pipelines of older data versions of {report.dataset} were not ranked")
    if report.best is not None:
        out.print(f"best predictions: {ws.layout.best_csv(report.dataset, report.best.folder)}")
