"""Run a user's Python function over a parameter grid; the workspace stores what it returns.

The configuration names the function and the grid::

    {"function": "my_module:fit", "task": "minimize",
     "grid": {"degree": [1, 3, 5], "alpha": [0.0, 0.1]}, "fixed": {"seed": 0}}

Each combination of the grid is one pipeline: ``fit(data, degree=3, alpha=0.1, seed=0)``.
The function returns its metrics, flat (``{"loss": 0.3}``, the ``val`` partition) or by
partition (``{"metrics": {"val": {...}, "train": {...}}``), and optionally
``"predictions"`` (partition -> ``{"y_true", "y_pred"[, "sample_ids"]}``) and
``"fitted"`` (name -> object: the workspace stores each one once). Metric names are
those the engine declares (``declaration.METRICS``), so every one has a direction.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from nirs4all_workspace.engines.base import FittedStep, PipelineResult, PipelineSpec, PredictionBlock
from nirs4all_workspace.errors import ConfigError, DatasetError

from .declaration import DECLARATION, METRICS

PARTITIONS = ("train", "val", "test")


@dataclass
class Table:
    """Named columns of numbers: what the user's function receives as ``data``."""

    name: str
    source: str
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return len(next(iter(self.columns.values()), ()))

    @property
    def n_features(self) -> int:
        return len(self.columns)

    def __getitem__(self, column: str) -> np.ndarray:
        return self.columns[column]


def load_function(reference: str) -> Any:
    """The function named ``module:name``; ConfigError saying what is wrong."""
    module_name, _, attr = reference.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"gridfn: 'function' must be 'module:function', not {reference!r}")
    try:
        function = getattr(import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"gridfn: cannot import {reference!r} ({exc})") from None
    if not callable(function):
        raise ConfigError(f"gridfn: {reference!r} is not a function")
    return function


def _slug(params: dict[str, Any]) -> str:
    text = "_".join(f"{k}{v}" for k, v in params.items()) or "run"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:60]


class FunctionGridEngine:
    """Expands a grid of keyword arguments; executes the user's function on one combination."""

    name = "gridfn"
    packages = ("numpy",)
    declaration = DECLARATION

    def expand(self, config: Any) -> list[PipelineSpec]:
        """One spec per combination of ``grid``; ConfigError for any mistake, before anything runs."""
        if not isinstance(config, dict) or not isinstance(config.get("function"), str):
            raise ConfigError("gridfn: the configuration needs 'function': 'module:function'")
        unknown = sorted(set(config) - {"function", "grid", "fixed", "task"})
        if unknown:
            raise ConfigError(
                f"gridfn: unknown key(s) {', '.join(unknown)}; keys are: function, grid, fixed, task"
            )
        load_function(config["function"])
        task = config.get("task", DECLARATION.tasks[0])
        if task not in DECLARATION.tasks:
            raise ConfigError(f"gridfn: 'task' must be one of {', '.join(DECLARATION.tasks)}, not {task!r}")
        grid, fixed = config.get("grid") or {}, config.get("fixed") or {}
        if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
            raise ConfigError("gridfn: 'grid' must map each parameter to a non-empty list of values")
        if not isinstance(fixed, dict):
            raise ConfigError("gridfn: 'fixed' must map parameters to values")
        names = sorted(grid)
        specs = []
        for values in itertools.product(*(grid[n] for n in names)):
            params = dict(zip(names, values, strict=True))
            specs.append(
                PipelineSpec(
                    config={"function": config["function"], "task": task, "params": {**fixed, **params}},
                    name=_slug(params),
                    params=params or dict(fixed) or {"function": config["function"]},
                    model=config["function"].rpartition(":")[2],
                    preprocessing=", ".join(f"{k}={v}" for k, v in params.items()) or "-",
                    index=len(specs),
                )
            )
        return specs

    def execute(self, spec: PipelineSpec, dataset: Table) -> PipelineResult:
        """Call the function; its exceptions propagate (the workspace records the failure)."""
        start = time.perf_counter()
        output = load_function(spec.config["function"])(dataset, **spec.config["params"])
        if not isinstance(output, dict):
            raise TypeError(
                f"{spec.config['function']} must return a dict of metrics, not {type(output).__name__}"
            )
        metrics = output.get("metrics", output) if "metrics" in output else output
        if metrics and all(isinstance(v, int | float) for v in metrics.values()):
            metrics = {"val": metrics}
        metrics = {p: {k: float(v) for k, v in scores.items()} for p, scores in metrics.items()}
        bad = sorted({k for scores in metrics.values() for k in scores} - set(METRICS))
        if bad or set(metrics) - set(PARTITIONS):
            raise ValueError(
                f"{spec.config['function']} returned metrics {bad or sorted(metrics)}; metric names are "
                f"{', '.join(METRICS)} and partitions {', '.join(PARTITIONS)}"
            )
        blocks = []
        for partition, scores in metrics.items():
            given = (output.get("predictions") or {}).get(partition) or {}
            y_true = np.asarray(given.get("y_true", []), dtype=float)
            y_pred = np.asarray(given.get("y_pred", []), dtype=float)
            ids = np.asarray(given.get("sample_ids", np.arange(len(y_true))))
            blocks.append(PredictionBlock(partition, y_true, y_pred, ids, scores))
        fitted = [
            FittedStep(i, name, obj) for i, (name, obj) in enumerate((output.get("fitted") or {}).items())
        ]
        return PipelineResult(
            status="completed",
            task=spec.config["task"],
            metrics=metrics,
            predictions=blocks,
            fitted=fitted,
            duration_s=max(time.perf_counter() - start, 1e-9),
        )

    def load_dataset(self, source: Path, **options: Any) -> Table:
        """A CSV file with a header row (numeric columns) or a ``.npz`` file."""
        given = sorted(k for k, v in options.items() if v is not None)
        if given:
            raise DatasetError(f"gridfn: option(s) {', '.join(given)} do not apply to '{source}'")
        path = Path(source)
        try:
            if path.suffix == ".npz":
                with np.load(path) as arrays:
                    columns = {k: np.asarray(arrays[k]) for k in arrays.files}
            else:
                table = np.genfromtxt(path, delimiter=",", names=True, dtype=float)
                columns = {k: np.asarray(table[k]) for k in table.dtype.names or ()}
        except (OSError, ValueError) as exc:
            raise DatasetError(f"gridfn: cannot read '{source}' ({exc})") from None
        if not columns:
            raise DatasetError(f"gridfn: '{source}' has no column")
        return Table(name=path.stem, source=str(path), columns=columns)

    def demo_dataset(self) -> Table:
        """200 noisy points of a smooth curve (columns x and y)."""
        from .demo import demo_table

        return demo_table()

    def default_config(self, task: str) -> dict[str, Any]:
        """The demo: ridge regression on polynomial features, degree x alpha."""
        from .demo import demo_config

        return demo_config(task)

    def default_metric(self, task: str) -> tuple[str, str]:
        return DECLARATION.default_metric(task)

    def __repr__(self) -> str:
        return "FunctionGridEngine()"
