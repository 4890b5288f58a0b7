"""What a finished workflow chose: the blend or pipeline of its last scoring phase, and its scores.

``workflow run`` ends with it. The outputs are read from ``analysis/<phase>.json``,
last phase first: a phase with ``members`` and ``scores`` (an ensemble or its
validation) gives a blend (or one pipeline when a single member has weight); a
phase with ``results`` (a grid) gives its best pipeline by the workflow's metric,
ranked the way the engine's declaration says.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..errors import InputError, WorkspaceError
from ..facade import Workspace


def workflow_outcome(workspace: Workspace, document: dict[str, Any]) -> dict[str, Any] | None:
    """``{"phase", "kind" (blend|pipeline), "metric", "scores": {partition: value}, ...}``, or None
    when no completed phase scores a choice (e.g. a workflow of analysis phases only)."""
    for phase in reversed(document.get("phases") or []):
        if phase.get("status") != "completed" or not phase.get("output"):
            continue
        try:
            output = json.loads((workspace.root / phase["output"]).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(output, dict):
            continue
        found = _blend(output) or _best_of_grid(workspace, document, output)
        if found is not None:
            return {"phase": phase.get("name"), **found}
    return None


def _score(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _blend(output: dict[str, Any]) -> dict[str, Any] | None:
    scores, members, metric = output.get("scores"), output.get("members"), output.get("metric")
    if not (isinstance(scores, dict) and isinstance(members, list) and members and metric):
        return None
    weighted = [m for m in members if isinstance(m, dict) and (_score(m.get("weight")) or 0) > 0]
    chosen = weighted or [m for m in members if isinstance(m, dict)]
    shown = {p: _score((s or {}).get(metric)) for p, s in scores.items() if isinstance(s, dict)}
    return {
        "kind": "blend" if len(chosen) > 1 else "pipeline",
        "members": [
            {"name": m.get("name"), "hash": m.get("hash"), "weight": m.get("weight")} for m in chosen
        ],
        "metric": metric,
        "scores": {p: v for p, v in shown.items() if v is not None},
    }


def _best_of_grid(
    workspace: Workspace, document: dict[str, Any], output: dict[str, Any]
) -> dict[str, Any] | None:
    from ..catalog.engine_metrics import direction_of

    rows, metric = output.get("results"), output.get("metric")
    if not (isinstance(rows, list) and metric):
        return None
    scored = [
        r
        for r in rows
        if isinstance(r, dict) and _score(((r.get("metrics") or {}).get("val") or {}).get(metric)) is not None
    ]
    if not scored:
        return None
    try:
        direction = direction_of(metric, [document["engine"]] if document.get("engine") else None)
    except InputError:
        return None
    key = lambda r: r["metrics"]["val"][metric]  # noqa: E731 - one use
    best = min(scored, key=key) if direction == "min" else max(scored, key=key)
    dataset = output.get("dataset") or document.get("dataset")
    reference = None
    if dataset and best.get("hash"):
        try:
            reference = f"{dataset}/{workspace.manifests.resolve(dataset, best['hash'])}"
        except WorkspaceError:
            reference = None
    return {
        "kind": "pipeline",
        "members": [{"name": best.get("name"), "hash": best.get("hash"), "weight": 1.0}],
        "pipeline": reference,
        "metric": metric,
        "scores": {
            p: v
            for p, s in best["metrics"].items()
            if isinstance(s, dict) and (v := _score(s.get(metric))) is not None
        },
    }
