"""Which classes a configuration from a zip may create: scikit-learn estimators and splitters, our operators.

The configurations of a zip are untrusted input: building a step instantiates
its class, so every ``class`` must be one of those unless the user passes ``--trust``.
"""

from __future__ import annotations

from typing import Any

from ...errors import TrustRequired

TRUSTED_CLASS_PREFIXES = ("sklearn.", "nirs4all_workspace.engines.sklearn.")


def _classes(node: Any) -> list[str]:
    """Every ``class`` named anywhere in a configuration."""
    if isinstance(node, dict):
        found = [node["class"]] if isinstance(node.get("class"), str) else []
        return found + [c for value in node.values() for c in _classes(value)]
    if isinstance(node, list):
        return [c for value in node for c in _classes(value)]
    return []


def check_config_classes(config: Any, label: str, trust: bool) -> list[str]:
    """Refuse classes a zip's configuration would instantiate unless trusted; returns warnings."""
    from sklearn.base import BaseEstimator

    from .aliases import ALIASES, is_splitter, resolve_class

    refused = []
    for name in _classes(config):
        path = ALIASES.get(name.strip().lower(), name.strip())
        if not path.startswith(TRUSTED_CLASS_PREFIXES):
            refused.append(path)
            continue
        cls = resolve_class(path, label)  # imports a scikit-learn or nirs4all module only
        if not (issubclass(cls, BaseEstimator) or is_splitter(cls)):
            refused.append(path)
    if refused and not trust:
        raise TrustRequired(
            f"{label}: its configuration would create {', '.join(sorted(set(refused))[:5])}, which is not a "
            "scikit-learn estimator or a nirs4all operator; refused. Pass --trust only if you trust its maker"
        )
    return [f"{label}: creating {path} because of --trust" for path in sorted(set(refused))]
