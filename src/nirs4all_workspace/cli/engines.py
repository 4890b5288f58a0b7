"""``nirs4all engines``: the installed engines and what each declares."""

from __future__ import annotations

from .options import JsonOption, WorkspaceOption
from .render import console, print_json, table


def engines(
    json_output: JsonOption = False,
    workspace: WorkspaceOption = None,  # noqa: ARG001 - engines are installed per environment, not per workspace
) -> None:
    """List the installed engines: tasks, metrics (direction), default metric, capabilities."""
    from ..engines.registry import describe_engines

    described = describe_engines()
    if json_output:
        print_json(described)
        return
    rows = []
    for e in described:
        if "error" in e:
            rows.append((e["name"], e["package"], "", "", "", f"cannot load: {e['error']}"))
            continue
        defaults = ", ".join(f"{task}: {metric}" for task, metric in e["default_metric"].items())
        metrics = ", ".join(f"{m} ({'lower' if d == 'min' else 'higher'})" for m, d in e["metrics"].items())
        name = f"{e['name']} (default)" if e.get("default") else e["name"]
        rows.append(
            (
                name,
                f"{e['package']} {e['version'] or ''}".strip(),
                defaults,
                ", ".join(e["capabilities"]) or "-",
                e["demo_dataset"],
                metrics,
            )
        )
    columns = ["engine", "package", "default metric", "capabilities", "demo dataset", "metrics"]
    console().print(table(f"{len(rows)} installed engines", columns, rows))
