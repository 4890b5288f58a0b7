"""Planning a run: datasets x pipelines x engine, read and checked before anything is written.

``nirs4all run`` is two library calls: :func:`plan_run` reads every dataset and
pipeline file, names the datasets, checks each folder's question (identity),
the metric and the options, and expands every grid; :func:`execute_plan` then
runs each planned dataset through ``run_experiment`` (or its resumed form). A
bad input is refused by the plan, so the workspace is never touched by it.
"""

from __future__ import annotations

import copy
import dataclasses
import errno
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .configs import load_pipeline
from .engines.base import PipelineSpec
from .engines.declaration import dataset_task
from .engines.registry import get_engine
from .errors import InputError
from .experiment import ExperimentReport, check_run_options, resolve_metric, run_experiment
from .facade import Workspace, resolve_root
from .parallel import check_backend, cluster_jobs, execution_backend
from .post_run import check_post_run_options
from .workspace.case_names import refuse_case_twin
from .workspace.dataset_info import check_identity, identity_of
from .workspace.layout import WorkspaceLayout, validate_name

TASKS = (None, "regression", "classification")


@dataclass
class PlannedDataset:
    """One dataset of a run, with the configuration(s) it runs and their expanded variants."""

    dataset: Any
    config: Any  # one configuration, or the list of several --pipeline files
    specs: list[PipelineSpec]


@dataclass
class RunPlan:
    """Everything ``nirs4all run`` will do, checked: see :func:`plan_run`."""

    root: Path
    engine: Any
    datasets: list[PlannedDataset]
    session: str
    n_jobs: int
    metric: str | None
    plots: str
    resume: bool
    backend: str = "loky"  # where pipelines execute: loky, dask or ray (parallel.py)
    scheduler: str | None = None  # a dask scheduler's address (default with dask: a local cluster)


def plan_run(
    workspace: str | Path | None = None,
    *,
    engine: str | None = None,
    datasets: Sequence[Path] = (),
    pipelines: Sequence[str] = (),
    name: str | None = None,
    target: str | None = None,
    task: str | None = None,
    reference: Path | None = None,
    resample: bool = False,
    session: str | None = None,
    n_jobs: int = 1,
    metric: str | None = None,
    plots: str = "report",
    resume: bool = False,
    backend: str = "loky",
    scheduler: str | None = None,
) -> RunPlan:
    """Read and check a run; no dataset and no pipeline: the engine's demo dataset and grid.

    Raises InputError (a DatasetError, ConfigError...) for anything that cannot
    run, before the workspace is touched.
    """
    if task not in TASKS:
        raise InputError(f"--task must be regression or classification, not {task!r}")
    check_backend(backend, scheduler)
    n_jobs = cluster_jobs(backend, n_jobs)  # -j 1 on a cluster: every worker it has
    session = check_run_options(session, n_jobs)
    check_post_run_options({"plots": plots})
    layout = WorkspaceLayout(resolve_root(workspace))
    runner = get_engine(engine)
    files = {"reference": reference, "resample": True} if resample else {"reference": reference}
    extra = {key: value for key, value in files.items() if value is not None}  # only engines that read them
    if datasets:
        loaded = [runner.load_dataset(Path(p), target=target, task=task, **extra) for p in datasets]
    else:
        loaded = [runner.demo_dataset()]
    if len(loaded) > 1 and hasattr(runner, "align_datasets"):
        loaded = runner.align_datasets(loaded)  # time series: bar i is the same moment in each
    loaded = named_and_checked(loaded, name, layout)
    configs = [load_pipeline(ref, layout)[0] for ref in pipelines]
    planned = []
    for data in loaded:
        refuse_case_twin(layout, data.name)
        task_name = dataset_task(runner, data)
        _, _, partition = resolve_metric(runner, task_name, metric)
        if partition == "test" and getattr(data, "has_test", None) is False:
            raise InputError(
                f"--metric {metric} ranks by the test partition, but dataset {data.name!r} has none "
                "(a held-out part comes from Xval.csv/Yval.csv in a dataset folder); "
                f"use --metric {metric[len('test_') :]} (validation)"
            )
        chosen = configs or [default_config(runner, data, task_name)]
        specs = [spec for config in chosen for spec in runner.expand(config)]
        if not specs:
            raise InputError("the pipeline configuration expands to no pipeline")
        planned.append(PlannedDataset(data, chosen[0] if len(chosen) == 1 else chosen, specs))
    return RunPlan(layout.root, runner, planned, session, n_jobs, metric, plots, resume, backend, scheduler)


def execute_plan(
    plan: RunPlan,
    progress: Callable[[PlannedDataset], Callable[..., None] | None] | None = None,
    before: Callable[[PlannedDataset], None] | None = None,
) -> list[ExperimentReport]:
    """Run every planned dataset; ``progress(planned)`` gives each run's progress callback.

    ``--resume`` plans run only the variants not completed yet (:func:`resume.run_resumed`).
    A full disk met inside polars or pyarrow is raised as the OSError it is. The
    backend's client is set up first (``--backend dask``: InputError for a scheduler
    that cannot be reached, before anything is written) and serves every dataset.
    """
    from .resume import run_resumed

    execute = run_resumed if plan.resume else run_experiment
    reports = []
    with execution_backend(plan.backend, plan.scheduler), no_space_as_os_error(plan.root):
        ws = Workspace.open(plan.root)
        for planned in plan.datasets:
            if before is not None:
                before(planned)
            reports.append(
                execute(
                    ws,
                    plan.engine,
                    planned.dataset,
                    planned.config,
                    specs=planned.specs,
                    session=plan.session,
                    n_jobs=plan.n_jobs,
                    metric=plan.metric,
                    progress=progress(planned) if progress is not None else None,
                    plots=plan.plots,
                    backend=plan.backend,
                )
            )
    return reports


@contextmanager
def no_space_as_os_error(root: Path) -> Iterator[None]:
    """A full disk met inside polars or pyarrow (their own error types) becomes the OSError it is."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, OSError) or "No space left on device" not in str(exc):
            raise
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(root)) from None


def default_config(runner: Any, data: Any, task: str) -> Any:
    """The engine's built-in grid for ``task``, fitted to the data's size where the engine knows how."""
    fitted = getattr(runner, "default_config_for", None)
    if fitted is not None:
        return fitted(data)
    return runner.default_config(task=task)


def named_and_checked(datasets: list[Any], name: str | None, layout: WorkspaceLayout) -> list[Any]:
    """The datasets under their names (``--name``), each checked against its folder's question.

    A folder answers one question (target, bar range, task): another is refused
    here, before anything is written.
    """
    if name is not None:
        if len(datasets) > 1:
            raise InputError("--name names one dataset: give a single --dataset with it")
        datasets = [renamed(datasets[0], validate_name(name))]
    for data in datasets:
        validate_name(data.name)
        check_identity(layout, data.name, identity_of(data))
    return datasets


def renamed(data: Any, name: str) -> Any:
    """The dataset ``data`` under another name (``--name``), whatever its engine."""
    if dataclasses.is_dataclass(data):
        return dataclasses.replace(data, name=name)
    copied = copy.copy(data)
    copied.name = name
    return copied
