"""Human views of a canonical configuration: a short name, a preprocessing label, flat params.

These never decide a pipeline's identity (the canonical JSON does); they make
folder names, catalog columns and reports readable: ``snv-sg1_pls-8``,
``"SNV > SavitzkyGolay(deriv=1)"``, ``{"model.n_components": 8, ...}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .aliases import LABELS, is_splitter, resolve_class, short_name

MAX_NAME_LENGTH = 40


@dataclass(frozen=True)
class Description:
    """What :func:`describe` says about one canonical configuration."""

    name: str
    params: dict[str, Any]
    model: str
    preprocessing: str


def describe(config: Mapping[str, Any]) -> Description:
    """Name, flat parameters, model class name and preprocessing label of a canonical config."""
    splitter: Mapping[str, Any] | None = None
    preprocessing: list[Mapping[str, Any]] = []
    model: Mapping[str, Any] = {}
    for step in config["pipeline"]:
        if "model" in step:
            model = step["model"]
        elif is_splitter(resolve_class(step["class"])):
            splitter = step
        else:
            preprocessing.append(step)
    label = " > ".join(step_label(step) for step in preprocessing) or "none"
    params: dict[str, Any] = {"preprocessing": label}
    used: dict[str, int] = {}
    for step in preprocessing:
        prefix = _class_name(step).lower()
        used[prefix] = used.get(prefix, 0) + 1
        if used[prefix] > 1:
            prefix = f"{prefix}_{used[prefix]}"
        params.update(_flat(prefix, step))
    params.update(_flat("model", model))
    if splitter is not None:
        params.update(_flat("splitter", splitter))
    return Description(
        name=_name([_token(step) for step in preprocessing], _model_token(model)),
        params=params,
        model=_class_name(model),
        preprocessing=label,
    )


def step_label(step: Mapping[str, Any]) -> str:
    """``ClassName(param=value, ...)`` with the parameters the configuration gives."""
    args = ", ".join(f"{key}={_value_label(value)}" for key, value in step.get("params", {}).items())
    return f"{_class_name(step)}({args})" if args else _class_name(step)


def slugify(text: str) -> str:
    """A safe folder-name fragment: lowercase ``a-z0-9.-_``, at most 40 characters."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower())
    slug = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", slug))
    slug = slug[:MAX_NAME_LENGTH].strip("-._")
    return slug or "pipeline"


def _class_name(step: Mapping[str, Any]) -> str:
    path = str(step["class"])
    return LABELS.get(path, path.rpartition(".")[2])


def _is_step(value: Any) -> bool:
    return isinstance(value, Mapping) and "class" in value


def _value_label(value: Any) -> str:
    if _is_step(value):
        return step_label(value)
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _flat(prefix: str, step: Mapping[str, Any]) -> dict[str, Any]:
    """``prefix.param`` -> value; nested steps and containers become strings (one catalog column each)."""
    out: dict[str, Any] = {}
    for key, value in step.get("params", {}).items():
        if _is_step(value):
            out[f"{prefix}.{key}"] = step_label(value)
        elif isinstance(value, (list, dict)):
            out[f"{prefix}.{key}"] = json.dumps(value, sort_keys=True)
        else:
            out[f"{prefix}.{key}"] = value
    return out


def _token(step: Mapping[str, Any]) -> str:
    """Short token of a preprocessing step: its alias, plus the derivative order when given."""
    token = short_name(str(step["class"]))
    deriv = step.get("params", {}).get("deriv")
    if isinstance(deriv, int) and not isinstance(deriv, bool) and deriv:
        token += str(deriv)
    return token


def _model_token(model: Mapping[str, Any]) -> str:
    parts = [short_name(str(model.get("class", "model")))]
    for value in model.get("params", {}).values():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, float):
            parts.append(f"{value:g}")
        elif isinstance(value, (int, str)):
            parts.append(str(value))
    return "-".join(parts)


def _name(tokens: list[str], model_token: str) -> str:
    """``pre1-pre2_model-values``, shortening the preprocessing part first to fit 40 characters."""
    model_part = slugify(model_token)
    if not tokens:
        return model_part
    pre_part = slugify("-".join(tokens))
    room = MAX_NAME_LENGTH - len(model_part) - 1
    if room < 3:
        return model_part
    return f"{pre_part[:room].strip('-._')}_{model_part}"
