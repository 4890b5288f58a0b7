"""Post-run steps: what every run does once its pipelines are stored.

The run loop (:mod:`nirs4all_workspace.experiment`) stores pipelines and keeps
the best; it imports neither the reports nor the library. What follows a run
(the engine's dataset summary, plots and the session report, the exports) are
steps registered as entry points in the group ``nirs4all_workspace.post_run``,
run in the order of their names, so a third party adds one the way it adds an
engine. A step is a callable taking a :class:`RunEnd`; it may have a
``check(options)`` attribute that validates its options (e.g. ``plots``) before
anything runs. A step records its own failure on the report: the pipelines are
stored already, so a step never fails the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .errors import EngineError

POST_RUN_GROUP = "nirs4all_workspace.post_run"


@dataclass
class RunEnd:
    """What a post-run step sees: the workspace, the engine, the dataset and the session's report."""

    workspace: Any
    engine: Any
    dataset: Any
    report: Any  # the ExperimentReport; a step sets its own fields (outputs, engine_summary)
    options: Mapping[str, Any] = field(default_factory=dict)


PostRunStep = Callable[[RunEnd], None]


@cache
def post_run_steps() -> tuple[PostRunStep, ...]:
    """The registered steps, in the order of their entry-point names."""
    from importlib.metadata import entry_points

    found = sorted(entry_points(group=POST_RUN_GROUP), key=lambda e: e.name)
    if not found:
        raise EngineError(
            f"no post-run steps are registered (entry points {POST_RUN_GROUP!r}): the package is not "
            "installed; install it with pip install -e ."
        )
    return tuple(entry.load() for entry in found)


def check_post_run_options(options: Mapping[str, Any], steps: tuple[PostRunStep, ...] | None = None) -> None:
    """Let each step refuse its options (InputError) before anything runs."""
    for step in post_run_steps() if steps is None else steps:
        check = getattr(step, "check", None)
        if check is not None:
            check(options)


def run_post_steps(end: RunEnd, steps: tuple[PostRunStep, ...] | None = None) -> None:
    for step in post_run_steps() if steps is None else steps:
        step(end)
