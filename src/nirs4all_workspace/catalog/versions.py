"""Data versions in the catalog: rank the newest version of each dataset, count the rest.

Each row carries the ``data_digest`` of the data its pipeline ran on. Scores
of different data versions are never ranked together silently: readers keep,
per dataset, the rows of its newest version (the digest of its newest row) and
say how many pipelines of older versions they left out. Rows without a digest
(catalogs written before data versions) count as one older version once a
dataset has digests, and are kept while it has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..errors import PipelineNotFound
from .predictions import Predictions

_SEP = "\x1f"


@dataclass(frozen=True)
class VersionFilter:
    """The rows of the newest data versions (``where``), and what it leaves out per dataset."""

    where: pl.Expr | None
    newest: dict[str, str]

    def left_out(self, predictions: Predictions, dataset: str | None, partition: str) -> int:
        """Completed pipelines of older data versions that ``where`` leaves out."""
        if self.where is None:
            return 0
        frame = predictions.scan().filter(
            (pl.col("status") == "completed") & (pl.col("partition") == partition) & pl.col("fold").is_null()
        )
        if dataset is not None:
            frame = frame.filter(pl.col("dataset") == dataset)
        frame = frame.filter(~self.where.fill_null(False))
        return int(predictions.collect(frame.select(pl.col("pipeline_id").n_unique())).item())


def newest_versions(
    predictions: Predictions, dataset: str | None = None, all_versions: bool = False
) -> VersionFilter:
    """A filter on the newest data version of each dataset (of ``dataset`` only when given).

    ``all_versions`` keeps every row (the filter is None).
    """
    frame = predictions.scan()
    if all_versions or "data_digest" not in predictions.collect(frame.head(0)).columns:
        return VersionFilter(None, {})
    if dataset is not None:
        frame = frame.filter(pl.col("dataset") == dataset)
    latest = predictions.collect(
        frame.filter(pl.col("data_digest").is_not_null())
        .group_by("dataset")
        .agg(pl.col("data_digest").sort_by("created_at").last())
    )
    newest = dict(zip(latest["dataset"].to_list(), latest["data_digest"].to_list(), strict=True))
    if not newest:
        return VersionFilter(None, {})
    keys = [f"{name}{_SEP}{digest}" for name, digest in newest.items()]
    key = pl.concat_str([pl.col("dataset"), pl.col("data_digest")], separator=_SEP)
    where = key.is_in(keys) | ~pl.col("dataset").is_in(list(newest))
    return VersionFilter(where, newest)


def check_dataset(predictions: Predictions, dataset: str) -> None:
    """PipelineNotFound naming the datasets of the catalog when ``dataset`` is not one of them."""
    names = predictions.collect(predictions.scan().select(pl.col("dataset").unique().sort()))["dataset"]
    known = [n for n in names.to_list() if n is not None]
    if dataset not in known:
        raise PipelineNotFound(f"no dataset {dataset!r}; datasets: {', '.join(known) or 'none yet'}")


def split_metric(metric: str, partition: str = "val") -> tuple[str, str]:
    """``(metric, partition)`` from a ``run --metric`` spelling: ``rmse``, ``test_rmse``, ``val_r2``."""
    for prefix in ("train_", "val_", "test_"):
        if metric.startswith(prefix):
            return metric[len(prefix) :], prefix[:-1]
    return metric, partition
