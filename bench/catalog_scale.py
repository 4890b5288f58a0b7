"""The catalog at scale (goals 2 and 3): queries, arrays, appends and compaction.

A synthetic catalog of N prediction rows (20 datasets, 4 models, train/val/test
partitions, 7 metrics; arrays of 32 values per prediction) is written as the
two main Parquet files, the way ``catalog compact`` leaves them. Then, in
process: ``best`` for one dataset, a filtered top-10, loading the arrays of one
prediction, appending 150 rows, and compacting 10 appended batches.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .common import median, run_quiet, timed

ARRAY_LENGTH = 32
DATASETS = 20
MODELS = ("PLSRegression", "Ridge", "SVR", "RandomForestRegressor")
PARTITIONS = ("train", "val", "test")


def _meta(n: int, offset: int, rng: np.random.Generator) -> pl.DataFrame:
    index = np.arange(offset, offset + n)
    pipeline = index // 3
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rmse = rng.gamma(4.0, 0.25, size=n)
    return pl.DataFrame(
        {
            "prediction_id": [
                f"{p:012x}{0:020x}-{PARTITIONS[i % 3]}" for i, p in zip(index, pipeline, strict=True)
            ],
            "pipeline_id": [f"{p:012x}{0:020x}" for p in pipeline],
            "dataset": [f"dataset_{p % DATASETS:02d}" for p in pipeline],
            "session": [f"session_{p // 5000:04d}" for p in pipeline],
            "engine": "sklearn",
            "pipeline_number": (pipeline // DATASETS + 1).astype(np.int64),
            "pipeline_folder": [f"{p // DATASETS + 1:04d}_pls_{p % 16777216:06x}" for p in pipeline],
            "pipeline_hash": [f"{p:064x}" for p in pipeline],
            "pipeline_name": "pls",
            "model": [MODELS[p % len(MODELS)] for p in pipeline],
            "preprocessing": [("SNV", "MSC", "none")[p % 3] for p in pipeline],
            "params": '{"model.n_components": 8}',
            "task": "regression",
            "partition": [PARTITIONS[i % 3] for i in index],
            "fold": pl.Series([None] * n, dtype=pl.Int32),
            "n_samples": np.full(n, ARRAY_LENGTH, dtype=np.int64),
            "n_features": np.full(n, 700, dtype=np.int64),
            "duration_s": rng.uniform(0.01, 2.0, size=n),
            "created_at": [start + timedelta(seconds=int(p)) for p in pipeline],
            "status": "completed",
            "path": [
                f"runs/dataset_{p % DATASETS:02d}/{p // DATASETS + 1:04d}_pls_{p % 16777216:06x}"
                for p in pipeline
            ],
            "archived": False,
            "classes": pl.Series([None] * n, dtype=pl.String),
            "rmse": rmse,
            "mae": rmse * 0.8,
            "r2": 1 - rmse / 3,
            "rpd": 1 / rmse,
        }
    )


def _data(ids: list[str], rng: np.random.Generator) -> pl.DataFrame:
    n = len(ids)
    values = rng.normal(size=(n, ARRAY_LENGTH))
    return pl.DataFrame(
        {
            "prediction_id": ids,
            "partition": [PARTITIONS[i % 3] for i in range(n)],
            "y_true": values,
            "y_pred": values + 0.1,
            "sample_indices": np.tile(np.arange(ARRAY_LENGTH, dtype=np.int64), (n, 1)),
        },
        schema_overrides={
            "y_true": pl.List(pl.Float64),
            "y_pred": pl.List(pl.Float64),
            "sample_indices": pl.List(pl.Int64),
        },
    )


def build(root: Path, n_rows: int, chunk: int = 250_000) -> Any:
    """Write a compacted catalog of ``n_rows`` predictions under ``root``; returns the workspace."""
    from nirs4all_workspace.catalog.predictions import DATA_ROW_GROUP, META_ROW_GROUP, SORTED_KEY
    from nirs4all_workspace.facade import Workspace

    ws = Workspace.open(root)
    ws.layout.catalog_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    metas, datas = [], []
    for offset in range(0, n_rows, chunk):
        meta = _meta(min(chunk, n_rows - offset), offset, rng)
        metas.append(meta)
        datas.append(_data(meta["prediction_id"].to_list(), rng))
    meta = pl.concat(metas).sort(["dataset", "prediction_id"])  # as compaction leaves it
    meta.write_parquet(
        ws.layout.catalog_meta,
        compression="lz4",
        row_group_size=META_ROW_GROUP,
        metadata={SORTED_KEY: "dataset"},
    )
    pl.concat(datas).write_parquet(ws.layout.catalog_data, compression="lz4", row_group_size=DATA_ROW_GROUP)
    return ws


def _rows_to_append(n: int, tag: str) -> tuple[list[dict], list[dict]]:
    rng = np.random.default_rng(abs(hash(tag)) % 2**32)
    meta = _meta(n, 10**9, rng).with_columns(
        prediction_id=pl.col("prediction_id") + f"-{tag}", dataset=pl.lit("dataset_new")
    )
    data = _data(meta["prediction_id"].to_list(), rng)
    return meta.to_dicts(), data.to_dicts()


def measure(root: Path, n_rows: int) -> dict[str, Any]:
    start = time.perf_counter()
    ws = build(root, n_rows)
    build_s = time.perf_counter() - start
    predictions = ws.predictions
    best = timed(lambda: predictions.best("dataset_07", metric="rmse"), 7)
    top = timed(
        lambda: predictions.top(
            10, metric="r2", where=(pl.col("model") == "Ridge") & (pl.col("preprocessing") == "SNV")
        ),
        7,
    )
    one = predictions.best("dataset_13", metric="rmse")["prediction_id"]
    arrays = timed(lambda: predictions.arrays([one]), 7)
    appends = []
    for i in range(7):
        meta, data = _rows_to_append(150, f"a{i}")
        start = time.perf_counter()
        predictions.append(meta, data)
        appends.append(time.perf_counter() - start)
    for i in range(3):  # ten fragments in all
        predictions.append(*_rows_to_append(150, f"b{i}"))
    total = predictions.count()
    start = time.perf_counter()
    predictions.compact()
    compact_s = time.perf_counter() - start
    return {
        "rows": n_rows,
        "build_s": build_s,
        "best_ms": median(best) * 1000,
        "top10_filtered_ms": median(top) * 1000,
        "arrays_one_ms": median(arrays) * 1000,
        "append_150_ms": median(appends) * 1000,
        "compact_s": compact_s,
        "compact_rows_per_s": total / compact_s,
        "meta_mb": ws.layout.catalog_meta.stat().st_size / 1e6,
        "data_mb": ws.layout.catalog_data.stat().st_size / 1e6,
    }


def cli_startup(root: Path, n_rows: int) -> dict[str, Any]:
    """Whole-process time of ``nirs4all catalog best`` on an ``n_rows`` catalog (goal 3)."""
    build(root, n_rows)
    command = [
        sys.executable,
        "-m",
        "nirs4all_workspace.cli",
        "catalog",
        "best",
        "dataset_03",
        "--json",
        "--workspace",
        str(root),
    ]
    times = timed(lambda: run_quiet(command), 7)
    probe = run_quiet(
        [
            sys.executable,
            "-c",
            (
                "import sys, io, contextlib; from nirs4all_workspace.cli import main\n"
                f"with contextlib.redirect_stdout(io.StringIO()): main({command[3:]!r})\n"
                "print(','.join(m for m in ('sklearn', 'matplotlib', 'scipy', 'joblib') if m in sys.modules))"
            ),
        ]
    )
    return {
        "rows": n_rows,
        "catalog_best_process_s": median(times),
        "heavy_modules_loaded": probe.stdout.strip(),
    }
