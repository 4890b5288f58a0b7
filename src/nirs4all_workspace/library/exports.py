"""Exports: a pipeline as a zip to send (``nirs4all export``), and the ``exports/`` folder.

``export_pipeline`` writes the same zip format as the library: ``filtered``, or
``fullrun`` with ``include_data``. ``refresh_exports`` (called by
``run_experiment`` at the end of each session) keeps, for one dataset:

- ``exports/<dataset>/``: a copy of the best pipeline's folder (``pipeline.json``,
  ``metrics.json``, ``predictions.csv``, ``outputs/``...) with its fitted
  objects in ``binaries/`` and ``export.json`` saying what it is a copy of;
- ``exports/best_predictions/<dataset>_<date>_<NNNN>_<hash>.csv``: the best
  pipeline's ``predictions.csv`` (``date``: the day it was created); the file of
  a previous best of that dataset is removed.

The folder is assembled in ``exports/_staging/`` and swapped in with two
renames under the dataset's lock: readers see the old copy or the new one,
never a half-written one (for an instant, between the renames, none).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, IntegrityError
from ..facade import Workspace
from ..workspace.artifacts import ArtifactRef
from ..workspace.atomic import PARTIAL_SUFFIX, atomic_write_json, atomic_write_text
from ..workspace.layout import parse_pipeline_folder
from ..workspace.locking import FileLock
from ..workspace.manifest import utc_now
from .packing import pack_pipelines
from .trained import write_checked

EXPORT_MARKER = "export.json"
RESERVED_DATASETS = ("best_predictions", "session_reports")  # folders of exports/ itself

if TYPE_CHECKING:
    from ..post_run import RunEnd


@dataclass
class ExportedZip:
    """A zip written by ``export_pipeline``."""

    path: Path
    kind: str
    size: int
    source: str
    notes: list[str] = field(default_factory=list)


def export_pipeline(
    ws: Workspace,
    reference: str,
    output: Path,
    *,
    include_data: bool = False,
    data: Path | None = None,
    force: bool = False,
) -> ExportedZip:
    """Write ``DATASET/PIPELINE`` to ``output`` as a ``filtered`` (or ``fullrun``) zip.

    Raises InputError if ``output`` exists (without ``force``) or is not a
    ``.zip``, and what :func:`pack_pipelines` raises.
    """
    output = Path(output).expanduser().absolute()
    if output.suffix.lower() != ".zip":
        raise InputError(f"--output {output} must end in .zip")
    if output.exists() and not force:
        raise InputError(f"{output} already exists; pass --force to replace it")
    kind = "fullrun" if include_data else "filtered"
    packed = pack_pipelines(ws, reference, kind, name=output.stem, data=data, single=True)
    write_checked(output, packed.data)
    source = packed.manifest["source"]
    return ExportedZip(
        output, kind, output.stat().st_size, f"{source['dataset']}/{source['pipeline']}", packed.notes
    )


def _best_predictions_pattern(dataset: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(dataset)}_\d{{8}}_\d{{4,}}_[0-9a-f]{{6,}}\.csv$")


def _copy_pipeline(ws: Workspace, dataset: str, folder: str, staging: Path) -> dict:
    source = ws.layout.pipeline(dataset, folder).dir
    record = ws.manifests.read_pipeline(dataset, folder)
    for root, dirs, files in os.walk(source):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(PARTIAL_SUFFIX) or name.startswith("."):
                continue
            path = Path(root) / name
            target = staging / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    for artifact in record.get("artifacts", []):
        ref = ArtifactRef.from_dict(artifact)
        target = staging / "binaries" / ref.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(ws.artifacts.read_bytes(dataset, ref))  # digest checked
    return record


def refresh_exports(ws: Workspace, dataset: str) -> Path | None:
    """Make ``exports/<dataset>/`` and its best-predictions file match the dataset's best.

    Does nothing without a best pipeline (or for a dataset named like a folder of
    ``exports/``); skips the copy when the export is already of the best. Returns
    the export folder.
    """
    if dataset in RESERVED_DATASETS:
        return None
    layout = ws.layout
    target = layout.export_dataset_dir(dataset)
    with FileLock(layout.dataset_lock(dataset)):
        # Read under the lock, and tolerate the best being archived or deleted meanwhile by
        # another process (its folder renamed away without this lock): the export is then
        # left as it was, and the next run (or the deleter's new best) refreshes it.
        best = ws.best.current(dataset)
        if best is None:
            return None
        try:
            marker = target / EXPORT_MARKER
            current = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else {}
            record = ws.manifests.read_pipeline(dataset, best.folder)
            if current.get("folder") != best.folder or current.get("score") != best.score:
                _swap_in(
                    ws,
                    dataset,
                    best.folder,
                    {
                        "dataset": dataset,
                        "folder": best.folder,
                        "number": best.number,
                        "metric": best.metric,
                        "partition": best.partition,
                        "score": best.score,
                        "source": layout.relative(layout.pipeline(dataset, best.folder).dir),
                        "exported_at": utc_now(),
                    },
                )
            _write_best_predictions(ws, dataset, best.folder, record)
        except (IntegrityError, FileNotFoundError):
            if layout.pipeline(dataset, best.folder).pipeline_json.is_file():
                raise  # the pipeline is there: a real problem
            return None
    return target


def _swap_in(ws: Workspace, dataset: str, folder: str, marker: dict) -> None:
    layout = ws.layout
    target = layout.export_dataset_dir(dataset)
    staging_root = layout.export_staging_dir(dataset, "x").parent
    for leftover in staging_root.glob(f"{dataset}.*") if staging_root.is_dir() else []:
        shutil.rmtree(leftover, ignore_errors=True)  # a crash of an earlier refresh
    token = uuid.uuid4().hex[:12]
    staging = layout.export_staging_dir(dataset, token)
    staging.mkdir(parents=True)
    try:
        _copy_pipeline(ws, dataset, folder, staging)
        atomic_write_json(staging / EXPORT_MARKER, marker)
        old = layout.export_staging_dir(dataset, f"{token}-old")
        if target.exists():
            target.rename(old)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(layout.export_staging_dir(dataset, f"{token}-old"), ignore_errors=True)
    with contextlib.suppress(OSError):
        staging_root.rmdir()  # only when no other dataset is being refreshed


def _write_best_predictions(ws: Workspace, dataset: str, folder: str, record: dict) -> Path:
    layout = ws.layout
    parsed = parse_pipeline_folder(folder)
    assert parsed is not None  # best.json names a pipeline folder
    created = str((record.get("timings") or {}).get("created_at") or utc_now())
    date = created[:10].replace("-", "")
    path = layout.export_best_predictions(dataset, date, parsed.number, parsed.short_hash)
    text = layout.pipeline(dataset, folder).predictions_csv.read_text(encoding="utf-8")
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text)
    pattern = _best_predictions_pattern(dataset)
    for other in path.parent.iterdir():
        if other != path and pattern.match(other.name):
            other.unlink(missing_ok=True)
    return path


def exports_step(end: RunEnd) -> None:
    """Post-run step: ``exports/<dataset>/`` and ``exports/best_predictions/`` follow the best."""
    refresh_exports(end.workspace, end.report.dataset)
