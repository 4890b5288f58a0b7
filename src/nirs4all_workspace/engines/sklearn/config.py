"""Pipeline configurations: parsing, grid expansion, canonical form and building.

A configuration is a list of steps, or a mapping ``{pipeline: [steps], name?, task?,
description?}``. A step is a class path or alias (``"snv"``), ``{class:, params:}``,
or ``{model: step}`` to mark the model (else the last step is the model). A step
whose class can ``split`` (``KFold``...) is the cross-validation splitter. See
``docs/configuration.md`` for the user guide and :mod:`.generators` for ``_or_``
and ranges.

The canonical form of a variant, hashed by the workspace for the pipeline's
identity, is ``{"pipeline": [splitter?, *preprocessing, {"model": step}], "task"?}``
where every step is ``{"class": "public.class.Path", "params": {...}}`` holding only
the parameters the user gave, so it does not change when a library adds defaults.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ConfigError
from ..base import PipelineSpec
from .aliases import alias_target, class_path, is_splitter, resolve_class
from .generators import expand_node, is_generator
from .naming import describe, slugify

TASKS = ("regression", "classification")
_CONFIG_KEYS = ("pipeline", "name", "task", "description")
_STEP_KEYS = ("class", "params")


@dataclass
class BuiltPipeline:
    """Fresh, unfitted objects for one canonical configuration.

    ``steps`` pairs each estimator with its index in ``config["pipeline"]``; the
    last one is the model.
    """

    steps: list[tuple[int, Any]]
    splitter: Any | None
    task: str | None


def expand(config: Any) -> list[PipelineSpec]:
    """One :class:`PipelineSpec` per distinct variant of ``config``, in document order.

    Every class, alias and parameter is checked (each variant is instantiated once)
    so mistakes raise :class:`ConfigError` naming the step before anything runs.
    """
    pipeline, meta = _parse(config)
    _check_classes(pipeline, "pipeline")
    specs: list[PipelineSpec] = []
    seen: set[str] = set()
    checked: set[str] = set()
    variants = expand_node(pipeline, "pipeline")
    for variant_number, variant in enumerate(variants, start=1):
        where = "pipeline" if len(variants) == 1 else f"pipeline (variant {variant_number})"
        canonical = canonicalize(variant, meta.get("task"), where)
        key = json.dumps(canonical, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        for i, step in enumerate(canonical["pipeline"]):
            _validate_step(unwrap(step), f"{where} step {i + 1}", checked)
        names = describe(canonical)
        name = names.name
        if meta.get("name") and len(variants) == 1:
            name = slugify(str(meta["name"]))
        specs.append(
            PipelineSpec(
                config=canonical,
                name=name,
                params=names.params,
                model=names.model,
                preprocessing=names.preprocessing,
                index=len(specs),
            )
        )
    return specs


def _parse(config: Any) -> tuple[list[Any], dict[str, Any]]:
    if isinstance(config, (list, tuple)):
        pipeline, meta = list(config), {}
    elif isinstance(config, Mapping):
        unknown = sorted(set(config) - set(_CONFIG_KEYS))
        if unknown:
            raise ConfigError(
                f"configuration has unknown key(s) {', '.join(map(repr, unknown))}; "
                f"allowed keys are: {', '.join(_CONFIG_KEYS)}"
            )
        if "pipeline" not in config:
            raise ConfigError("configuration has no 'pipeline' key; give {pipeline: [steps...]}")
        pipeline = config["pipeline"]
        meta = {key: config[key] for key in ("name", "task") if config.get(key) is not None}
        if not isinstance(pipeline, (list, tuple)):
            raise ConfigError(f"configuration 'pipeline' must be a list of steps, got {pipeline!r}")
        pipeline = list(pipeline)
    else:
        raise ConfigError(
            "a configuration must be a list of steps or a mapping with 'pipeline', "
            f"got {type(config).__name__}"
        )
    if not pipeline:
        raise ConfigError("configuration 'pipeline' is empty; add at least a model step")
    if "task" in meta and meta["task"] not in TASKS:
        raise ConfigError(f"configuration task {meta['task']!r} is unknown; use one of: {', '.join(TASKS)}")
    return pipeline, meta


def _check_classes(node: Any, where: str) -> None:
    """Resolve every class named in the raw document, so a typo is reported with its location."""
    if isinstance(node, str):
        resolve_class(node, where)
    elif isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            _check_classes(item, f"{where}[{i}]")
    elif isinstance(node, Mapping):
        if "_or_" in node and isinstance(node["_or_"], (list, tuple)):
            for i, choice in enumerate(node["_or_"]):
                _check_classes(choice, f"{where}._or_[{i}]")
        if "model" in node:
            _check_classes(node["model"], f"{where}.model")
        if "class" in node:
            _check_classes(node["class"], f"{where}.class")
        if isinstance(node.get("params"), Mapping):
            for key, value in node["params"].items():
                _check_param_classes(value, f"{where}.params.{key}")


def _check_param_classes(node: Any, where: str) -> None:
    """Parameters are plain values except nested steps ``{class: ...}``, which are checked."""
    if isinstance(node, Mapping) and ("class" in node or is_generator(node)):
        if "class" in node:
            _check_classes(node, where)
        elif isinstance(node.get("_or_"), (list, tuple)):
            for i, choice in enumerate(node["_or_"]):
                _check_param_classes(choice, f"{where}._or_[{i}]")
    elif isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            _check_param_classes(item, f"{where}[{i}]")


def canonicalize(variant: list[Any], task: str | None = None, where: str = "pipeline") -> dict[str, Any]:
    """The canonical configuration of one concrete (generator-free) list of steps.

    Raises :class:`ConfigError` when the steps do not make one pipeline: no model,
    two splitters, two marked models, or steps after a marked model.
    """
    flat = _flatten(variant)
    splitters: list[dict[str, Any]] = []
    chain: list[dict[str, Any]] = []
    model_at: int | None = None
    for i, raw in enumerate(flat):
        here = f"{where} step {i + 1}"
        marked = isinstance(raw, Mapping) and "model" in raw
        step = _normalize_model(raw, here) if marked else _normalize_step(raw, here)
        cls = resolve_class(step["class"], here)
        if is_splitter(cls):
            if marked:
                raise ConfigError(f"{here}: {step['class']} is a cross-validation splitter, not a model")
            splitters.append(step)
            continue
        if model_at is not None:
            raise ConfigError(
                f"{here}: {step['class']} comes after the model marked with 'model:'; "
                "the model must be the last estimator step"
            )
        if marked:
            model_at = len(chain)
        chain.append(step)
        if not callable(getattr(cls, "fit", None)):
            raise ConfigError(f"{here}: {step['class']} has no fit method; it cannot be a pipeline step")
    if len(splitters) > 1:
        names = ", ".join(step["class"] for step in splitters)
        raise ConfigError(f"{where}: more than one cross-validation splitter ({names}); keep one")
    if not chain:
        raise ConfigError(f"{where}: no model step; add one, e.g. 'pls' or {{model: ridge}}")
    for i, step in enumerate(chain):
        needed = "predict" if i == len(chain) - 1 else "transform"
        if not callable(getattr(resolve_class(step["class"], where), needed, None)):
            role = "the model" if needed == "predict" else "a preprocessing step"
            raise ConfigError(
                f"{where}: {step['class']} is {role} but has no {needed} method; "
                "put preprocessing before the model and end with a model (or mark it with 'model:')"
            )
    pipeline: list[dict[str, Any]] = [*splitters, *chain[:-1], {"model": chain[-1]}]
    canonical: dict[str, Any] = {"pipeline": pipeline}
    if task is not None:
        canonical["task"] = task
    return canonical


def _flatten(steps: Any) -> list[Any]:
    """``None`` is no step and a list is several steps in sequence (from ``_or_`` choices)."""
    out: list[Any] = []
    for step in steps:
        if step is None:
            continue
        if isinstance(step, (list, tuple)):
            out.extend(_flatten(step))
        else:
            out.append(step)
    return out


def _normalize_model(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    if set(raw) != {"model"}:
        extra = sorted(set(raw) - {"model"})
        raise ConfigError(f"{where}: a model step is {{model: step}} only; unexpected key(s): {extra}")
    inner = raw["model"]
    if inner is None or isinstance(inner, (list, tuple)) or (isinstance(inner, Mapping) and "model" in inner):
        raise ConfigError(f"{where}: 'model' must hold exactly one step, got {inner!r}")
    return _normalize_step(inner, f"{where} (model)")


def _normalize_step(raw: Any, where: str) -> dict[str, Any]:
    if isinstance(raw, str):
        return {"class": class_path(resolve_class(raw, where)), "params": {}}
    if inspect.isclass(raw):
        return {"class": class_path(raw), "params": {}}
    if isinstance(raw, Mapping) and "class" in raw:
        unknown = sorted(set(raw) - set(_STEP_KEYS))
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(map(repr, unknown))} in step {raw.get('class')!r}; "
                "a step is {class: path_or_alias, params: {...}}"
            )
        path = class_path(resolve_class(raw["class"], where))
        params = raw.get("params") or {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"{where}: 'params' of {path} must be a mapping, got {params!r}")
        return {
            "class": path,
            "params": {str(k): _normalize_value(v, f"{where} {path}.{k}") for k, v in params.items()},
        }
    raise ConfigError(
        f"{where}: expected a class path, an alias, {{class:, params:}} or {{model:}}, got {raw!r}"
    )


def _normalize_value(value: Any, where: str) -> Any:
    """JSON-safe parameter value: nested steps canonical, tuples as lists, numpy scalars as Python."""
    if isinstance(value, Mapping) and "class" in value:
        return _normalize_step(value, where)
    if isinstance(value, Mapping):
        return {str(k): _normalize_value(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalize_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: {value!r} cannot be stored in a configuration; use a finite number")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ConfigError(
        f"{where}: {value!r} ({type(value).__name__}) is not a JSON value; "
        "parameters must be numbers, strings, booleans, null, lists, mappings or steps"
    )


def unwrap(step: Mapping[str, Any]) -> dict[str, Any]:
    return dict(step["model"]) if "model" in step else dict(step)


def _validate_step(step: dict[str, Any], where: str, checked: set[str]) -> None:
    key = json.dumps(step, sort_keys=True)
    if key not in checked:
        instantiate(step, where)
        checked.add(key)


def instantiate(step: Mapping[str, Any], where: str = "pipeline step") -> Any:
    """A fresh object for a canonical step ``{class, params}`` (nested steps built too).

    Raises :class:`ConfigError` for a parameter the class does not accept or a
    value its parameter checks reject.
    """
    path = step["class"]
    cls = resolve_class(path, where)
    params = dict(step.get("params") or {})
    signature = inspect.signature(cls)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    valid = [name for name in signature.parameters if name not in ("self", "args", "kwargs")]
    unknown = sorted(set(params) - set(valid))
    if unknown and not accepts_any:
        raise ConfigError(
            f"{where}: {path} does not accept parameter(s) {', '.join(map(repr, unknown))}; "
            f"its parameters are: {', '.join(valid) or '(none)'}"
        )
    kwargs = {name: _build_value(value, f"{where} {path}.{name}") for name, value in params.items()}
    for name, value in kwargs.items():
        if isinstance(value, tuple) and name in signature.parameters:
            kwargs[name] = _sequence_for(signature.parameters[name].annotation, value)
    try:
        obj = cls(**kwargs)
    except Exception as exc:
        raise ConfigError(f"{where}: cannot create {path} with {params!r}: {exc}") from None
    _check_values(obj, f"{where}: {path}")
    return obj


def _build_value(value: Any, where: str) -> Any:
    # scikit-learn checks some parameters as tuples (MinMaxScaler.feature_range); JSON has lists only.
    if isinstance(value, Mapping) and "class" in value:
        return instantiate(value, where)
    if isinstance(value, Mapping):
        return {k: _build_value(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_build_value(v, where) for v in value)
    return value


def _sequence_for(annotation: Any, value: tuple[Any, ...]) -> Any:
    """A JSON list as the parameter's annotation asks: an array or a list where one is declared.

    chemotools' ``IndexSelector(features=...)`` indexes with its value, which a tuple breaks.
    """
    declared = str(annotation)
    if "ndarray" in declared:
        return np.asarray(value)
    if "list" in declared.lower() and "tuple" not in declared.lower():
        return list(value)
    return value


def _check_values(obj: Any, where: str) -> None:
    """Run the estimator's own parameter checks now rather than at fit time."""
    try:
        if callable(getattr(obj, "_check_params", None)) and type(obj).__module__.startswith(__package__):
            obj._check_params()
        elif hasattr(obj, "_parameter_constraints") and callable(getattr(obj, "_validate_params", None)):
            obj._validate_params()
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def build_pipeline(config: Mapping[str, Any]) -> BuiltPipeline:
    """Fresh estimators for a canonical configuration (as produced by :func:`expand`)."""
    steps: list[tuple[int, Any]] = []
    splitter = None
    for i, raw in enumerate(config["pipeline"]):
        step = unwrap(raw)
        obj = instantiate(step, f"pipeline step {i + 1}")
        if is_splitter(type(obj)):
            splitter = obj
        else:
            steps.append((i, obj))
    return BuiltPipeline(steps=steps, splitter=splitter, task=config.get("task"))


def class_references(config: Any) -> list[str]:
    """Every class path that expanding, building or running ``config`` could import; imports nothing.

    Covers every form the engine accepts: a step given as a string (``"snv"``,
    ``"pkg.Cls"``), ``{class: ...}``, ``{model: step}``, nested steps in
    ``params``, and the choices of every generator, including those ``count``
    would not keep (:func:`expand` checks them all). Aliases are resolved the
    way :func:`resolve_class` resolves them, so a caller can vet the paths
    before anything is imported. Malformed parts are skipped: :func:`expand`
    refuses them without importing anything.
    """
    found: list[str] = []
    if isinstance(config, Mapping) and "pipeline" in config:
        _step_references(config["pipeline"], found)
    else:
        _step_references(config, found)
    return list(dict.fromkeys(found))


def _step_references(node: Any, found: list[str]) -> None:
    """A node where a step (or a class path) is expected."""
    if isinstance(node, str):
        if node.strip():
            found.append(alias_target(node))
    elif isinstance(node, (list, tuple)):
        for item in node:
            _step_references(item, found)
    elif isinstance(node, Mapping):
        for key in ("_or_", "model", "class"):
            if key in node:
                _step_references(node[key], found)
        if "params" in node:
            _param_references(node["params"], found)


def _param_references(node: Any, found: list[str]) -> None:
    """Parameter values are plain data, except nested steps ``{class: ...}`` at any depth."""
    if isinstance(node, Mapping):
        if "class" in node:
            _step_references(node, found)
            return
        for value in node.values():
            _param_references(value, found)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _param_references(item, found)


# Class paths under these prefixes (our dependencies) are imported to check that they name an
# estimator or a splitter.
TRUSTED_CLASS_PREFIXES = ("sklearn.", "nirs4all_workspace.engines.sklearn.", "chemotools.")


def untrusted_classes(config: Any, trusted: Sequence[str] = ()) -> list[str]:
    """The class paths of ``config`` (:func:`class_references`) that are not safe to import and build.

    Safe are the paths in ``trusted`` and scikit-learn estimators, splitters and
    our operators; only modules under ``TRUSTED_CLASS_PREFIXES`` are imported
    to tell, never the module of a path that is returned.
    """
    from sklearn.base import BaseEstimator

    refused = []
    for path in class_references(config):
        if path in trusted:
            continue
        if not path.startswith(TRUSTED_CLASS_PREFIXES):
            refused.append(path)
            continue
        try:
            cls = resolve_class(path, path)  # imports a scikit-learn or nirs4all module only
        except ConfigError:
            continue  # not a class: expand() refuses it
        if not (issubclass(cls, BaseEstimator) or is_splitter(cls)):
            refused.append(path)
    return refused
