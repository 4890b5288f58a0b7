"""What the scikit-learn engine declares: read by the catalog and reports without importing it."""

from __future__ import annotations

from ..declaration import EngineDeclaration

DECLARATION = EngineDeclaration(
    name="sklearn",
    factory="nirs4all_workspace.engines.sklearn.engine:SklearnEngine",
    tasks=("regression", "classification"),
    metrics={
        "rmse": "min",
        "mae": "min",
        "r2": "max",
        "rpd": "max",
        "accuracy": "max",
        "balanced_accuracy": "max",
        "f1": "max",
    },
    default_metrics={"regression": "rmse", "classification": "accuracy"},
    report_metrics={"regression": ("rmse", "r2"), "classification": ("accuracy", "balanced_accuracy")},
    comparable_metrics={"regression": "r2", "classification": "accuracy"},
    capabilities=frozenset({"predict", "export", "rerun"}),
    # The types of fitted pipelines a library zip may load without --trust (skops).
    trusted_types="nirs4all_workspace.engines.sklearn.trusted:TRUSTED_TYPES",
    demo_dataset="demo",
    default=True,
)
