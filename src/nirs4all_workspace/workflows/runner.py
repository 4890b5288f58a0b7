"""Running a workflow: phases in order, each done once, resumable after a kill.

A phase whose checkpoint matches its output and whose inputs (workflows/inputs.py)
are unchanged is not run again; a phase whose inputs changed is stale and runs
again, and the phases reading its output follow through their own digests. An
output edited by hand is kept and feeds the phases downstream. A grid phase
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
from ..errors import InputError, WorkspaceError
from ..facade import Workspace
from ..parallel import check_backend, cluster_jobs, execution_backend
from ..workspace.locking import FileLock
from .inputs import data_digest, downstream, phase_inputs
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
    from_phase: str | None = None,
) -> WorkflowReport:
    """Run (or resume) the workflow file ``path`` in ``workspace``.

    Writes ``workflows/<id>/`` (workflow.json, analysis/, checkpoints/,
    workflow.log); pipelines land in ``runs/<dataset>/``. Raises ConfigError
    for a bad file, InputError for bad options, WorkspaceError if another
    process is running the same workflow. ``progress`` receives every line
    written to workflow.log (phase starts and ends, each saved pipeline).
    ``from_phase`` recomputes that phase and every phase that reads it, even if
    their checkpoints hold (InputError for a phase the file does not have).
    """
    from ..engines.registry import get_engine
    from ..experiment import check_run_options, resolve_metric

    spec = load_workflow(path)
    if from_phase is not None and from_phase not in [p.name for p in spec.phases]:
        raise InputError(
            f"--from {from_phase!r}: workflow {spec.source.name} has no such phase; "
            f"phases: {', '.join(p.name for p in spec.phases)}"
        )
    check_backend(backend, scheduler)
    n_jobs = cluster_jobs(backend, n_jobs)  # a cluster: every worker it has
    engine = get_engine(spec.engine)
    dataset = _dataset(spec, engine)
    metric, direction, _ = resolve_metric(engine, dataset_task(engine, dataset), spec.metric)
    session = check_run_options(spec.workflow_id[:80], n_jobs)
    ctx = PhaseContext(
        workspace, engine, dataset, metric, direction, session, spec.source.parent, n_jobs, backend
    )
    with execution_backend(backend, scheduler):  # a missing package or scheduler: nothing written yet
        state = WorkflowState(workspace.layout, spec.workflow_id, progress)
        return _run_locked(spec, state, ctx, scheduler, from_phase)


def _run_locked(
    spec: WorkflowSpec,
    state: WorkflowState,
    ctx: PhaseContext,
    scheduler: str | None,
    from_phase: str | None = None,
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
        options = {"backend": ctx.backend, "scheduler": scheduler, "n_jobs": ctx.n_jobs}
        state.open(spec, {**options, **({"from": from_phase} if from_phase else {})})
        state.log(f"start {spec.workflow_id} ({spec.source}) backend={ctx.backend} jobs={ctx.n_jobs}")
        try:
            _run_phases(spec, state, ctx, report, from_phase)
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


def _run_phases(
    spec: WorkflowSpec,
    state: WorkflowState,
    ctx: PhaseContext,
    report: WorkflowReport,
    from_phase: str | None = None,
) -> None:
    outputs: dict[str, dict[str, Any]] = {}
    digests: dict[str, str | None] = {}  # SHA-256 of each phase's output as it stands now
    edited: set[str] = set()
    forced = set(downstream(spec, from_phase)) if from_phase else set()
    data = data_digest(spec)
    for phase in spec.phases:
        current = phase_inputs(spec, phase, state.layout, digests, data)
        action, reasons = state.assess(phase.name, current)
        if phase.name in forced:
            action, reasons = "run", [f"--from {from_phase}"]
        if action in ("done", "edited", "kept"):
            _keep(state, phase.name, action, reasons)
            edited.update([phase.name] if action != "done" else [])
            outputs[phase.name] = state.read_output(phase.name)
            report.resumed.append(phase.name)
        else:
            if reasons:
                stale = "stale, recomputed" if action == "stale" else "recomputed"
                state.log(f"phase {phase.name}: {stale}: {'; '.join(reasons)}")
            outputs[phase.name] = _compute(state, ctx, phase, outputs, edited, current)
            report.ran.append(phase.name)
        digests[phase.name] = state.output_sha256(phase.name)


def _keep(state: WorkflowState, name: str, action: str, reasons: list[str]) -> None:
    """A phase not run again: done, or its output edited by hand (now or before) and kept."""
    if action == "edited":
        state.accept_edit(name)
        state.log(
            f"phase {name}: output edited by hand (it no longer matches its checkpoint); "
            "kept as is, the phases that read it are recomputed from it"
        )
    elif action == "kept":
        state.log(f"phase {name}: kept (edited by hand)")
    else:
        state.log(f"phase {name}: done (checkpoint)")
    if action != "done" and reasons:
        state.log(
            f"phase {name}: its inputs changed since ({'; '.join(reasons)}); "
            f"run with --from {name} to recompute it"
        )
    fields = {"status": "completed", "edited_by_hand": action != "done"}
    if any(state.phase_entry(name).get(k) != v for k, v in fields.items()):
        state.update_phase(name, **fields)


def _compute(
    state: WorkflowState,
    ctx: PhaseContext,
    phase: Any,
    outputs: dict[str, dict[str, Any]],
    edited: set[str],
    current: dict[str, Any],
) -> dict[str, Any]:
    """Run one phase and write its output, then its checkpoint with the digests of its inputs."""
    state.discard_checkpoint(phase.name)
    started = time.perf_counter()
    state.update_phase(phase.name, status="running", started_at=_now(), edited_by_hand=False)
    state.log(f"phase {phase.name} ({phase.type}): start")
    try:
        output = phase_function(getattr(ctx.engine, "name", ""), phase.type)(
            ctx, phase, {name: outputs[name] for name in phase.inputs}
        )
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        state.update_phase(phase.name, status="failed")
        hand = [name for name in phase.inputs if name in edited]
        if not hand or isinstance(exc, WorkspaceError):
            raise
        raise InputError(
            f"phase '{phase.name}' cannot read the output of '{hand[0]}' edited by hand "
            f"({type(exc).__name__}: {exc}); fix it, or run with --from {hand[0]} to recompute it"
        ) from None
    except Exception:
        state.update_phase(phase.name, status="failed")
        raise
    state.write_output(phase.name, output, current)
    state.update_phase(
        phase.name,
        status="completed",
        finished_at=_now(),
        duration_s=round(time.perf_counter() - started, 3),
    )
    state.log(f"phase {phase.name}: completed in {time.perf_counter() - started:.1f} s")
    return output


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
    state = WorkflowState(workspace.layout, workflow_id)
    document = state.read()
    spec = _current_spec(document, workflow_id)
    if spec is not None:
        _mark_stale(spec, state, document)
    return document


def _current_spec(document: dict[str, Any], workflow_id: str) -> WorkflowSpec | None:
    """The workflow file the workflow was run from, if it is still there and unchanged."""
    from ..errors import ConfigError

    try:
        spec = load_workflow(document.get("file", ""))
    except (ConfigError, OSError):
        return None
    return spec if spec.workflow_id == workflow_id else None


def _mark_stale(spec: WorkflowSpec, state: WorkflowState, document: dict[str, Any]) -> None:
    """Add ``stale`` (reasons a resume would recompute the phase) and ``edited_by_hand`` to each phase.

    A phase that will run makes every phase reading it stale too; the digests
    are those a ``workflow run`` would compute now (workflows/inputs.py).
    """
    digests: dict[str, str | None] = {}
    rerun: set[str] = set()
    data = data_digest(spec)
    for phase in spec.phases:
        entry = next((p for p in document["phases"] if p["name"] == phase.name), None)
        if entry is None:
            continue
        action, reasons = state.assess(phase.name, phase_inputs(spec, phase, state.layout, digests, data))
        upstream = [f"'{name}' will be recomputed" for name in phase.inputs if name in rerun]
        if action in ("edited", "kept"):
            entry["edited_by_hand"] = True
            entry["stale"] = [f"its inputs changed since the edit: {r}" for r in reasons]
            if upstream:
                entry["stale"] += upstream
        elif action == "stale" or (action == "done" and upstream):
            entry["stale"] = (reasons if action == "stale" else []) + upstream
            rerun.add(phase.name)
        elif action == "run":
            rerun.add(phase.name)
            entry["stale"] = upstream
        else:
            entry["stale"] = []
        digests[phase.name] = state.output_sha256(phase.name)
