"""What the gridfn engine declares, read by the workspace without importing the engine."""

from __future__ import annotations

from nirs4all_workspace.engines.declaration import EngineDeclaration

# The metric names a function may return, with the direction that is better. A function
# states its objective with the task: "minimize" ranks by loss, "maximize" by score.
METRICS = {
    "loss": "min",
    "error": "min",
    "rmse": "min",
    "mae": "min",
    "mse": "min",
    "score": "max",
    "accuracy": "max",
    "r2": "max",
    "auc": "max",
    "f1": "max",
    "reward": "max",
}

DECLARATION = EngineDeclaration(
    name="gridfn",
    factory="nirs4all_gridfn.engine:FunctionGridEngine",
    tasks=("minimize", "maximize"),
    metrics=METRICS,
    default_metrics={"minimize": "loss", "maximize": "score"},
    report_metrics={"minimize": ("loss", "r2"), "maximize": ("score",)},
    words={"model": "function", "preprocessing": "parameters"},
    demo_dataset="gridfn_demo",
)
