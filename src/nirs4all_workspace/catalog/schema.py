"""Column names and types of the two catalog tables.

``predictions_meta`` has one row per prediction (a partition, or a fold of it,
of one pipeline) with every score as its own Float64 column, so that filters
and sorts read only the columns they need. Engines may report metrics beyond
the built-in ones: any numeric metric becomes a column, and readers fill the
missing ones with nulls.
"""

from __future__ import annotations

import polars as pl

META_SCHEMA: dict[str, pl.DataType] = {
    "prediction_id": pl.String(),
    "pipeline_id": pl.String(),
    "dataset": pl.String(),
    "session": pl.String(),
    "engine": pl.String(),
    "pipeline_number": pl.Int64(),
    "pipeline_folder": pl.String(),
    "pipeline_hash": pl.String(),
    "pipeline_name": pl.String(),
    "model": pl.String(),
    "preprocessing": pl.String(),
    "params": pl.String(),
    "task": pl.String(),
    "partition": pl.String(),
    "fold": pl.Int32(),
    "n_samples": pl.Int64(),
    "n_features": pl.Int64(),
    "duration_s": pl.Float64(),
    "created_at": pl.Datetime("us", "UTC"),
    "status": pl.String(),
    "path": pl.String(),
    "archived": pl.Boolean(),
    "classes": pl.String(),
    # the dataset's question and data version (null in catalogs written before they existed)
    "target": pl.String(),
    "data_digest": pl.String(),
}

DATA_SCHEMA: dict[str, pl.DataType] = {
    "prediction_id": pl.String(),
    "partition": pl.String(),
    "y_true": pl.List(pl.Float64()),
    "y_pred": pl.List(pl.Float64()),
    "sample_indices": pl.List(pl.Int64()),
}

# Columns a listing shows first; metric columns follow.
DISPLAY_COLUMNS = (
    "dataset",
    "pipeline_number",
    "pipeline_folder",
    "model",
    "preprocessing",
    "partition",
)


# Columns a read adds from the workspace, never stored (archive_registry.with_archive_flags).
READ_FLAGS: dict[str, pl.DataType] = {"trashed": pl.Boolean()}


def metric_columns(columns: list[str]) -> list[str]:
    """The metric columns of a meta table: every column that is neither a base column nor a read flag."""
    return [c for c in columns if c not in META_SCHEMA and c not in READ_FLAGS]
