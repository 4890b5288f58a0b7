"""What a phase read, as digests: its spec, the files it names, the data and its inputs' outputs.

A checkpoint records these digests (``inputs``) next to the digest of the
phase's output. On a resume a phase is done only if what it would read now has
the same digests; otherwise it is stale and runs again, and the phases that read
its output see a new digest in turn. Nothing here loads the dataset or an
engine, so ``workflow status`` can say which phases are stale cheaply.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..workspace.identity import config_hash
from ..workspace.layout import WorkspaceLayout
from .spec import PhaseSpec, WorkflowSpec


def pipeline_reference(source_dir: Path, value: str) -> str:
    """A grid's ``pipeline: NAME``: a file relative to the workflow file, else as written (template)."""
    path = Path(value).expanduser()
    return str(path if path.is_absolute() or not (source_dir / path).is_file() else source_dir / path)


def data_digest(spec: WorkflowSpec) -> str:
    """The digest of the workflow's dataset: SHA-256 of its file(s) bytes; ``demo:<engine>`` for the demo.

    The one place that says what "the data" of a workflow is; it can become the
    engine's digest of the loaded data (X and y) once datasets carry one.
    """
    source = spec.dataset_source()
    if source is None:
        return f"demo:{spec.engine}"
    if source.is_file():
        files = [source]
    elif source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    else:
        return "missing"
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(source).as_posix().encode("utf-8") + b"\0" if path != source else b"")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def referenced_files(spec: WorkflowSpec, phase: PhaseSpec, layout: WorkspaceLayout) -> dict[str, str]:
    """Digest of each pipeline file or template the phase names (its parsed content; ``missing`` if gone)."""
    from ..configs import load_pipeline

    value = phase.options.get("pipeline")
    if not isinstance(value, str):
        return {}
    try:
        config = load_pipeline(pipeline_reference(spec.source.parent, value), layout)[0]
    except ConfigError:
        return {value: "missing"}
    return {value: config_hash(config)}


def phase_inputs(
    spec: WorkflowSpec,
    phase: PhaseSpec,
    layout: WorkspaceLayout,
    outputs: dict[str, str | None],
    data: str,
) -> dict[str, Any]:
    """The digests of everything ``phase`` reads; ``outputs``: earlier phases' output SHA-256."""
    return {
        "spec": config_hash(phase.to_dict()),
        "files": referenced_files(spec, phase, layout),
        "data": data,
        "outputs": {name: outputs.get(name) for name in phase.inputs},
    }


def changes(recorded: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """Why a checkpoint's ``inputs`` no longer hold, one phrase per change (empty: up to date)."""
    if not isinstance(recorded, dict):
        return ["its checkpoint records no inputs (an older version wrote it)"]
    reasons = []
    if recorded.get("spec") != current["spec"]:
        reasons.append("its spec changed")
    old_files = recorded.get("files") or {}
    for name in sorted(set(old_files) | set(current["files"])):
        if old_files.get(name) != current["files"].get(name):
            state = "is missing" if current["files"].get(name) == "missing" else "changed"
            reasons.append(f"pipeline file {name} {state}")
    if recorded.get("data") != current["data"]:
        reasons.append("the dataset's data changed")
    old_outputs = recorded.get("outputs") or {}
    for name in sorted(set(old_outputs) | set(current["outputs"])):
        if old_outputs.get(name) != current["outputs"].get(name):
            reasons.append(f"the output of '{name}' changed")
    return reasons


def downstream(spec: WorkflowSpec, start: str) -> list[str]:
    """``start`` and every phase that reads it, directly or not, in file order."""
    names = {start}
    for phase in spec.phases:
        if any(i in names for i in phase.inputs):
            names.add(phase.name)
    return [p.name for p in spec.phases if p.name in names]
