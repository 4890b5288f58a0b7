"""The catalog: split Parquet tables of every prediction, and queries over them."""

from .predictions import CompactionReport, Predictions

__all__ = ["CompactionReport", "Predictions"]
