"""Running a workflow: phases in order, each done once, resumable after a kill.

A phase whose checkpoint matches its output is not run again; a grid phase
reuses every pipeline whose config hash already completed on the dataset. So a
workflow killed at any point and run again with the same command ends with the
same outputs as an uninterrupted run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engines.declaration import dataset_task
from ..errors import WorkspaceError
from ..workspace.locking import FileLock
from ..workspace.workspace import Workspace
from .backends import check_backend, execution_backend
from .phases import PhaseContext, phase_function
from .spec import WorkflowSpec, load_workflow
from .state import WorkflowState


@dataclass
class WorkflowReport:
    """What a run of a workflow did."""

    workflow_id: str
    folder: Path
    document: dict[str, Any]
    resumed: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)


def _dataset(spec: WorkflowSpec, engine: Any) -> Any:
    source = spec.dataset_source()
    return engine.demo_dataset() if source is None else engine.load_dataset(source)


def run_workflow(
    workspace: Workspace,
    path: Path | str,
    *,
    backend: str = "loky",
    scheduler: str | None = None,
    n_jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> WorkflowReport:
    """Run (or resume) the workflow file ``path`` in ``workspace``.

    Writes ``workflows/<id>/`` (workflow.json, analysis/, checkpoints/,
    workflow.log); pipelines land in ``runs/<dataset>/``. Raises ConfigError
    for a bad file, InputError for bad options, WorkspaceError if another
    process is running the same workflow. ``progress`` receives every line
    written to workflow.log (phase starts and ends, each saved pipeline).
    """
    from ..engines.registry import get_engine
    from ..experiment import check_run_options, resolve_metric

    spec = load_workflow(path)
    check_backend(backend, scheduler)
    if backend != "loky" and n_jobs == 1:
        n_jobs = -1  # a cluster: every worker it has
    engine = get_engine(spec.engine)
    dataset = _dataset(spec, engine)
    metric, direction, _ = resolve_metric(engine, dataset_task(engine, dataset), spec.metric)
    session = check_run_options(spec.workflow_id[:80], n_jobs)
    ctx = PhaseContext(
        workspace, engine, dataset, metric, direction, session, spec.source.parent, n_jobs, backend
    )
    with execution_backend(backend, scheduler):  # a missing package or scheduler: nothing written yet
        return _run_locked(spec, WorkflowState(workspace.layout, spec.workflow_id, progress), ctx, scheduler)


def _run_locked(
    spec: WorkflowSpec, state: WorkflowState, ctx: PhaseContext, scheduler: str | None
) -> WorkflowReport:
    layout = state.layout
    try:
        lock = FileLock(layout.workflow_lock(spec.workflow_id), timeout=1.0)
        lock.acquire()
    except WorkspaceError:
        raise WorkspaceError(f"workflow {spec.workflow_id} is already running in another process") from None
    report = WorkflowReport(spec.workflow_id, layout.workflow_dir(spec.workflow_id), {})
    ctx.log = state.log
    try:
        state.open(spec, {"backend": ctx.backend, "scheduler": scheduler, "n_jobs": ctx.n_jobs})
        state.log(f"start {spec.workflow_id} ({spec.source}) backend={ctx.backend} jobs={ctx.n_jobs}")
        try:
            _run_phases(spec, state, ctx, report)
        except BaseException as exc:
            state.log(f"stopped: {type(exc).__name__}: {' '.join(str(exc).split())}")
            state.finish("failed" if isinstance(exc, Exception) else "interrupted")
            raise
        state.finish("completed")
        state.log(f"completed {spec.workflow_id}")
    finally:
        lock.release()
    report.document = state.document
    return report


def _run_phases(spec: WorkflowSpec, state: WorkflowState, ctx: PhaseContext, report: WorkflowReport) -> None:
    outputs: dict[str, dict[str, Any]] = {}
    for phase in spec.phases:
        done = state.completed_output(phase.name)
        if done is not None:
            outputs[phase.name] = done
            report.resumed.append(phase.name)
            if state.phase_entry(phase.name)["status"] != "completed":
                state.update_phase(phase.name, status="completed")
            state.log(f"phase {phase.name}: done (checkpoint)")
            continue
        started = time.perf_counter()
        state.update_phase(phase.name, status="running", started_at=_now())
        state.log(f"phase {phase.name} ({phase.type}): start")
        try:
            output = phase_function(getattr(ctx.engine, "name", ""), phase.type)(
                ctx, phase, {name: outputs[name] for name in phase.inputs}
            )
        except Exception:
            state.update_phase(phase.name, status="failed")
            raise
        state.write_output(phase.name, output)
        outputs[phase.name] = output
        report.ran.append(phase.name)
        state.update_phase(
            phase.name,
            status="completed",
            finished_at=_now(),
            duration_s=round(time.perf_counter() - started, 3),
        )
        state.log(f"phase {phase.name}: completed in {time.perf_counter() - started:.1f} s")


def _now() -> str:
    from ..workspace.manifest import utc_now

    return utc_now()


def workflow_status(workspace: Workspace, workflow_id: str) -> dict[str, Any]:
    """The ``workflow.json`` of a workflow; InputError naming the known ids if there is none."""
    from ..errors import InputError
    from .state import list_workflows

    path = workspace.layout.workflow_json(workflow_id)
    if not path.is_file():
        known = ", ".join(w["id"] for w in list_workflows(workspace.layout)) or "none"
        raise InputError(
            f"no workflow {workflow_id!r} in {workspace.layout.workflows_dir}; workflows: {known}"
        )
    return WorkflowState(workspace.layout, workflow_id).read()
