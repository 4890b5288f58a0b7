"""Rendering of one pipeline's view (``nirs4all runs show DATASET/PIPELINE``)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from .render import human_size, table


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def print_pipeline(out: Console, view: Any) -> None:
    """Identity, params, scores with the cross-validation spread, files, status, commands."""
    short = (view.data_version or "")[:12] or "not recorded"
    identity = [
        ("pipeline", view.reference),
        ("number", view.number),
        ("hash", view.hash),
        ("session", view.session),
        ("data version", short),
        ("engine", view.engine),
        ("status", view.status + (f" ({view.error})" if view.error else "")),
        ("task", view.task),
        ("model", view.model),
        ("preprocessing", view.preprocessing),
        ("created", (view.created_at or "")[:19]),
        ("duration", None if view.duration_s is None else f"{view.duration_s:.3f} s"),
        ("size", human_size(view.size_bytes)),
        ("best of the dataset", _best(view)),
        ("archived", _yes(view.archived)),
        ("in the library", ", ".join(view.library) or "no"),
        ("folder", view.path),
    ]
    summary = table(view.reference, ["", ""], identity)
    summary.show_header = False
    out.print(summary)
    if view.params:
        out.print(table("params", ["param", "value"], sorted(view.params.items())))
    out.print(table("scores", *_score_rows(view)))
    if view.samples:
        samples = ", ".join(f"{p} {n}" for p, n in view.samples.items())
        out.print(f"samples: {samples}", markup=False)
    rows = [(f["file"], human_size(f["size"])) for f in view.files]
    out.print(table("files", ["file", "size"], rows))
    if view.objects:
        objects = [
            (
                o["step"],
                o["operator"],
                o["file"],
                human_size(o["size"] or 0),
                "" if o["present"] else "MISSING",
            )
            for o in view.objects
        ]
        out.print(table("fitted objects (in _binaries/)", ["step", "operator", "file", "size", ""], objects))
    out.print("configuration:", markup=False)
    out.print(json.dumps(view.config, indent=2, sort_keys=True), markup=False, highlight=False)
    out.print("reproduce:", markup=False)
    for line in view.commands["reproduce"]:
        out.print(f"  {line}", markup=False, highlight=False)
    out.print("re-run exactly (with its data):", markup=False)
    for line in view.commands["rerun_exactly"]:
        out.print(f"  {line}", markup=False, highlight=False)
    out.print(f"export:\n  {view.commands['export']}", markup=False, highlight=False)


def _best(view: Any) -> str:
    if view.best is None:
        return "no best yet"
    if view.is_best:
        return f"yes ({view.best['partition']} {view.best['metric']} {view.best['score']:.4g})"
    return f"no (the best is {view.best['folder']})"


def _score_rows(view: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
    partitions = [p for p in ("train", "val", "test") if p in view.scores]
    partitions += [p for p in view.scores if p not in partitions]
    metrics = sorted({m for scores in view.scores.values() for m in scores} | set(view.cv))
    columns = ["metric", *partitions]
    if view.cv:
        columns += ["cv mean", "cv std", "fold min", "fold max"]
    rows = []
    for metric in metrics:
        row: list[Any] = [metric, *(view.scores[p].get(metric) for p in partitions)]
        if view.cv:
            cv = view.cv.get(metric, {})
            row += [cv.get("mean"), cv.get("std"), cv.get("min"), cv.get("max")]
        rows.append(tuple(row))
    return columns, rows
