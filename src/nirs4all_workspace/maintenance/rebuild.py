"""Catalog rows from the files of a pipeline; rebuilding, re-indexing and cleaning the catalog.

The run folders (and the archives) are the source of truth: ``pipeline.json``,
``metrics.json`` and ``predictions.csv`` are enough to rebuild a pipeline's rows
with the same prediction ids (:func:`rows_from_files`, which goes through the
saver's own :func:`~nirs4all_workspace.catalog.records.catalog_rows`).
``predictions.csv`` keeps the validation predictions once, by fold; the whole
out-of-fold block is rebuilt from the folds, ordered by sample id (the mean, or
the most frequent label, for a sample validated more than once).

Rewriting the two main files (rebuild, clean) goes data, meta, data: the first
data file holds the new rows *and* the old ones, so a crash at any point leaves
every visible meta row with its arrays.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..catalog.archive_registry import archived_pipeline_ids
from ..catalog.generation import (
    close_all,
    fragment_path,
    listed_fragments,
    main_path,
    open_generation,
    remove_fragments,
    replace_main,
)
from ..catalog.predictions import DATA_ROW_GROUP, DATA_SUFFIX, META_SUFFIX, Predictions
from ..catalog.records import catalog_rows
from ..catalog.schema import DATA_SCHEMA, META_SCHEMA
from ..errors import IntegrityError
from ..facade import Workspace
from ..workspace.bundles import PipelineFiles, pipelines_in_bundle
from ..workspace.layout import PipelinePaths
from ..workspace.locking import FileLock
from ..workspace.manifest import FINISHED_STATUSES, read_pipeline_json
from ..workspace.predictions_csv import parse_predictions_csv
from ..workspace.results import PredictionBlock
from ..workspace.trash import records as trash_records

Rows = list[dict[str, Any]]


# -- rows of one pipeline ---------------------------------------------------------
def _label_text(label: Any) -> str:
    return repr(float(label)) if isinstance(label, float) else str(label)


def _combine(values: list[Any], numeric: bool) -> Any:
    if numeric:
        return float(np.mean(values))
    counts = Counter(values)
    best = max(counts.values())
    return min((v for v, c in counts.items() if c == best), key=str)


def blocks_from_files(
    record: dict[str, Any], metrics: dict[str, Any], predictions_text: str
) -> list[PredictionBlock]:
    """The prediction blocks the engine returned, as far as the files keep them."""
    if record.get("status") != "completed" or not predictions_text.strip():
        return []
    classes = record.get("classes")
    numeric = classes is None
    groups = parse_predictions_csv(predictions_text, numeric=numeric)
    by_text = {_label_text(c): c for c in classes or []}
    folds = {int(f.get("fold", i)): f for i, f in enumerate(metrics.get("folds", []))}

    def values(raw: list[Any]) -> np.ndarray:
        if numeric:
            return np.asarray(raw, dtype=np.float64)
        return np.asarray([by_text.get(v, v) for v in raw], dtype=object)

    blocks = []
    for (partition, fold), group in groups.items():
        scores = metrics.get(partition, {}) if fold is None else folds.get(fold, {})
        scores = {k: v for k, v in scores.items() if k != "fold"}
        blocks.append(
            PredictionBlock(
                partition,  # type: ignore[arg-type]
                values(group["y_true"]),
                values(group["y_pred"]),
                np.asarray(group["sample_id"], dtype=np.int64),
                scores,
                fold,
            )
        )
    with_folds = {p for p, f in groups if f is not None} - {p for p, f in groups if f is None}
    for partition in sorted(with_folds):
        truth: dict[int, Any] = {}
        preds: dict[int, list[Any]] = {}
        for (p, fold), group in groups.items():
            if p != partition or fold is None:
                continue
            for t, y, i in zip(group["y_true"], group["y_pred"], group["sample_id"], strict=True):
                truth[i] = t
                preds.setdefault(i, []).append(y)
        ids = sorted(truth)
        blocks.append(
            PredictionBlock(
                partition,  # type: ignore[arg-type]
                values([truth[i] for i in ids]),
                values([_combine(preds[i], numeric) for i in ids]),
                np.asarray(ids, dtype=np.int64),
                dict(metrics.get(partition, {})),
            )
        )
    return blocks


def rows_from_files(files: PipelineFiles) -> tuple[Rows, Rows]:
    """Meta and data rows of a finished pipeline, from its files."""
    blocks = blocks_from_files(files.record, files.metrics, files.predictions_text)
    return catalog_rows(files.record, blocks, files.record.get("classes"))


def folder_files(workspace: Workspace, dataset: str, folder: str) -> PipelineFiles:
    """The files of a finished pipeline folder; IntegrityError if unfinished or unreadable."""
    return _files_at(dataset, folder, workspace.layout.pipeline(dataset, folder))


def _files_at(dataset: str, folder: str, paths: PipelinePaths) -> PipelineFiles:
    """The files of the finished pipeline ``dataset/folder`` found at ``paths`` (its run folder, or
    its folder in the trash); IntegrityError if unfinished or unreadable."""
    record = read_pipeline_json(paths.pipeline_json)
    if record.get("status") not in FINISHED_STATUSES:
        raise IntegrityError(f"pipeline {dataset}/{folder} is not finished (status {record.get('status')!r})")
    try:
        metrics = (
            json.loads(paths.metrics_json.read_text(encoding="utf-8")) if paths.metrics_json.exists() else {}
        )
        text = paths.predictions_csv.read_text(encoding="utf-8") if paths.predictions_csv.exists() else ""
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"pipeline folder {paths.dir} has an unreadable file ({exc})") from None
    return PipelineFiles(dataset, folder, record, metrics, text)


def reindex(workspace: Workspace, pipelines: Iterable[tuple[str, str]]) -> int:
    """Append the catalog rows of the given (dataset, folder) pipelines as one fragment."""
    meta: Rows = []
    data: Rows = []
    count = 0
    for dataset, folder in pipelines:
        m, d = rows_from_files(folder_files(workspace, dataset, folder))
        meta += m
        data += d
        count += 1
    workspace.predictions.append_new(meta, data)  # a run may have appended some meanwhile
    return count


# -- writing both main files ----------------------------------------------------
def _meta_frame(rows: Rows) -> pl.DataFrame:
    metrics = sorted({k for row in rows for k in row if k not in META_SCHEMA})
    return pl.DataFrame(rows, schema=dict(META_SCHEMA) | {m: pl.Float64() for m in metrics})


def _all_fragment_ids(predictions: Predictions) -> set[str]:
    return set(predictions.fragment_ids("meta", include_compacted=True)) | set(
        predictions.fragment_ids("data", include_compacted=True)
    )


def _write_main_files(
    predictions: Predictions,
    meta: pl.DataFrame,
    data: pl.DataFrame,
    covered: set[str],
    previous_data: pl.DataFrame | None,
) -> None:
    """Replace both main files (call under the catalog lock); ``covered`` fragments become invisible."""
    layout = predictions.layout

    def write(kind: str, frame: pl.DataFrame, row_group: int | None) -> None:
        replace_main(
            layout,
            kind,
            lambda p, metadata: frame.write_parquet(p, row_group_size=row_group, metadata=metadata),
            covered,
        )

    union = data
    if previous_data is not None and previous_data.height:
        new_ids = data["prediction_id"].to_list()
        extra = previous_data.filter(~pl.col("prediction_id").is_in(new_ids))
        if extra.height:
            union = pl.concat([data, extra.select(data.columns)], how="vertical_relaxed")
    write("data", union, DATA_ROW_GROUP)  # first: old and new meta rows have their arrays
    write("meta", meta, None)
    if union.height != data.height:
        write("data", data, DATA_ROW_GROUP)
    remove_fragments(layout, covered)


def _readable_files(predictions: Predictions, kind: str) -> tuple[pl.DataFrame | None, list[Path]]:
    """Every row of the ``kind`` files that can still be read (each id once), and the files that cannot."""
    layout = predictions.layout
    unreadable: list[Path] = []
    try:
        opened = open_generation(layout, kind)
    except IntegrityError:  # the main file is unreadable: its rows are unknown; take every fragment
        unreadable.append(main_path(layout, kind))
        opened = []
        for fragment in listed_fragments(layout, kind):
            path = fragment_path(layout, fragment, kind)
            with contextlib.suppress(FileNotFoundError):
                opened.append((path, path.open("rb")))
    frames = []
    try:
        for path, handle in opened:
            try:
                frames.append(pl.read_parquet(handle))
            except Exception:
                unreadable.append(path)
    finally:
        close_all(opened)
    if not frames:
        return None, unreadable
    frame = pl.concat(frames, how="diagonal_relaxed" if kind == "meta" else "vertical_relaxed")
    return frame.unique("prediction_id", keep="first", maintain_order=True), unreadable


# -- rebuild --------------------------------------------------------------------
@dataclass
class RebuildReport:
    """What ``catalog rebuild`` read and wrote."""

    from_folders: int = 0
    from_archives: int = 0
    from_trash: int = 0  # pipelines deleted by `runs delete`, read from their folders in the trash
    rows: int = 0
    rows_before: int | None = None
    dropped: int | None = None  # rows of pipelines no longer on disk whose arrays could not be read
    kept: int = 0  # rows of pipelines no longer on disk (deleted, unarchived), kept from the old catalog
    skipped: list[str] = field(default_factory=list)
    unrecovered: list[str] = field(default_factory=list)  # what the old catalog could not give back
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _sources(workspace: Workspace, report: RebuildReport) -> list[PipelineFiles]:
    found: dict[str, PipelineFiles] = {}
    for dataset in workspace.datasets():
        for entry in workspace.manifests.list_folders(dataset):
            try:
                files = folder_files(workspace, dataset, entry.folder)
            except (IntegrityError, OSError) as exc:
                report.skipped.append(f"{dataset}/{entry.folder}: {exc}")
                continue
            found.setdefault(files.record["id"], files)
    report.from_folders = len(found)
    layout = workspace.layout
    for dataset in workspace.datasets():  # deleted, restorable: their rows stay (flagged trashed)
        for record in trash_records(layout, dataset):
            for pipeline in record.in_trash():
                paths = layout.trashed_pipeline(dataset, record.entry, pipeline.folder)
                try:
                    files = _files_at(dataset, pipeline.folder, paths)
                except (IntegrityError, OSError) as exc:
                    report.skipped.append(f"{dataset}/_trash/{record.entry}/{pipeline.folder}: {exc}")
                    continue
                if files.record.get("id") and files.record["id"] not in found:
                    found[files.record["id"]] = files
                    report.from_trash += 1
    archives = sorted(layout.catalog_archive_dir("pipeline").glob("*.zip"))
    archives += sorted(layout.catalog_archive_dir("runs").glob("*.tar.gz"))
    for archive in archives:
        try:
            held = pipelines_in_bundle(archive)
        except IntegrityError as exc:
            report.skipped.append(str(exc))
            continue
        for files in held:
            if files.record.get("id") and files.record["id"] not in found:
                found[files.record["id"]] = files
                report.from_archives += 1
    return list(found.values())


def rebuild_catalog(workspace: Workspace, dry_run: bool = False) -> RebuildReport:
    """Rebuild both Parquet files from the run folders and the archives alone.

    Run folders come first, then the folders in the trash (deleted, not purged:
    their rows are flagged ``trashed`` when read), then pipeline zips, then runs
    tars (by pipeline id).
    Rows of pipelines no longer on disk (deleted without an archive) are kept
    from whatever catalog files can still be read; ``unrecovered`` says what
    could not be (unreadable files, rows without arrays), already in the dry
    run. Held under the catalog lock; new files are written to temporaries and
    renamed.
    """
    report = RebuildReport(dry_run=dry_run)
    predictions = workspace.predictions
    lock = contextlib.nullcontext() if dry_run else FileLock(workspace.layout.catalog_lock)
    with lock:
        before = _all_fragment_ids(predictions)
        old_meta, bad_meta = _readable_files(predictions, "meta")
        old_data, bad_data = _readable_files(predictions, "data")
        for path in bad_meta + bad_data:
            report.unrecovered.append(
                f"{workspace.layout.relative(path)} is unreadable: its rows are lost unless their "
                "pipelines are on disk or archived"
            )
        meta: Rows = []
        data: Rows = []
        for files in _sources(workspace, report):
            m, d = rows_from_files(files)
            meta += m
            data += d
        archived = archived_pipeline_ids(workspace.layout)
        for row in meta:
            row["archived"] = row["pipeline_id"] in archived
        # Fragments appended meanwhile stay visible: leave their rows to them.
        late = _late_prediction_ids(predictions, _all_fragment_ids(predictions) - before)
        meta = [r for r in meta if r["prediction_id"] not in late]
        data = [r for r in data if r["prediction_id"] not in late]
        kept_meta, kept_data = _kept_rows(report, old_meta, old_data, meta, late)
        report.rows = len(meta) + kept_meta.height
        if old_meta is not None:
            report.rows_before = old_meta.height
        if dry_run:
            return report
        new_meta = (
            pl.concat([_meta_frame(meta), kept_meta], how="diagonal_relaxed")
            if kept_meta.height
            else (_meta_frame(meta))
        )
        new_data = pl.DataFrame(data, schema=DATA_SCHEMA)
        if kept_data.height:
            new_data = pl.concat([new_data, kept_data.select(list(DATA_SCHEMA))], how="vertical_relaxed")
        _write_main_files(
            predictions,
            new_meta.sort(["dataset", "prediction_id"]),  # how compaction keeps it
            new_data,
            before,
            old_data,
        )
    return report


def _kept_rows(
    report: RebuildReport,
    old_meta: pl.DataFrame | None,
    old_data: pl.DataFrame | None,
    meta: Rows,
    late: set[str],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Old rows of pipelines the folders and archives no longer hold, with their arrays."""
    if old_meta is None:
        return pl.DataFrame(), pl.DataFrame()
    on_disk = {r["pipeline_id"] for r in meta}
    gone = old_meta.filter(
        ~pl.col("pipeline_id").is_in(list(on_disk)) & ~pl.col("prediction_id").is_in(list(late))
    )
    with_arrays = set(old_data["prediction_id"].to_list()) if old_data is not None else set()
    kept = gone.filter(pl.col("prediction_id").is_in(list(with_arrays)))
    report.kept = kept.height
    report.dropped = gone.height - kept.height
    if report.dropped:
        pipelines = gone.filter(~pl.col("prediction_id").is_in(list(with_arrays)))["pipeline_id"].n_unique()
        report.unrecovered.append(
            f"{report.dropped} rows of {pipelines} pipelines no longer on disk have no readable arrays "
            "(dropped)"
        )
    ids = kept["prediction_id"].to_list()
    data = old_data.filter(pl.col("prediction_id").is_in(ids)) if old_data is not None else pl.DataFrame()
    return kept.with_columns(pl.lit(False).alias("archived")), data


def _late_prediction_ids(predictions: Predictions, fragments: set[str]) -> set[str]:
    ids: set[str] = set()
    for fragment in fragments:
        path = predictions.layout.catalog_fragments_dir / f"{fragment}{META_SUFFIX}"
        with contextlib.suppress(pl.exceptions.PolarsError, OSError):
            ids |= set(
                pl.read_parquet(path, columns=["prediction_id"], glob=False)["prediction_id"].to_list()
            )
    return ids


# -- clean ------------------------------------------------------------------------
@dataclass
class CleanReport:
    """Rows dropped by :func:`clean_catalog`."""

    dangling: int = 0  # meta rows whose arrays are missing
    duplicates: int = 0  # meta rows repeating a prediction id


def _read_visible(predictions: Predictions, kind: str) -> tuple[pl.DataFrame, set[str]]:
    """Every visible ``kind`` row and the fragments read (call under the catalog lock)."""
    ids = predictions.fragment_ids(kind)
    layout = predictions.layout
    main, suffix, schema = (
        (layout.catalog_meta, META_SUFFIX, META_SCHEMA)
        if kind == "meta"
        else (layout.catalog_data, DATA_SUFFIX, DATA_SCHEMA)
    )
    paths = ([main] if main.exists() else []) + [layout.catalog_fragments_dir / f"{i}{suffix}" for i in ids]
    try:
        frames = [pl.read_parquet(p, glob=False) for p in paths]
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise IntegrityError(
            f"the catalog could not be read ({exc}); run 'nirs4all catalog rebuild'"
        ) from None
    if not frames:
        return pl.DataFrame(schema=schema), set(ids)
    how = "diagonal_relaxed" if kind == "meta" else "vertical_relaxed"
    return pl.concat(frames, how=how), set(ids)


def clean_catalog(workspace: Workspace) -> CleanReport:
    """Rewrite the catalog without meta rows that lack arrays, and each prediction id once.

    Used by ``workspace verify --repair``; IntegrityError if a visible file is unreadable.
    """
    predictions = workspace.predictions
    with FileLock(workspace.layout.catalog_lock):
        before = _all_fragment_ids(predictions)
        meta, meta_read = _read_visible(predictions, "meta")  # meta first: its data is already there
        data, data_read = _read_visible(predictions, "data")
        unique_meta = meta.unique("prediction_id", keep="first", maintain_order=True)
        unique_data = data.unique("prediction_id", keep="first", maintain_order=True)
        kept = unique_meta.filter(pl.col("prediction_id").is_in(unique_data["prediction_id"].to_list()))
        report = CleanReport(
            dangling=unique_meta.height - kept.height, duplicates=meta.height - unique_meta.height
        )
        # A fragment appended during the reads stays visible (it is not covered).
        _write_main_files(predictions, kept, unique_data, before | (meta_read & data_read), None)
    return report
