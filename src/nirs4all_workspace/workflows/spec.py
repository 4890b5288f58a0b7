"""The workflow file: YAML with named phases, parsed and checked into dataclasses.

Everything is validated before anything runs; each problem is one ConfigError
line naming the file, the phase and the key. The workflow's id is its name and
a short hash of the file's canonical content (the parsed document as sorted-key
JSON), so running the same file again finds the same folder, whatever its
comments or layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..configs import read_config_file
from ..errors import ConfigError, InvalidNameError
from ..workspace.identity import config_hash
from ..workspace.layout import validate_name

PHASE_TYPES = ("grid", "analysis", "ensemble", "validation")
# Partitions a phase may choose on: the test split is kept for the validation phase.
CHOICE_PARTITIONS = ("train", "val")
ENSEMBLE_METHODS = ("grid", "evolution")

_TOP_KEYS = {"name", "description", "engine", "dataset", "metric", "phases"}
_PHASE_KEYS = {
    "grid": {"pipeline", "model"},
    "analysis": {"group_by", "top", "partition"},
    "ensemble": {"top", "method", "step", "generations", "population", "seed", "partition"},
    "validation": set(),
}
_COMMON_KEYS = {"name", "type", "inputs", "description"}
# An engine may declare phase kinds of its own (EngineDeclaration.phase_kinds) and, in
# ``phase_options``: extra keys per kind ("keys"), the phase types each kind reads
# ("inputs") and a function that checks its options ("check", module:function).
# Which phase types a phase may take as input.
_INPUT_TYPES = {
    "grid": ("analysis",),
    "analysis": ("grid",),
    "ensemble": ("grid",),
    "validation": ("grid", "analysis", "ensemble"),
}


@dataclass(frozen=True)
class PhaseSpec:
    """One phase: its name, type, the earlier phases it reads and its own options."""

    name: str
    type: str
    inputs: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "inputs": list(self.inputs), **self.options}


@dataclass(frozen=True)
class WorkflowSpec:
    """A parsed workflow file."""

    name: str
    engine: str
    dataset: str
    metric: str | None
    phases: tuple[PhaseSpec, ...]
    source: Path
    digest: str

    @property
    def workflow_id(self) -> str:
        return f"{self.name}-{self.digest[:8]}"

    def phase(self, name: str) -> PhaseSpec:
        return next(p for p in self.phases if p.name == name)

    def dataset_source(self) -> Path | None:
        """The dataset path (relative to the workflow file), or None for the engine's demo."""
        if self.dataset == "demo":
            return None
        path = Path(self.dataset).expanduser()
        return path if path.is_absolute() else (self.source.parent / path)


def load_workflow(path: Path | str) -> WorkflowSpec:
    """Read and check a workflow file; ConfigError (one line) for any problem."""
    path = Path(path).expanduser().absolute()
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise ConfigError(f"workflow file {path} must be YAML (.yaml, .yml) or JSON")
    try:
        document = read_config_file(path)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("pipeline file", "workflow file", 1)) from None
    return parse_workflow(document, path)


def parse_workflow(document: Any, source: Path) -> WorkflowSpec:
    """Check a parsed workflow document; ``source`` names it in errors and anchors relative paths."""
    where = f"workflow {source.name}"
    if not isinstance(document, dict):
        raise ConfigError(f"{where}: must be a mapping with 'name' and 'phases'")
    unknown = sorted(set(document) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; keys are: {', '.join(sorted(_TOP_KEYS))}"
        )
    name = _name(document.get("name"), f"{where}: 'name'")
    engine = document.get("engine") or _default_engine()
    dataset = document.get("dataset", "demo")
    metric = document.get("metric")
    for key, value in (("engine", engine), ("dataset", dataset)):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    if metric is not None and (not isinstance(metric, str) or metric.startswith("test_")):
        raise ConfigError(
            f"{where}: 'metric' must be a metric name such as rmse (choices never use the test split)"
        )
    raw_phases = document.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        raise ConfigError(f"{where}: 'phases' must be a non-empty list of phases")
    phases: list[PhaseSpec] = []
    for index, raw in enumerate(raw_phases):
        phases.append(_phase(raw, index, {p.name: p for p in phases}, where, engine))
    return WorkflowSpec(
        name=name,
        engine=engine,
        dataset=dataset,
        metric=metric,
        phases=tuple(phases),
        source=source,
        digest=config_hash(document),
    )


def _default_engine() -> str:
    from ..engines.registry import default_engine_name

    return default_engine_name()


def _declared(engine: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(phase kinds, phase options) the engine declares; empty for an engine not installed."""
    from ..engines.registry import find_declaration

    declaration = find_declaration(engine)
    if declaration is None:
        return {}, {}
    return dict(declaration.phase_kinds), dict(declaration.phase_options)


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string")
    try:
        return validate_name(value, "name")
    except InvalidNameError as exc:
        raise ConfigError(f"{what}: {exc}") from None


def _phase(
    raw: Any, index: int, earlier: dict[str, PhaseSpec], where: str, engine: str = ""
) -> PhaseSpec:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: phases[{index}] must be a mapping with 'name' and 'type'")
    name = _name(raw.get("name"), f"{where}: phases[{index}] 'name'")
    at = f"{where}: phase '{name}'"
    if name in earlier:
        raise ConfigError(f"{at}: the name is used by an earlier phase; phase names must be unique")
    kinds, declared = _declared(engine)
    types = (*PHASE_TYPES, *(k for k in kinds if k not in PHASE_TYPES))
    kind = raw.get("type")
    if kind not in types:
        raise ConfigError(f"{at}: 'type' must be one of {', '.join(types)}, not {kind!r}")
    extra = set(declared.get("keys", {}).get(kind, ()))
    allowed = _PHASE_KEYS.get(kind, set()) | _COMMON_KEYS | extra
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(
            f"{at}: unknown key(s) {', '.join(unknown)} for a {kind} phase; "
            f"keys are: {', '.join(sorted(allowed))}"
        )
    inputs = raw.get("inputs", [])
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise ConfigError(f"{at}: 'inputs' must be a list of earlier phase names")
    for item in inputs:
        if item not in earlier:
            known = ", ".join(earlier) or "none"
            raise ConfigError(
                f"{at}: 'inputs' names {item!r}, which is not an earlier phase (earlier: {known})"
            )
        readable = tuple(declared.get("inputs", {}).get(kind, ())) or _INPUT_TYPES.get(kind, types)
        if earlier[item].type not in readable:
            raise ConfigError(
                f"{at}: 'inputs' names {item!r}, a {earlier[item].type} phase; "
                f"a {kind} phase reads {' or '.join(readable)} phases"
            )
    options = {k: v for k, v in raw.items() if k not in _COMMON_KEYS}
    if kind in PHASE_TYPES:
        _check_options(kind, options, inputs, at)
    if "check" in declared:
        from ..engines.declaration import load_object

        load_object(declared["check"])(kind, options, at)
    return PhaseSpec(name=name, type=kind, inputs=tuple(inputs), options=options)


def _check_options(kind: str, options: dict[str, Any], inputs: list[str], at: str) -> None:
    if kind == "grid":
        _check_grid(options, inputs, at)
        return
    _check_choice(kind, options, inputs, at)


def _check_grid(options: dict[str, Any], inputs: list[str], at: str) -> None:
    if ("pipeline" in options) == ("model" in options):
        raise ConfigError(
            f"{at}: give 'pipeline' (a configuration, file or template) or 'model' (with an analysis input)"
        )
    if "model" in options and len(inputs) != 1:
        raise ConfigError(
            f"{at}: 'model' replaces the model of the pipelines an analysis chose: "
            "give one analysis in 'inputs'"
        )
    if "pipeline" in options and inputs:
        raise ConfigError(f"{at}: 'inputs' is only for 'model'; a 'pipeline' grid stands alone")
    if "pipeline" in options and not isinstance(options["pipeline"], dict | list | str):
        raise ConfigError(
            f"{at}: 'pipeline' must be a configuration mapping, a list of steps, a file or a template name"
        )


def _check_choice(kind: str, options: dict[str, Any], inputs: list[str], at: str) -> None:
    if len(inputs) != 1:
        raise ConfigError(f"{at}: 'inputs' must name exactly one earlier phase")
    if kind == "analysis" and not isinstance(options.get("group_by"), str):
        raise ConfigError(
            f"{at}: 'group_by' must name what to group by, e.g. preprocessing, model or a parameter"
        )
    for key in ("top", "generations", "population", "seed"):
        value = options.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < (0 if key == "seed" else 1)
        ):
            raise ConfigError(f"{at}: '{key}' must be a positive integer, not {value!r}")
    partition = options.get("partition", "val")
    if partition not in CHOICE_PARTITIONS:
        raise ConfigError(
            f"{at}: 'partition' must be one of {', '.join(CHOICE_PARTITIONS)}, not {partition!r}; "
            "choosing on the test split would be look-ahead (the validation phase scores it)"
        )
    if kind == "ensemble":
        method = options.get("method", "grid")
        if method not in ENSEMBLE_METHODS:
            raise ConfigError(f"{at}: 'method' must be one of {', '.join(ENSEMBLE_METHODS)}, not {method!r}")
        step = options.get("step", 0.25)
        if (
            not isinstance(step, int | float)
            or isinstance(step, bool)
            or not 0 < step <= 1
            or abs(round(1 / step) * step - 1) > 1e-9
        ):
            raise ConfigError(f"{at}: 'step' must divide 1 (e.g. 0.25, 0.1), not {step!r}")
