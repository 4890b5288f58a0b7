"""The 1,000-run reference: bookkeeping per run, best-run query, storage (goals 1 and 5).

Each run has 5 params, 6 metrics, 200 predictions and one identical ~10 KB
fitted scaler. Ours: everything ``nirs4all run`` does per pipeline besides the
fit (serialize the fitted object, ``SimulationSaver.save``, catalog rows in
batches, best-file update). MLflow: ``start_run``, ``log_params``,
``log_metrics``, ``log_artifact`` of the pickled scaler, ``end_run``, with the
file store and the sqlite store, in the same process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .common import median, package_version, tree_size

N_FEATURES = 400  # StandardScaler of 400 features pickles to ~10 KB


def _scaler() -> Any:
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    return StandardScaler().fit(rng.normal(size=(50, N_FEATURES)))


def _run_payload(i: int) -> tuple[dict[str, Any], dict[str, float], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(i)
    params = {
        "n_components": int(i % 20 + 1),
        "alpha": float(10 ** (i % 5 - 2)),
        "preprocessing": "snv",
        "window": 11 + 2 * (i % 4),
        "deriv": i % 3,
    }
    y = rng.normal(size=200)
    pred = y + rng.normal(scale=0.1 + (i % 97) / 100, size=200)
    val, test = slice(0, 100), slice(100, 200)
    metrics = {}
    for name, part in (("val", val), ("test", test)):
        err = pred[part] - y[part]
        metrics[f"{name}_rmse"] = float(np.sqrt(np.mean(err**2)))
        metrics[f"{name}_mae"] = float(np.mean(np.abs(err)))
        metrics[f"{name}_r2"] = float(1 - np.sum(err**2) / np.sum((y[part] - y[part].mean()) ** 2))
    return params, metrics, y, pred


def ours(root: Path, n_runs: int, predictions: bool = True) -> dict[str, Any]:
    """Our side; without ``predictions`` each run stores exactly what MLflow's does
    (params, metrics, the scaler), for the like-for-like storage comparison."""
    from nirs4all_workspace.engines.base import FittedStep, PipelineResult, PipelineSpec, PredictionBlock
    from nirs4all_workspace.experiment import _CatalogBatch
    from nirs4all_workspace.facade import Workspace
    from nirs4all_workspace.workspace.artifacts import serialize

    ws = Workspace.open(root)
    scaler = _scaler()
    batch = _CatalogBatch(ws)
    times = []
    ids = np.arange(100) if predictions else np.arange(0)
    for i in range(n_runs):
        params, metrics, y, pred = _run_payload(i)
        if not predictions:
            y, pred = y[:0], pred[:0]
        spec = PipelineSpec(
            config={"pipeline": params},
            name=f"run-{i}",
            params=params,
            model="PLSRegression",
            preprocessing="SNV",
            index=i,
        )
        blocks = [
            PredictionBlock(
                "val", y[:100], pred[:100], ids, {k[4:]: v for k, v in metrics.items() if k[:3] == "val"}
            ),
            PredictionBlock(
                "test", y[100:], pred[100:], ids, {k[5:]: v for k, v in metrics.items() if k[:4] == "test"}
            ),
        ]
        result = PipelineResult(
            status="completed",
            task="regression",
            metrics={b.partition: b.metrics for b in blocks},
            predictions=blocks,
            fitted=[FittedStep(0, "StandardScaler", scaler)],
            duration_s=0.0,
        )
        start = time.perf_counter()
        artifacts = [serialize(f.step, f.operator, f.obj) for f in result.fitted]
        saved = ws.saver.save(
            "reference",
            spec,
            result,
            artifacts,
            session="bench",
            engine="sklearn",
            n_samples=200,
            n_features=N_FEATURES,
        )
        batch.add(saved)
        ws.best.offer("reference", saved, "rmse", "min", "val")
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    batch.flush()
    flush = time.perf_counter() - start
    times[-1] += flush  # the last batch's append belongs to the last run

    best_times = []
    for _ in range(7):
        start = time.perf_counter()
        best = ws.predictions.best("reference", metric="rmse", partition="test")
        best_times.append(time.perf_counter() - start)
    size = tree_size(root)
    binaries = sum(1 for _ in (root / "runs" / "reference" / "_binaries").iterdir())
    return {
        "bookkeeping_ms": median(times) * 1000,
        "bookkeeping_mean_ms": sum(times) / len(times) * 1000,
        "best_query_s": median(best_times),
        "best_run": best["pipeline_folder"] if best else None,
        "files": size["files"],
        "bytes": size["bytes"],
        "disk_bytes": size["disk_bytes"],
        "artifact_copies": binaries,
        "dedup_ratio": n_runs / max(binaries, 1),
    }


def mlflow_store(kind: str, root: Path, n_runs: int) -> dict[str, Any] | None:
    """The same runs logged with MLflow (``kind``: ``file`` or ``sqlite``); None if not installed."""
    try:
        import mlflow
    except ImportError:
        return None
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps it behind a switch
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    root.mkdir(parents=True, exist_ok=True)
    artifacts = root / "artifacts"
    uri = (root / "mlruns").as_uri() if kind == "file" else f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    client = mlflow.tracking.MlflowClient(uri)
    experiment_id = client.create_experiment("bench", artifact_location=artifacts.as_uri())
    scaler_path = Path(tempfile.mkdtemp()) / "scaler.pkl"
    scaler_path.write_bytes(pickle.dumps(_scaler()))
    times = []
    with contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: PTH123
        for i in range(n_runs):
            params, metrics, _y, _pred = _run_payload(i)
            start = time.perf_counter()
            with mlflow.start_run(experiment_id=experiment_id):
                mlflow.log_params(params)
                mlflow.log_metrics(metrics)
                mlflow.log_artifact(str(scaler_path))
            times.append(time.perf_counter() - start)
    best_times = []
    for _ in range(3):
        start = time.perf_counter()
        mlflow.search_runs([experiment_id], order_by=["metrics.test_rmse ASC"], max_results=1)
        best_times.append(time.perf_counter() - start)
    size = tree_size(root)
    return {
        "version": package_version("mlflow"),
        "logging_ms": median(times) * 1000,
        "best_query_s": median(best_times),
        "files": size["files"],
        "bytes": size["bytes"],
        "disk_bytes": size["disk_bytes"],
        "artifact_copies": sum(1 for _ in artifacts.rglob("scaler.pkl")),
    }


def run(work: Path, n_runs: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "n_runs": n_runs,
        "ours": ours(work / "ours", n_runs),
        "ours_same_content": ours(work / "ours_same_content", n_runs, predictions=False),
    }
    for kind in ("file", "sqlite"):
        other = mlflow_store(kind, work / f"mlflow_{kind}", n_runs)
        if other is not None:
            result[f"mlflow_{kind}"] = other
    return result
