"""Families of strategies and classifiers: their parameters, defaults, checks and names.

A family (``ma_crossover``, ``volatility``...) is a vectorised function over
the whole bar arrays plus a parameter schema. ``Family.canonical`` turns what a
user wrote into complete, checked parameters (every default filled in, so a
stored configuration never hides a value); ``Family.variant_name`` gives the
readable name used for folders and tables (``ma_5_20``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import ConfigError


@dataclass(frozen=True)
class Param:
    """One parameter: its default, integer or real, and its smallest allowed value."""

    name: str
    default: int | float
    integer: bool = False
    minimum: float | None = None
    exclusive: bool = False  # minimum excluded
    maximum: float | None = None

    def check(self, value: Any, where: str) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"{where}.{self.name}: expected a number, got {value!r}")
        if self.integer:
            if isinstance(value, float) and not value.is_integer():
                raise ConfigError(f"{where}.{self.name}: expected a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)  # 2 and 2.0 are one configuration (one hash)
        low_ok = self.minimum is None or (value > self.minimum if self.exclusive else value >= self.minimum)
        high_ok = self.maximum is None or value < self.maximum
        if not (low_ok and high_ok):
            bound = ">" if self.exclusive else ">="
            limits = [f"{bound} {self.minimum:g}"] if self.minimum is not None else []
            limits += [f"< {self.maximum:g}"] if self.maximum is not None else []
            raise ConfigError(f"{where}.{self.name}: must be {' and '.join(limits)}, got {value!r}")
        return value


@dataclass(frozen=True)
class Family:
    """A strategy or classifier family: ``compute(bars, **params)`` and its schema."""

    name: str
    short: str
    params: tuple[Param, ...]
    compute: Callable[..., Any]
    check: Callable[[dict[str, Any], str], None] | None = None
    labels: tuple[str, ...] = ()  # classifiers: the regime labels, by code 0, 1, 2...
    description: str = ""

    def canonical(self, given: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
        """Complete, checked parameters (defaults filled in, in schema order)."""
        given = dict(given or {})
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ConfigError(
                f"{where}: {self.name} has no parameter(s) {', '.join(unknown)}; "
                f"its parameters are: {', '.join(p.name for p in self.params)}"
            )
        params = {p.name: p.check(given.get(p.name, p.default), where) for p in self.params}
        if self.check is not None:
            self.check(params, where)
        return params

    def variant_name(self, params: Mapping[str, Any]) -> str:
        """``ma_5_20``: the short name and every parameter value, in schema order."""
        return "_".join([self.short, *(format_value(params[p.name]) for p in self.params)])


def format_value(value: Any) -> str:
    """Integers as they are, reals with at least one decimal (``1.0``, ``0.0005``)."""
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text if "e" not in text else f"{value:.10f}".rstrip("0")


def resolve(
    families: Mapping[str, Family], node: Any, kind: str, where: str
) -> tuple[Family, dict[str, Any], dict[str, Any]]:
    """Family, raw parameters and other keys of ``"name"`` or ``{class: name, params: {...}, ...}``."""
    if isinstance(node, str):
        name, params, extra = node, {}, {}
    elif isinstance(node, Mapping) and "class" in node:
        name = node["class"]
        params = node.get("params") or {}
        extra = {k: v for k, v in node.items() if k not in ("class", "params")}
    else:
        raise ConfigError(
            f"{where}: expected a {kind} name or {{class: name, params: {{...}}}}, got {node!r}"
        )
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where}.params: expected a mapping of parameters, got {params!r}")
    by_short = {f.short: f for f in families.values()}
    family = families.get(str(name)) or by_short.get(str(name))
    if family is None:
        choices = ", ".join(f"{f.name} ({f.short})" for f in families.values())
        raise ConfigError(f"{where}: unknown {kind} {name!r}; choose one of: {choices}")
    return family, dict(params), extra
