"""A small engine without scikit-learn, to exercise the workspace alone.

Its "model" predicts ``y * scale + offset``; its configs are
``{"scales": [...], "offsets": [...], "fail_on": [...]}`` and expand to the
cartesian product. It shares an identical "preprocessing" object across
variants so that binary de-duplication can be observed.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nirs4all_workspace.engines.base import FittedStep, PipelineResult, PipelineSpec, PredictionBlock


@dataclass
class FakeDataset:
    name: str = "fake"
    source: str = "memory"
    task: str = "regression"
    y: np.ndarray = field(default_factory=lambda: np.linspace(0.0, 10.0, 20))
    y_test: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return len(self.y)

    @property
    def n_features(self) -> int:
        return 3


class FakeEngine:
    """Deterministic engine whose scores are known in advance."""

    name = "fake"
    packages = ("numpy",)
    metric_directions: ClassVar[dict[str, str]] = {"rmse": "min", "r2": "max"}

    def expand(self, config: Mapping[str, Any]) -> list[PipelineSpec]:
        scales = config.get("scales", [1.0])
        offsets = config.get("offsets", [0.0])
        specs = []
        for i, (scale, offset) in enumerate(itertools.product(scales, offsets)):
            specs.append(
                PipelineSpec(
                    config={"scale": scale, "offset": offset, "fail": scale in config.get("fail_on", [])},
                    name=f"s{scale}-o{offset}",
                    params={"model.scale": scale, "model.offset": offset},
                    model="Affine",
                    preprocessing="center",
                    index=i,
                )
            )
        return specs

    def execute(self, spec: PipelineSpec, dataset: FakeDataset) -> PipelineResult:
        if spec.config["fail"]:
            raise RuntimeError(f"scale {spec.config['scale']} is not allowed")
        scale, offset = spec.config["scale"], spec.config["offset"]
        y = dataset.y
        pred = y * scale + offset
        ids = np.arange(len(y))
        folds = np.arange(len(y)) % 2
        blocks = []
        fold_scores = []
        for k in (0, 1):
            mask = folds == k
            rmse = float(np.sqrt(np.mean((pred[mask] - y[mask]) ** 2)))
            fold_scores.append({"rmse": rmse})
            blocks.append(PredictionBlock("val", y[mask], pred[mask], ids[mask], {"rmse": rmse}, fold=k))
        rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
        blocks.append(PredictionBlock("val", y, pred, ids, {"rmse": rmse, "r2": 1.0 - rmse}))
        blocks.append(PredictionBlock("train", y, pred, ids, {"rmse": rmse, "r2": 1.0 - rmse}))
        metrics = {"val": {"rmse": rmse, "r2": 1.0 - rmse}, "train": {"rmse": rmse, "r2": 1.0 - rmse}}
        fitted = [
            FittedStep(0, "Center", np.array([float(np.mean(y))])),
            FittedStep(1, "Affine", np.array([scale, offset])),
        ]
        return PipelineResult(
            status="completed",
            task="regression",
            metrics=metrics,
            folds=fold_scores,
            predictions=blocks,
            fitted=fitted,
            duration_s=0.001,
        )

    def load_dataset(self, source: Path, **options: Any) -> FakeDataset:
        return FakeDataset(name=Path(source).stem, source=str(source))

    def demo_dataset(self) -> FakeDataset:
        return FakeDataset()

    def default_config(self, task: str = "regression") -> dict[str, Any]:
        return {"scales": [0.5, 1.0, 1.5], "offsets": [0.0, 1.0]}

    def default_metric(self, task: str) -> tuple[str, str]:
        return ("rmse", "min")
