"""Predictions: the split Parquet catalog of every prediction in a workspace.

``catalog/predictions_meta.parquet`` holds ids, identity and scores (small,
filtered and sorted in milliseconds); ``catalog/predictions_data.parquet``
holds the arrays, read only for the ids asked for. Appends never rewrite
either file: each append writes one fragment pair under ``catalog/_fragments/``
(data first, then meta, each atomically), which every reader includes.
:meth:`Predictions.compact` folds the fragments into the two files.

A crash during compaction cannot duplicate rows: the new meta file records the
fragments it folded in (Parquet key-value metadata ``nirs4all.compacted``),
and readers skip those until they are deleted. Each query reads one generation
of the files through open handles (:mod:`.generation`), so compaction, rebuild
and repair never show a reader a row twice or a half-replaced file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import InputError, IntegrityError
from ..workspace.atomic import atomic_write_with
from ..workspace.identity import new_id
from ..workspace.layout import WorkspaceLayout
from ..workspace.locking import FileLock
from ..workspace.schema import parquet_metadata
from .archive_registry import with_archive_flags
from .engine_metrics import default_metric_of, direction_of
from .generation import (
    COMPACTED_KEY,
    DATA_SUFFIX,
    META_SUFFIX,
    close_all,
    compacted_in,
    listed_fragments,
    open_generation,
    os_errors,
    remove_fragments,
    replace_main,
)
from .schema import DATA_SCHEMA, META_SCHEMA, metric_columns

__all__ = ["COMPACTED_KEY", "DATA_SUFFIX", "META_SUFFIX", "CompactionReport", "Predictions"]

SORTED_KEY = "nirs4all.sorted_by"
DATA_ROW_GROUP = 512
META_ROW_GROUP = 32_768
DATA_FOLD_FRACTION = 0.1  # fold the arrays when their fragments reach 10% of the main file...
DATA_FOLD_MAX_FRAGMENTS = 256  # ...or when this many fragments would slow every reader
_SUFFIX = {"meta": META_SUFFIX, "data": DATA_SUFFIX}


@dataclass(frozen=True)
class CompactionReport:
    fragments: int
    rows: int
    meta_rows_total: int
    data_folded: int = 0


def _meta_frame(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    metric_names = sorted({k for row in rows for k in row if k not in META_SCHEMA})
    schema = dict(META_SCHEMA) | {m: pl.Float64() for m in metric_names}
    return pl.DataFrame(list(rows), schema=schema)


def _data_frame(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """Column by column: a list column built from numpy arrays is ~15x faster than from dicts."""
    import numpy as np  # the write path only: readers never need numpy

    columns = []
    for name, dtype in DATA_SCHEMA.items():
        values = [row[name] for row in rows]
        if isinstance(dtype, pl.List):
            kind = np.int64 if dtype.inner == pl.Int64 else np.float64
            arrays = [np.asarray(v, dtype=kind) for v in values]
            columns.append(_list_column(name, arrays, dtype))
        else:
            columns.append(pl.Series(name, values, dtype=dtype))
    return pl.DataFrame(columns)


def _list_column(name: str, arrays: list[Any], dtype: pl.List) -> pl.Series:
    """A list column from one flat array and the rows' offsets (three polars calls, not one
    conversion per row: ~3x faster for a batch of a run)."""
    import numpy as np

    if not arrays or any(a.ndim != 1 for a in arrays):
        return pl.Series(name, arrays, dtype=dtype)
    lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    starts = np.zeros(len(arrays), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    flat = pl.Series(name, np.concatenate(arrays), dtype=dtype.inner)
    column = pl.DataFrame({"start": starts, "length": lengths}).select(
        pl.lit(flat).implode().list.slice(pl.col("start"), pl.col("length")).alias(name)
    )
    return column.to_series().cast(dtype)


OWN_PIPELINES_KEPT = 200_000  # pipelines remembered per writer (~20 MB at most)


class Predictions:
    """Reads and appends the catalog of one workspace."""

    def __init__(self, layout: WorkspaceLayout) -> None:
        self.layout = layout
        # The fragments this object appended, and the pipelines their rows belong to: the
        # duplicate check of append_new need not read them for other pipelines (see there).
        self._own_fragments: set[str] = set()
        self._own_pipelines: set[str] = set()

    # -- writing -----------------------------------------------------------
    def append(self, meta_rows: Sequence[dict[str, Any]], data_rows: Sequence[dict[str, Any]]) -> str:
        """Append rows as one new fragment pair; returns the fragment id.

        Cost does not depend on the catalog's size. Data lands before meta, so a
        meta row never points at arrays that are not there.
        """
        if not meta_rows:
            return ""
        fragments = self.layout.catalog_fragments_dir
        fragments.mkdir(parents=True, exist_ok=True)
        fragment_id = new_id()
        data = _data_frame(data_rows)
        meta = _meta_frame(meta_rows)
        with os_errors(fragments):
            atomic_write_with(
                fragments / f"{fragment_id}{DATA_SUFFIX}",
                lambda p: data.write_parquet(p, statistics=False, metadata=parquet_metadata()),
            )
            atomic_write_with(
                fragments / f"{fragment_id}{META_SUFFIX}",
                lambda p: meta.write_parquet(p, statistics=False, metadata=parquet_metadata()),
            )
        if len(self._own_pipelines) > OWN_PIPELINES_KEPT:  # bounded memory: check everything again
            self._own_fragments.clear()
            self._own_pipelines.clear()
        self._own_fragments.add(fragment_id)
        self._own_pipelines.update(row["pipeline_id"] for row in meta_rows)
        return fragment_id

    def append_new(self, meta_rows: Sequence[dict[str, Any]], data_rows: Sequence[dict[str, Any]]) -> str:
        """Append only the rows whose prediction id the catalog does not hold yet.

        Under the catalog lock, so that a rebuild, a repair or another process
        restoring the same pipelines never leaves a prediction id twice. Waits
        for a long compaction or rebuild rather than failing a run at its end.

        The fragments this object appended are not read when none of ``meta_rows``'
        pipelines is in them (a run's next batch): their rows are other pipelines'.
        So the check reads what other writers wrote, not every batch of a long run again.
        """
        if not meta_rows:
            return ""
        ids = [row["prediction_id"] for row in meta_rows]
        datasets = sorted({row["dataset"] for row in meta_rows})
        ours = {row["pipeline_id"] for row in meta_rows}
        skip = set() if ours & self._own_pipelines else set(self._own_fragments)
        with FileLock(self.layout.catalog_lock, timeout=3600.0):
            present = self._held_ids(datasets, ids, skip)
            if present:
                meta_rows = [r for r in meta_rows if r["prediction_id"] not in present]
                data_rows = [r for r in data_rows if r["prediction_id"] not in present]
            return self.append(meta_rows, data_rows)

    def _held_ids(self, datasets: list[str], ids: list[str], skip: set[str]) -> set[str]:
        """Which of ``ids`` (of ``datasets``) the catalog holds, without reading the fragments ``skip``."""
        frames = [
            frame.select("dataset", "prediction_id") for frame in self._scans("meta", skip)
        ]
        if not frames:
            return set()
        held = pl.concat(frames, how="vertical_relaxed").filter(
            pl.col("dataset").is_in(datasets) & pl.col("prediction_id").is_in(ids)
        )
        return set(self.collect(held.select("prediction_id"))["prediction_id"].to_list())

    # -- fragments ---------------------------------------------------------
    def _main(self, kind: str) -> Path:
        return self.layout.catalog_meta if kind == "meta" else self.layout.catalog_data

    def _compacted_ids(self, kind: str) -> set[str]:
        """Fragments already folded into the main ``kind`` file (its Parquet metadata)."""
        path = self._main(kind)
        try:
            with path.open("rb") as handle:
                return compacted_in(handle)
        except FileNotFoundError:
            return set()

    def fragment_ids(self, kind: str = "meta", include_compacted: bool = False) -> list[str]:
        """Ids of the ``kind`` fragments that readers include (time-ordered)."""
        ids = listed_fragments(self.layout, kind)
        if include_compacted:
            return ids
        done = self._compacted_ids(kind)
        return [i for i in ids if i not in done]

    def _scans(self, kind: str, skip: set[str] | None = None) -> list[pl.LazyFrame]:
        """One generation of ``kind`` (see :mod:`.generation`), as lazy frames over open files
        (without the fragments ``skip``)."""
        opened = open_generation(self.layout, kind, skip or ())
        frames = []
        try:
            for path, handle in opened:
                try:
                    frames.append(pl.scan_parquet(handle))  # polars keeps its own handle
                except Exception as exc:  # polars raises several types for a bad footer
                    raise IntegrityError(
                        f"catalog file {path} is corrupt ({type(exc).__name__}); "
                        "run 'nirs4all workspace verify --repair'"
                    ) from None
        finally:
            close_all(opened)
        return frames

    # -- reading -----------------------------------------------------------
    def scan(self) -> pl.LazyFrame:
        """Lazy view of every meta row of one generation (main file + live fragments)."""
        frames = self._scans("meta")
        if not frames:
            return with_archive_flags(pl.LazyFrame(schema=META_SCHEMA), self.layout)
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
        return with_archive_flags(frame, self.layout)  # archiving never rewrites the catalog

    def scan_data(self) -> pl.LazyFrame:
        """Lazy view of every data row of one generation (main file + live fragments)."""
        frames = self._scans("data")
        if not frames:
            return pl.LazyFrame(schema=DATA_SCHEMA)
        return pl.concat(frames, how="vertical_relaxed")

    def collect(self, frame: pl.LazyFrame) -> pl.DataFrame:
        """Collect a query, turning a corrupt file into a clear IntegrityError."""
        try:
            return frame.collect()
        except (pl.exceptions.ComputeError, OSError) as exc:
            raise IntegrityError(
                f"the catalog in {self.layout.catalog_dir} could not be read ({exc}); "
                "run 'nirs4all workspace verify --repair'"
            ) from None

    def count(self) -> int:
        return int(self.collect(self.scan().select(pl.len())).item())

    def frame(
        self,
        dataset: str | None = None,
        partition: str | None = None,
        status: str | None = None,
        fold: bool | None = False,
    ) -> pl.DataFrame:
        """Meta rows, filtered; by default only whole-partition rows (no per-fold rows)."""
        return self.collect(self._filtered(dataset, partition, status, fold))

    def _filtered(
        self, dataset: str | None, partition: str | None, status: str | None, fold: bool | None
    ) -> pl.LazyFrame:
        frame = self.scan()
        if dataset is not None:
            frame = frame.filter(pl.col("dataset") == dataset)
        if partition is not None:
            frame = frame.filter(pl.col("partition") == partition)
        if status is not None:
            frame = frame.filter(pl.col("status") == status)
        if fold is False:
            frame = frame.filter(pl.col("fold").is_null())
        elif fold is True:
            frame = frame.filter(pl.col("fold").is_not_null())
        return frame

    def engines(self, dataset: str | None = None) -> set[str]:
        """The engines recorded on the rows (of one dataset)."""
        frame = self.scan()
        if dataset is not None:
            frame = frame.filter(pl.col("dataset") == dataset)
        return set(self.collect(frame.select(pl.col("engine").drop_nulls().unique()))["engine"].to_list())

    def default_metric(self, dataset: str | None = None) -> str:
        """The metric that ranks a dataset's rows by default: what the engine recorded on
        them declares for their task (the default engine's on an empty catalog).
        InputError when that engine is not installed."""
        frame = self.scan()
        if dataset is not None:
            frame = frame.filter(pl.col("dataset") == dataset)
        pairs = self.collect(frame.select("engine", "task").unique())
        engines = set(pairs["engine"].drop_nulls().to_list())
        if not engines:
            from ..engines.registry import default_engine_name

            engines = {default_engine_name()}
        where = f"dataset {dataset!r}" if dataset is not None else "the catalog"
        return default_metric_of(engines, pairs["task"].drop_nulls().to_list(), where)

    def top(
        self,
        n: int = 10,
        metric: str | None = None,
        partition: str = "val",
        dataset: str | None = None,
        where: pl.Expr | None = None,
        descending: bool | None = None,
    ) -> pl.DataFrame:
        """The ``n`` best completed predictions by ``metric`` on ``partition`` (of pipelines not
        deleted: rows flagged ``trashed`` are left out)."""
        metric = metric or self.default_metric(dataset)
        if descending is None:
            descending = direction_of(metric, self.engines(dataset) or None) == "max"
        frame = self._filtered(dataset, partition, "completed", fold=False)
        frame = frame.filter(~pl.col("trashed"))  # deleted pipelines are not ranked
        if where is not None:
            frame = frame.filter(where)
        schema = frame.collect_schema().names()
        if metric not in schema:
            if self.count() == 0:
                return self.collect(frame.head(0))
            known = ", ".join(metric_columns(schema)) or "none yet"
            raise InputError(f"no metric {metric!r} in the catalog; metrics are: {known}")
        frame = frame.filter(pl.col(metric).is_not_null() & pl.col(metric).is_not_nan())
        # Two passes: rank on the few columns the filter and the metric need (no wide
        # string ids), then read whole rows of the winners' datasets only, whose row
        # groups the sorted main file lets the reader pick out (see compaction).
        winners = self.collect(frame.select("dataset", metric).sort(metric, descending=descending).head(n))
        if winners.height == 0:
            return self.collect(frame.head(0))
        rows = frame.filter(
            pl.col("dataset").is_in(winners["dataset"].unique().to_list())
            & pl.col(metric).is_in(winners[metric].unique().to_list())
        )
        return self.collect(rows.sort([metric, "prediction_id"], descending=[descending, False]).head(n))

    def best(self, dataset: str, metric: str | None = None, partition: str = "val") -> dict[str, Any] | None:
        """The best completed prediction row of ``dataset`` (None if it has none)."""
        rows = self.top(1, metric=metric, partition=partition, dataset=dataset)
        return rows.row(0, named=True) if rows.height else None

    def best_per_dataset(self, metric: str | None = None, partition: str = "val") -> pl.DataFrame:
        """One row per dataset: its best completed prediction."""
        frames = []
        datasets = self.collect(self.scan().select(pl.col("dataset").unique().sort()))["dataset"]
        for dataset in datasets.to_list():
            best = self.top(1, metric=metric, partition=partition, dataset=dataset)
            if best.height:
                frames.append(best)
        return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame(schema=META_SCHEMA)

    def arrays(self, prediction_ids: Iterable[str]) -> pl.DataFrame:
        """The arrays of the given predictions only (other row groups are skipped)."""
        ids = list(prediction_ids)
        if not ids:
            return pl.DataFrame(schema=DATA_SCHEMA)
        query = self.scan_data().filter(pl.col("prediction_id").is_in(ids))
        return self.collect(query).unique("prediction_id", keep="first", maintain_order=True)

    def query(self, sql: str) -> pl.DataFrame:
        """Run polars SQL over one generation of the catalog: tables ``predictions`` (one
        row per pipeline and partition) and ``folds`` (one row per fold); see :mod:`.query`.

        Table functions (``read_csv(...)``), URLs and any error of polars while parsing
        or running the query are the query's fault: InputError with its first line.
        """
        from .query import run_query

        meta = self.scan()
        try:
            return run_query(meta, sql)
        except (pl.exceptions.PolarsError, ValueError, TypeError) as exc:
            if isinstance(exc, pl.exceptions.ComputeError) and "parquet" in str(exc).lower():
                raise IntegrityError(
                    f"the catalog in {self.layout.catalog_dir} could not be read ({exc}); "
                    "run 'nirs4all workspace verify --repair'"
                ) from None
            raise InputError(f"bad SQL query: {str(exc).splitlines()[0]}") from None

    # -- compaction --------------------------------------------------------
    def compact(self, full: bool = False) -> CompactionReport:
        """Fold fragments into the main files (under the catalog lock).

        Meta fragments are always folded. The arrays, the bulk of the catalog, are
        folded only once their fragments hold ``DATA_FOLD_FRACTION`` of the main
        file's rows (or with ``full``): until then they stay live fragments that
        every reader includes, so a compaction never rewrites hundreds of MB to add
        a few rows. Each main file records the fragments it holds, so a crash at
        any point leaves readers with each row exactly once.
        """
        with FileLock(self.layout.catalog_lock):
            folded_data = self._fold("data") if full or self._data_fold_due() else []
            meta_folded, meta_total = self._fold_meta()
            self.remove_compacted_fragments()
        return CompactionReport(
            fragments=meta_folded[0], rows=meta_folded[1], meta_rows_total=meta_total,
            data_folded=len(folded_data),
        )

    def _data_fold_due(self) -> bool:
        pending = [self.layout.catalog_fragments_dir / f"{i}{DATA_SUFFIX}" for i in self.fragment_ids("data")]
        if len(pending) > DATA_FOLD_MAX_FRAGMENTS:
            return True
        rows = sum(int(pl.scan_parquet(p, glob=False).select(pl.len()).collect().item()) for p in pending)
        return rows > 0 and rows >= DATA_FOLD_FRACTION * self._main_rows("data")

    def _fold(self, kind: str) -> list[str]:
        done = self._compacted_ids(kind)
        ids = [i for i in self.fragment_ids(kind, include_compacted=True) if i not in done]
        if not ids:
            return []
        folder = self.layout.catalog_fragments_dir
        main = self._main(kind)
        parts = ([main] if main.exists() else []) + [folder / f"{i}{_SUFFIX[kind]}" for i in ids]
        still_there = {i for i in done if (folder / f"{i}{_SUFFIX[kind]}").exists()}
        covered = still_there | set(ids)
        if kind == "data":
            # Arrays: streamed (never all in memory), lz4 (floats hardly compress; lz4 is
            # cheap to write), small row groups so that loading one prediction reads little.
            data = pl.concat([pl.scan_parquet(p, glob=False) for p in parts], how="vertical_relaxed")
            replace_main(
                self.layout,
                kind,
                lambda p, metadata: data.sink_parquet(
                    p, compression="lz4", row_group_size=DATA_ROW_GROUP, metadata=metadata
                ),
                covered,
            )
        else:
            meta = self._sorted_meta(main, [folder / f"{i}{META_SUFFIX}" for i in ids])
            replace_main(
                self.layout,
                kind,
                lambda p, metadata: meta.sink_parquet(
                    p,
                    compression="lz4",
                    row_group_size=META_ROW_GROUP,
                    metadata={**metadata, SORTED_KEY: "dataset"},
                ),
                covered,
            )
        return ids

    def _sorted_meta(self, main: Path, fragments: list[Path]) -> pl.LazyFrame:
        """Main meta rows and fragment rows, sorted by dataset (so a query on one dataset
        reads its row groups only). A main file already sorted is merged, not re-sorted."""
        new = pl.concat([pl.scan_parquet(p, glob=False) for p in fragments], how="diagonal_relaxed")
        if not main.exists():
            return new.sort(["dataset", "prediction_id"])
        old = pl.scan_parquet(main, glob=False)
        with main.open("rb") as handle:
            sorted_by = pl.read_parquet_metadata(handle).get(SORTED_KEY)
        if sorted_by != "dataset":
            return pl.concat([old, new], how="diagonal_relaxed").sort(["dataset", "prediction_id"])
        old_schema, new_schema = old.collect_schema(), new.collect_schema()
        types = {**dict(new_schema), **dict(old_schema)}
        columns = list(old_schema) + [c for c in new_schema if c not in old_schema]

        def aligned(frame: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
            return frame.select(
                pl.col(c).cast(types[c]) if c in schema else pl.lit(None, dtype=types[c]).alias(c)
                for c in columns
            )

        return aligned(old, old_schema).merge_sorted(
            aligned(new, new_schema).sort(["dataset", "prediction_id"]), key="dataset"
        )

    def _fold_meta(self) -> tuple[tuple[int, int], int]:
        """((fragments, rows) folded, rows in the catalog)."""
        before = self._main_rows("meta")
        folded = self._fold("meta")
        if not folded:
            return (0, 0), self.count()
        after = self._main_rows("meta")
        return (len(folded), after - before), after

    def _main_rows(self, kind: str) -> int:
        main = self._main(kind)
        if not main.exists():
            return 0
        return int(pl.scan_parquet(main, glob=False).select(pl.len()).collect().item())

    def compacted_fragment_ids(self) -> list[str]:
        """Fragments folded into both main files: invisible to readers, safe to delete."""
        return sorted(self._compacted_ids("meta") & self._compacted_ids("data"))

    def remove_compacted_fragments(self) -> int:
        """Delete fragment pairs folded into both main files; returns how many."""
        return remove_fragments(self.layout, self._compacted_ids("meta") & self._compacted_ids("data"))
