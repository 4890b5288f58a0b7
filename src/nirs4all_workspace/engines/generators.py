"""Grid generators shared by every engine: ``_or_``, ``_range_`` and ``_log_range_`` in a configuration.

Following nirs4all's conventions, a generator is a mapping with one generator key
and optional ``count``/``seed``:

- ``{"_or_": [a, b, None, [c, d]]}``: one variant per choice (``None`` and lists
  keep their meaning: "no step" and "several steps" where a step is expected);
- ``{"_range_": [from, to, step]}`` (or ``[from, to]`` or ``{"from", "to", "step"}``):
  ``to`` is **inclusive**; integers stay integers;
- ``{"_log_range_": [from, to, num]}``: ``num`` values spaced geometrically;
- ``count: N`` keeps N of the values, drawn at random but reproducibly with ``seed``
  (default 0), in their original order.

Expanding a structure combines all its generators as a cartesian product in
document order (the first generator varies slowest).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from itertools import product
from typing import Any

import numpy as np

from ..errors import ConfigError

GENERATOR_KEYS = ("_or_", "_range_", "_log_range_")
OPTION_KEYS = ("count", "seed")
# Beyond this a grid is almost surely a mistake (and would not fit in memory as specs).
MAX_VARIANTS = 100_000


def is_generator(node: Any) -> bool:
    """True when ``node`` is a generator mapping (has ``_or_``, ``_range_`` or ``_log_range_``)."""
    return isinstance(node, Mapping) and any(key in node for key in GENERATOR_KEYS)


def expand_node(node: Any, where: str = "config") -> list[Any]:
    """Every concrete value of ``node``, generators expanded, in document order.

    Raises :class:`ConfigError` naming the location (``pipeline[1]._or_[0]``) for a
    malformed generator or a grid larger than ``MAX_VARIANTS``.
    """
    if is_generator(node):
        return _expand_generator(node, where)
    if isinstance(node, Mapping):
        keys = list(node)
        options = [expand_node(node[key], f"{where}.{key}") for key in keys]
        _check_size(options, where)
        return [dict(zip(keys, combo, strict=True)) for combo in product(*options)]
    if isinstance(node, (list, tuple)):
        options = [expand_node(item, f"{where}[{i}]") for i, item in enumerate(node)]
        _check_size(options, where)
        return [list(combo) for combo in product(*options)]
    return [node]


def _check_size(options: Sequence[Sequence[Any]], where: str) -> None:
    total = math.prod(len(values) for values in options)
    if total > MAX_VARIANTS:
        raise ConfigError(
            f"{where}: the grid has {total:,} variants (limit {MAX_VARIANTS:,}); "
            "narrow the generators or add 'count: N' to sample N of them"
        )


def _expand_generator(node: Mapping[str, Any], where: str) -> list[Any]:
    kinds = [key for key in GENERATOR_KEYS if key in node]
    unknown = sorted(set(node) - set(GENERATOR_KEYS) - set(OPTION_KEYS))
    if len(kinds) > 1 or unknown:
        extra = kinds[1:] + unknown
        raise ConfigError(
            f"{where}: a generator takes one of {', '.join(GENERATOR_KEYS)} plus optional "
            f"{', '.join(OPTION_KEYS)}; unexpected key(s): {', '.join(map(str, extra))}"
        )
    kind = kinds[0]
    here = f"{where}.{kind}"
    if kind == "_or_":
        values = _expand_or(node[kind], here)
    elif kind == "_range_":
        values = _range_values(node[kind], here)
    else:
        values = _log_range_values(node[kind], here)
    return _sample(values, node, where)


def _expand_or(choices: Any, where: str) -> list[Any]:
    if not isinstance(choices, (list, tuple)) or not choices:
        raise ConfigError(f"{where}: expected a non-empty list of choices, got {choices!r}")
    values: list[Any] = []
    for i, choice in enumerate(choices):
        values.extend(expand_node(choice, f"{where}[{i}]"))
        if len(values) > MAX_VARIANTS:
            _check_size([values], where)
    return values


def _bounds(spec: Any, names: tuple[str, ...], required: int, where: str) -> list[Any]:
    """Positional (list) or named (mapping) generator arguments, checked to be numbers."""
    usage = ", ".join(names[:required]) + "".join(f"[, {name}]" for name in names[required:])
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - set(names))
        if unknown or any(name not in spec for name in names[:required]):
            raise ConfigError(f"{where}: expected keys {usage}, got {dict(spec)!r}")
        args = [spec[name] for name in names if name in spec]
    elif isinstance(spec, (list, tuple)) and required <= len(spec) <= len(names):
        args = list(spec)
    else:
        raise ConfigError(f"{where}: expected [{usage}], got {spec!r}")
    for value in args:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where}: bounds must be finite numbers, got {value!r}")
    return args


def _tidy(value: float) -> float:
    """Round away binary noise (``0.30000000000000004``) so configs and hashes stay readable."""
    return float(f"{value:.12g}")


def _range_values(spec: Any, where: str) -> list[Any]:
    args = _bounds(spec, ("from", "to", "step"), 2, where)
    start, stop = args[0], args[1]
    step = args[2] if len(args) > 2 else 1
    if step == 0:
        raise ConfigError(f"{where}: step must not be 0")
    span = (stop - start) / step
    if span < 0:
        raise ConfigError(
            f"{where}: the range from {start} to {stop} by {step} is empty; "
            "swap the bounds or the sign of step"
        )
    count = math.floor(span + 1e-9) + 1
    _check_size([range(count)], where)
    if all(isinstance(value, int) for value in (start, stop, step)):
        return [start + i * step for i in range(count)]
    return [_tidy(start + i * step) for i in range(count)]


def _log_range_values(spec: Any, where: str) -> list[float]:
    start, stop, num = _bounds(spec, ("from", "to", "num"), 3, where)
    if start <= 0 or stop <= 0:
        raise ConfigError(f"{where}: a log range needs positive bounds, got {start} and {stop}")
    if not isinstance(num, int) or num < 1:
        raise ConfigError(f"{where}: num must be a positive integer, got {num!r}")
    _check_size([range(num)], where)
    return [_tidy(value) for value in np.geomspace(start, stop, num)]


def _sample(values: list[Any], node: Mapping[str, Any], where: str) -> list[Any]:
    """Keep ``count`` values drawn reproducibly with ``seed``, in their original order."""
    if "count" not in node:
        if "seed" in node:
            raise ConfigError(f"{where}: 'seed' only makes sense with 'count'")
        return values
    count, seed = node["count"], node.get("seed", 0)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"{where}: count must be a positive integer, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"{where}: seed must be an integer, got {seed!r}")
    if count >= len(values):
        return values
    keep = sorted(random.Random(seed).sample(range(len(values)), count))
    return [values[i] for i in keep]
