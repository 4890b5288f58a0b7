"""Running a grid search: expand, execute (in parallel), save, catalog, keep the best.

This is the library behind ``nirs4all run``. The engine executes; with
``n_jobs > 1`` pipelines run in worker processes when the grid is worth them
(:mod:`.parallel`) and serialize their fitted objects there; the calling process
alone writes, in the order of the expansion, so numbering follows the grid and
``-j 2`` stores the same results as ``-j 1``. Catalog rows are appended in
batches (one fragment per batch).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .catalog.records import fill_catalog_rows
from .catalog.versions import split_metric
from .engines.base import PipelineSpec
from .engines.declaration import dataset_task, declaration_of_engine
from .errors import InputError
from .facade import Workspace
from .parallel import (  # noqa: F401  (execute_*: the worker side, importable from here as before)
    effective_jobs,
    execute_and_serialize,
    execute_group_and_serialize,
    run_groups,
    usable_cores,
)
from .post_run import PostRunStep, RunEnd, check_post_run_options, run_post_steps
from .workspace.best import BestResult
from .workspace.case_names import refuse_case_twin
from .workspace.dataset_info import identity_of, record_dataset
from .workspace.layout import validate_name
from .workspace.locking import FileLock
from .workspace.saver import SavedPipeline
from .workspace.sessions import SessionSummary

if TYPE_CHECKING:
    from .reports.run_outputs import RunOutputs
    from .stored_results import SummaryOutcome

CATALOG_BATCH_PIPELINES = 64
CATALOG_BATCH_SECONDS = 2.0
AUTO_COMPACT_FRAGMENTS = 64

ProgressCallback = Callable[[SavedPipeline, int, int], None]


@dataclass
class ExperimentReport:
    """Outcome of one session on one dataset."""

    dataset: str
    session: str
    metric: str
    direction: str
    partition: str
    summary: SessionSummary
    saved: list[SavedPipeline] = field(default_factory=list)
    best: BestResult | None = None
    outputs: RunOutputs | None = None  # plots and session report drawn at the end
    engine_summary: SummaryOutcome | None = None  # files of the engine's summarize() (e.g. _analytics/)
    restored: int = 0  # finished pipelines of an interrupted run whose catalog rows were restored first
    reused: int = 0  # pipelines of the grid completed before and not run again (run --resume)
    execution: str = ""  # where the pipelines ran: this process or workers, and why (also in run.log)


def default_session_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def resolve_metric(engine: Any, task: str, metric: str | None) -> tuple[str, str, str]:
    """(metric, direction, partition) from ``--metric`` (e.g. ``r2`` or ``test_rmse``)."""
    if not metric:
        name, direction = engine.default_metric(task)
        return name, direction, "val"
    metric, partition = split_metric(metric)  # the one reading of "test_rmse", "val_r2"... (catalog too)
    directions = dict(declaration_of_engine(engine).metrics)
    if metric not in directions:
        raise InputError(f"unknown metric {metric!r}; choose one of: {', '.join(sorted(directions))}")
    # An engine that says which metrics a task has (optional ``task_metrics``) gets a
    # metric of another task refused here, before anything runs.
    scored = engine.task_metrics(task) if callable(getattr(engine, "task_metrics", None)) else None
    if scored and metric not in scored:
        raise InputError(
            f"metric {metric!r} does not apply to a {task} dataset; choose one of: {', '.join(scored)}"
        )
    return metric, directions[metric], partition


def _engine_versions(engine: Any) -> dict[str, str]:
    versions = {}
    for package in getattr(engine, "packages", ("scikit-learn", "numpy")):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            continue
    return versions


class _CatalogBatch:
    """Collects catalog rows and appends them as one fragment per batch."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.meta: list[dict[str, Any]] = []
        self.data: list[dict[str, Any]] = []
        self.pipelines = 0
        self.since = time.monotonic()

    def add(self, saved: SavedPipeline) -> None:
        fill_catalog_rows(saved)
        self.meta.extend(saved.meta_rows)
        self.data.extend(saved.data_rows)
        self.pipelines += 1
        if self.pipelines >= CATALOG_BATCH_PIPELINES or time.monotonic() - self.since > CATALOG_BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.meta:  # append_new: a restore or a rebuild may have indexed these folders already
            self.workspace.predictions.append_new(self.meta, self.data)
        self.meta, self.data, self.pipelines, self.since = [], [], 0, time.monotonic()


def check_run_options(session: str | None, n_jobs: int) -> str:
    """The session name to use; InputError for a bad name or process count."""
    if n_jobs == 0 or n_jobs < -1:
        raise InputError(f"-j must be a positive number of processes (or -1 for all cores), not {n_jobs}")
    return validate_name(session or default_session_name(), "session")


def run_experiment(
    workspace: Workspace,
    engine: Any,
    dataset: Any,
    config: Mapping[str, Any] | list[Any],
    *,
    session: str | None = None,
    n_jobs: int = 1,
    metric: str | None = None,
    specs: list[PipelineSpec] | None = None,
    progress: ProgressCallback | None = None,
    plots: str = "report",
    backend: str = "loky",
    post_run: tuple[PostRunStep, ...] | None = None,
) -> ExperimentReport:
    """Run every variant of ``config`` on ``dataset`` and store the results.

    The configuration is expanded (and validated) before anything is written,
    so a bad configuration leaves the workspace untouched. Raises InputError
    for a bad session name, metric, ``n_jobs`` or ``plots``.

    Once every pipeline has finished, the post-run steps run (``post_run``, default:
    the registered ones, see :mod:`.post_run`): the engine's dataset summary, the
    session report ``exports/session_reports/<dataset>.html`` with its figures and the
    PNGs asked for (``plots``: ``report``, ``best``, ``all`` or ``none``, see
    ``reports/run_outputs.py``; ``report.outputs``), the exports.
    ``backend`` names the joblib backend that executes the pipelines (``loky``,
    or ``dask``/``ray`` inside their client); the calling process still writes.
    """
    from .maintenance.unlisted import restore_unlisted

    session = check_run_options(session, n_jobs)
    check_post_run_options({"plots": plots}, post_run)
    dataset_name = validate_name(dataset.name)
    task = dataset_task(engine, dataset)
    metric_name, direction, partition = resolve_metric(engine, task, metric)
    specs = specs if specs is not None else engine.expand(config)
    if backend == "loky":  # more local processes than cores or pipelines only cost (a cluster may have more)
        n_jobs = effective_jobs(n_jobs, len(specs))
    refuse_case_twin(workspace.layout, dataset_name)
    versions = _engine_versions(engine)

    # What predict needs later (feature names, target) and the question the folder answers
    # (refused here, before anything is written, if it holds another): _state/dataset.json.
    identity = identity_of(dataset)
    record_dataset(workspace.layout, dataset_name, session, dataset, identity)
    workspace.sessions.begin(
        dataset_name,
        session,
        {
            "engine": engine.name,
            "source": str(getattr(dataset, "source", "")),
            "config": config,
            "n_variants": len(specs),
            "metric": metric_name,
            "partition": partition,
            "direction": direction,
            "n_jobs": n_jobs,
            "identity": identity.to_dict(),
        },
    )
    summary = SessionSummary(session=session, started_at=datetime.now(UTC).isoformat())
    report = ExperimentReport(dataset_name, session, metric_name, direction, partition, summary)
    batch = _CatalogBatch(workspace)
    start = time.perf_counter()
    # A lease on the dataset: 'workspace verify --repair' waits for it before touching folders.
    lease = FileLock(workspace.layout.writers_lock(dataset_name), timeout=3600.0, shared=True)
    lease.acquire()
    try:
        # A run killed between two catalog batches left finished pipelines without rows.
        report.restored = restore_unlisted(workspace, dataset_name)
        results = run_groups(engine, specs, dataset, n_jobs, backend, _teller(workspace, report))
        for done, (spec, (result, artifacts)) in enumerate(results, 1):
            saved = workspace.saver.save(
                dataset_name,
                spec,
                result,
                artifacts,
                session=session,
                engine=engine.name,
                n_samples=getattr(dataset, "n_samples", None),
                n_features=getattr(dataset, "n_features", None),
                versions=versions,
                target=identity.target,
                data_digest=identity.digest,
            )
            batch.add(saved)
            workspace.best.offer(dataset_name, saved, metric_name, direction, partition)
            _count(summary, saved)
            report.saved.append(saved)
            if progress is not None:
                progress(saved, done, len(specs))
    except BaseException:
        summary.interrupted = True
        raise
    finally:
        lease.release()  # every folder is finished: a repair may index them, the flush skips those
        batch.flush()
        summary.duration_s = round(time.perf_counter() - start, 3)
        summary.finished_at = datetime.now(UTC).isoformat()
        report.best = workspace.best.current(dataset_name)
        if report.best is not None:
            summary.best = {
                "folder": report.best.folder,
                "metric": report.best.metric,
                "partition": report.best.partition,
                "score": report.best.score,
            }
        workspace.sessions.finish(dataset_name, summary)
        workspace.manifests.leases.release(dataset_name)  # every pipeline.json is written
    if len(workspace.predictions.fragment_ids()) >= AUTO_COMPACT_FRAGMENTS:
        workspace.predictions.compact()
    # The engine's summary, plots and session report, exports: registered steps (post_run.py).
    run_post_steps(RunEnd(workspace, engine, dataset, report, {"plots": plots}), post_run)
    return report


def _teller(workspace: Workspace, report: ExperimentReport) -> Callable[[str], None]:
    """Where the pipelines ran (this process or workers, and why): the report and run.log say it."""

    def say(line: str) -> None:
        report.execution = line
        workspace.sessions.log(report.dataset, f"session {report.session}: {line}")

    return say


def _count(summary: SessionSummary, saved: SavedPipeline) -> None:
    summary.pipelines += 1
    number = saved.handle.number
    summary.first_number = number if summary.first_number is None else min(summary.first_number, number)
    summary.last_number = number if summary.last_number is None else max(summary.last_number, number)
    if saved.status == "completed":
        summary.completed += 1
    else:
        summary.failed += 1
        summary.errors.append({"folder": saved.handle.folder, "error": saved.record.get("error")})


def unscored_reason(report: ExperimentReport, shown: int = 3) -> str | None:
    """Why no pipeline of the session has a score to rank by, in one line; None when one has.

    Counts the failed pipelines and gives their first ``shown`` distinct errors;
    completed pipelines without a finite score (metrics that overflowed, e.g. a
    target of 1e308) are counted apart.
    """
    if any(s.score(report.metric, report.partition) is not None for s in report.saved):
        return None
    failed = [s for s in report.saved if s.status != "completed"]
    errors: dict[str, int] = {}
    for saved in failed:
        message = " ".join(str(saved.record.get("error") or "unknown error").split())
        errors[message[:200]] = errors.get(message[:200], 0) + 1
    total = len(report.saved)
    text = (
        f"no pipeline of {report.dataset!r} (session {report.session}) has a "
        f"{report.partition} {report.metric}: {len(failed)} of {total} failed"
    )
    if total - len(failed):
        text += f", {total - len(failed)} completed without a finite score (check the target's scale)"
    if errors:
        firsts = [f"{message} ({count}x)" for message, count in list(errors.items())[:shown]]
        text += "; errors: " + "; ".join(firsts)
    return text
