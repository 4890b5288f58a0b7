"""What an engine declares about itself, readable without importing the engine.

The catalog, the reports, the library and the workflows ask an engine's
:class:`EngineDeclaration` (its tasks, metrics and their directions, default
metric per task, the words and figures of its reports, its capabilities and
its workflow phase kinds) instead of knowing any engine. A declaration imports
nothing heavy: reading the catalog must not import numpy or scikit-learn, so
an engine's entry point may name its declaration, whose ``factory`` names the
engine object, imported only when something runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

# What an engine can do besides expand/execute; ``nirs4all engines`` lists them. ``analytics``
# is declared by naming the functions of the analytics commands (``EngineDeclaration.analytics``).
CAPABILITIES = ("predict", "export", "rerun", "analytics")
# The commands an engine may answer (``nirs4all analytics scan|summary|analyze-grid``, ``nirs4all
# replay``), each by a function returning an :class:`EngineOutput`; see docs/engines.md.
ANALYTICS_COMMANDS = ("scan", "summary", "analyze_grid", "replay")

# The words reports and tables use for the generic catalog columns, unless an engine says otherwise.
GENERIC_WORDS: dict[str, str] = {
    "model": "model",
    "preprocessing": "preprocessing",
    "n_samples": "samples",
    "n_features": "features",
    "pipeline": "pipeline",
}


def load_object(target: str) -> Any:
    """The object named ``module:attribute``."""
    module_name, _, attr = target.partition(":")
    obj: Any = import_module(module_name)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class EngineTable:
    """A table an engine's command returns: the CLI draws it as it is (words chosen by the engine)."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True)
class EngineOutput:
    """What a declared analytics command returns: ``data`` for ``--json``, ``blocks`` (lines of
    text and :class:`EngineTable`, in order) for the terminal."""

    data: Any
    blocks: Sequence[str | EngineTable] = ()


@dataclass(frozen=True)
class EngineDeclaration:
    """What only the engine knows, for the layers that must not know engines.

    ``factory`` is ``module:attribute`` of the engine class (or any factory taking
    no required argument). ``metrics`` maps each metric to ``"min"`` or ``"max"``
    (which way is better); ``default_metrics`` maps each task to the metric that
    ranks it. ``words`` renames the generic columns in reports and tables
    (``{"model": "strategy", "preprocessing": "stop loss", "n_samples": "trades"}``);
    ``figures`` names the session-report figures the engine draws (see
    :meth:`figure_function`). ``capabilities`` is a subset of :data:`CAPABILITIES`;
    ``phase_kinds`` maps an extra workflow phase kind to ``module:function``;
    ``default`` marks the engine ``nirs4all run`` uses when none is named.
    ``report_metrics`` lists per task the scores reports show next to the ranking
    one; ``comparable_metrics`` names per task a score without units that the
    global report can compare across datasets (default: the default metric).
    ``trusted_types`` is ``module:attribute`` of a sequence of fully qualified type
    names that the engine's fitted objects are made of, beyond skops' defaults: a
    library zip may load them without ``--trust`` (read only when a zip is opened).
    ``analytics`` maps commands of :data:`ANALYTICS_COMMANDS` to ``module:function``
    (each returns an :class:`EngineOutput`); declaring one adds the ``analytics`` capability.
    """

    name: str
    factory: str
    tasks: tuple[str, ...]
    metrics: Mapping[str, str]
    default_metrics: Mapping[str, str]
    words: Mapping[str, str] = field(default_factory=dict)
    figures: Mapping[str, str] = field(default_factory=dict)
    capabilities: frozenset[str] = frozenset()
    phase_kinds: Mapping[str, str] = field(default_factory=dict)
    phase_options: Mapping[str, Any] = field(default_factory=dict)
    demo_dataset: str = ""
    default: bool = False
    report_metrics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    comparable_metrics: Mapping[str, str] = field(default_factory=dict)
    trusted_types: str = ""
    analytics: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = {m: d for m, d in self.metrics.items() if d not in ("min", "max")}
        if bad:
            raise ValueError(f"engine {self.name!r}: metric directions must be 'min' or 'max', not {bad}")
        missing = sorted(set(self.default_metrics.values()) - set(self.metrics))
        if missing:
            raise ValueError(f"engine {self.name!r}: default metric(s) {missing} have no direction")
        unknown = sorted(set(self.capabilities) - set(CAPABILITIES))
        if unknown:
            raise ValueError(f"engine {self.name!r}: unknown capabilities {unknown}; known: {CAPABILITIES}")
        commands = sorted(set(self.analytics) - set(ANALYTICS_COMMANDS))
        if commands:
            raise ValueError(
                f"engine {self.name!r}: unknown analytics commands {commands}; known: {ANALYTICS_COMMANDS}"
            )
        if self.analytics:
            object.__setattr__(self, "capabilities", frozenset(self.capabilities) | {"analytics"})
        elif "analytics" in self.capabilities:
            raise ValueError(
                f"engine {self.name!r}: the analytics capability needs its functions (analytics=)"
            )

    def load(self, **options: Any) -> Any:
        """The engine object (imports the engine and whatever it needs)."""
        return load_object(self.factory)(**options)

    def direction(self, metric: str) -> str | None:
        """``min``/``max`` for a metric this engine reports; None if it does not declare it."""
        return self.metrics.get(metric)

    def default_metric(self, task: str | None = None) -> tuple[str, str]:
        """(metric, direction) that ranks ``task`` (the first task's when ``task`` is not one of ours)."""
        metric = self.default_metrics.get(task or "") or self.default_metrics[self.tasks[0]]
        return metric, self.metrics[metric]

    def scores_shown(self, task: str | None = None) -> tuple[str, ...]:
        """The scores reports show for ``task``: the declared ones, else the default metric."""
        return tuple(self.report_metrics.get(task or "", ())) or (self.default_metric(task)[0],)

    def comparable_metric(self, task: str | None = None) -> str:
        """A score of ``task`` comparable across datasets (the global report's column)."""
        return self.comparable_metrics.get(task or "") or self.default_metric(task)[0]

    def word(self, column: str) -> str:
        """The word reports use for a generic column (``model`` -> ``strategy``)."""
        return self.words.get(column, GENERIC_WORDS.get(column, column))

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities

    def figure_function(self, figure: str) -> Any:
        """The function that draws a declared session-report figure (imported on call)."""
        return load_object(self.figures[figure])

    def phase_function(self, kind: str) -> Any:
        """The runner of a workflow phase kind this engine adds (imported on call)."""
        return load_object(self.phase_kinds[kind])

    def analytics_function(self, command: str) -> Any:
        """The function answering analytics ``command`` (imported on call); None when not declared."""
        target = self.analytics.get(command)
        return load_object(target) if target else None

    def trusted_type_names(self) -> tuple[str, ...]:
        """The type names declared by ``trusted_types`` (imports the module that lists them)."""
        return tuple(load_object(self.trusted_types)) if self.trusted_types else ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tasks": list(self.tasks),
            "metrics": dict(self.metrics),
            "default_metric": dict(self.default_metrics),
            "capabilities": sorted(self.capabilities),
            "phase_kinds": sorted(self.phase_kinds),
            "analytics": sorted(self.analytics),
            "figures": list(self.figures),
            "words": {c: self.word(c) for c in GENERIC_WORDS} | dict(self.words),
            "demo_dataset": self.demo_dataset,
            "default": self.default,
        }


def dataset_task(engine: Any, dataset: Any) -> str:
    """The task of a dataset: its own ``task``, else the engine's first declared task."""
    return getattr(dataset, "task", None) or declaration_of_engine(engine).tasks[0]


def declaration_of_engine(engine: Any, factory: str = "") -> EngineDeclaration:
    """The declaration of an engine object: its ``declaration`` attribute, else one read from
    what the documented interface offers (``tasks``, ``metric_directions``, ``default_metric``)."""
    declared = getattr(engine, "declaration", None)
    if isinstance(declared, EngineDeclaration):
        return declared
    tasks = tuple(getattr(engine, "tasks", ()) or ("regression",))
    metrics = dict(getattr(engine, "metric_directions", {}) or {})
    defaults = {}
    for task in tasks:
        metric, direction = engine.default_metric(task)
        metrics.setdefault(metric, direction)
        defaults[task] = metric
    cls = engine if isinstance(engine, type) else type(engine)
    return EngineDeclaration(
        name=engine.name,
        factory=factory or f"{cls.__module__}:{cls.__qualname__}",
        tasks=tasks,
        metrics=metrics,
        default_metrics=defaults,
        words=dict(getattr(engine, "words", {}) or {}),
        capabilities=frozenset(getattr(engine, "capabilities", ()) or ()),
        demo_dataset=str(getattr(engine, "demo_dataset_name", "") or ""),
    )
