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

from ..engines.base import PredictionBlock
from ..errors import IntegrityError
from ..workspace.atomic import atomic_write_with
from ..workspace.bundles import PipelineFiles, pipelines_in_bundle
from ..workspace.locking import FileLock
from ..workspace.manifest import FINISHED_STATUSES
from ..workspace.predictions_csv import parse_predictions_csv
from ..workspace.workspace import Workspace
from .archived import archived_pipeline_ids
from .predictions import COMPACTED_KEY, DATA_ROW_GROUP, DATA_SUFFIX, META_SUFFIX, Predictions
from .records import catalog_rows
from .schema import DATA_SCHEMA, META_SCHEMA

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
    record = workspace.manifests.read_pipeline(dataset, folder)
    if record.get("status") not in FINISHED_STATUSES:
        raise IntegrityError(f"pipeline {dataset}/{folder} is not finished (status {record.get('status')!r})")
    paths = workspace.layout.pipeline(dataset, folder)
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
    marker = {COMPACTED_KEY: json.dumps(sorted(covered))}

    def write(path: Path, frame: pl.DataFrame, row_group: int | None) -> None:
        atomic_write_with(path, lambda p: frame.write_parquet(p, row_group_size=row_group, metadata=marker))

    if previous_data is not None and previous_data.height:
        new_ids = data["prediction_id"].to_list()
        extra = previous_data.filter(~pl.col("prediction_id").is_in(new_ids))
        if extra.height:
            write(layout.catalog_data, pl.concat([data, extra], how="vertical_relaxed"), DATA_ROW_GROUP)
    write(layout.catalog_meta, meta, None)
    write(layout.catalog_data, data, DATA_ROW_GROUP)
    for fragment in sorted(covered):
        for suffix in (META_SUFFIX, DATA_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                (layout.catalog_fragments_dir / f"{fragment}{suffix}").unlink()


def _readable_data(predictions: Predictions) -> pl.DataFrame | None:
    try:
        return predictions.collect(predictions.scan_data()).unique("prediction_id", keep="first")
    except (IntegrityError, pl.exceptions.PolarsError, OSError):
        return None


# -- rebuild --------------------------------------------------------------------
@dataclass
class RebuildReport:
    """What ``catalog rebuild`` read and wrote."""

    from_folders: int = 0
    from_archives: int = 0
    rows: int = 0
    rows_before: int | None = None
    dropped: int | None = None  # rows of pipelines neither on disk nor archived
    skipped: list[str] = field(default_factory=list)
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

    Run folders come first, then pipeline zips, then runs tars (by pipeline id).
    Rows of pipelines deleted without an archive are dropped. Held under the
    catalog lock; new files are written to temporaries and renamed.
    """
    report = RebuildReport(dry_run=dry_run)
    predictions = workspace.predictions
    lock = contextlib.nullcontext() if dry_run else FileLock(workspace.layout.catalog_lock)
    with lock:
        before = _all_fragment_ids(predictions)
        try:
            old_ids = set(predictions.collect(predictions.scan().select("prediction_id"))["prediction_id"])
        except (IntegrityError, pl.exceptions.PolarsError, OSError):
            old_ids = None
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
        report.rows = len(meta)
        if old_ids is not None:
            report.rows_before = len(old_ids)
            report.dropped = len(old_ids - {r["prediction_id"] for r in meta} - late)
        if dry_run:
            return report
        _write_main_files(
            predictions,
            _meta_frame(meta).sort(["dataset", "prediction_id"]),  # how compaction keeps it
            pl.DataFrame(data, schema=DATA_SCHEMA),
            before,
            _readable_data(predictions),
        )
    return report


def _late_prediction_ids(predictions: Predictions, fragments: set[str]) -> set[str]:
    ids: set[str] = set()
    for fragment in fragments:
        path = predictions.layout.catalog_fragments_dir / f"{fragment}{META_SUFFIX}"
        with contextlib.suppress(pl.exceptions.PolarsError, OSError):
            ids |= set(pl.read_parquet(path, columns=["prediction_id"])["prediction_id"].to_list())
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
        frames = [pl.read_parquet(p) for p in paths]
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
