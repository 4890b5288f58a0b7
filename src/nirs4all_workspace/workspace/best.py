"""The one ``best_<NNNN>_<name>_<hash>.csv`` of a dataset.

``_state/best.json`` records which pipeline is best by which metric; the CSV
beside the pipeline folders is a copy of that pipeline's ``predictions.csv``,
replaced only when a strictly better score arrives. Updates happen under the
dataset's lock; the common case (a score that is not better) takes no lock.

Only pipelines of the dataset's newest data version compete (its digest, from
``_state/dataset.json``): the first pipeline of a new version replaces the best
of the older one, whatever the scores, and pipelines that recorded no digest
(written before data versions) compete only while no version is known.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError
from .atomic import atomic_write_json, atomic_write_text
from .dataset_info import current_digest
from .layout import WorkspaceLayout
from .locking import FileLock
from .manifest import ManifestManager, utc_now

if TYPE_CHECKING:
    from .saver import SavedPipeline


@dataclass(frozen=True)
class BestResult:
    """The current best pipeline of a dataset and the criterion that chose it."""

    folder: str
    number: int
    metric: str
    partition: str
    direction: str
    score: float
    updated_at: str
    data_digest: str | None = None  # the data version it was chosen among (None: before versions)

    def beaten_by(self, score: float) -> bool:
        return score < self.score if self.direction == "min" else score > self.score

    def same_criterion(self, metric: str, partition: str, direction: str) -> bool:
        return (self.metric, self.partition, self.direction) == (metric, partition, direction)


def _better(score: float, than: float | None, direction: str) -> bool:
    if than is None:
        return True
    return score < than if direction == "min" else score > than


class BestTracker:
    """Keeps exactly one best-result file per dataset."""

    def __init__(self, layout: WorkspaceLayout, manifests: ManifestManager) -> None:
        self.layout = layout
        self.manifests = manifests
        # Best score seen per criterion, valid while best.json is the file it was read from
        # (a deletion in any process rewrites or removes it, and then the cache is ignored).
        self._known: dict[tuple[str, str, str, str], tuple[float, tuple[int, int] | None]] = {}

    def _signature(self, dataset: str) -> tuple[int, int] | None:
        try:
            stat = self.layout.best_state_file(dataset).stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def current(self, dataset: str) -> BestResult | None:
        """The recorded best of ``dataset``, or None."""
        path = self.layout.best_state_file(dataset)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return BestResult(**data)
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, TypeError) as exc:
            raise IntegrityError(
                f"{path} is corrupt ({exc}); run 'nirs4all workspace verify --repair'"
            ) from None

    def offer(
        self, dataset: str, saved: SavedPipeline, metric: str, direction: str, partition: str = "val"
    ) -> bool:
        """Make ``saved`` the best if it beats the current best; True if it did."""
        score = saved.score(metric, partition) if saved.status == "completed" else None
        if score is None:
            return False
        digest = saved.record.get("data_digest")
        key = (dataset, metric, partition, direction, digest)
        known = self._known.get(key)
        fresh = known is not None and known[1] is not None and known[1] == self._signature(dataset)
        if fresh and not _better(score, known[0], direction):
            return False
        with FileLock(self.layout.dataset_lock(dataset)):
            if not saved.handle.paths.pipeline_json.is_file():
                return False  # archived or deleted by another process since it was saved
            best = self._current_for(dataset, metric, partition, direction)
            if best is not None and best.data_digest != digest:
                return False  # not of the dataset's newest data version: it cannot be its best
            if best is not None and not best.beaten_by(score):
                self._known[key] = (best.score, self._signature(dataset))
                # A recompute may just have chosen this very pipeline.
                return best.folder == saved.handle.folder
            self._write(
                dataset,
                saved.handle.folder,
                saved.handle.number,
                saved.predictions_text,
                metric,
                partition,
                direction,
                score,
                digest,
            )
            self._known[key] = (score, self._signature(dataset))
            return True

    def recompute(
        self, dataset: str, metric: str, direction: str, partition: str = "val"
    ) -> BestResult | None:
        """Choose the best among all completed pipelines again (under the lock)."""
        with FileLock(self.layout.dataset_lock(dataset)):
            return self._recompute(dataset, metric, partition, direction)

    def _current_for(self, dataset: str, metric: str, partition: str, direction: str) -> BestResult | None:
        """The current best under this criterion; recomputed if it was chosen otherwise."""
        best = self.current(dataset)
        if best is None or not best.same_criterion(metric, partition, direction):
            return self._recompute(dataset, metric, partition, direction)
        if best.data_digest != current_digest(self.layout, dataset):
            return self._recompute(dataset, metric, partition, direction)
        if not self.layout.pipeline(dataset, best.folder).dir.is_dir():
            return self._recompute(dataset, metric, partition, direction)
        return best

    def _recompute(self, dataset: str, metric: str, partition: str, direction: str) -> BestResult | None:
        # Deletions rename folders away without the dataset lock: a chosen folder may go
        # before its predictions are copied. Then choose again among what is left.
        for _attempt in range(9):
            with contextlib.suppress(FileNotFoundError):
                return self._choose(dataset, metric, partition, direction)
        return self._choose(dataset, metric, partition, direction)

    def _choose(self, dataset: str, metric: str, partition: str, direction: str) -> BestResult | None:
        chosen: tuple[float, str, int] | None = None
        digest = current_digest(self.layout, dataset)
        for entry in self.manifests.list_folders(dataset):
            score = self._score_on_disk(dataset, entry.folder, metric, partition, digest)
            if score is not None and _better(score, chosen[0] if chosen else None, direction):
                chosen = (score, entry.folder, entry.number)
        if chosen is None:
            self._remove_best_files(dataset, keep=None)
            with contextlib.suppress(FileNotFoundError):
                self.layout.best_state_file(dataset).unlink()
            return None
        score, folder, number = chosen
        text = self.layout.pipeline(dataset, folder).predictions_csv.read_text(encoding="utf-8")
        return self._write(dataset, folder, number, text, metric, partition, direction, score, digest)

    def _score_on_disk(
        self, dataset: str, folder: str, metric: str, partition: str, digest: str | None = None
    ) -> float | None:
        try:
            record = self.manifests.read_pipeline(dataset, folder)
        except IntegrityError:
            return None
        if record.get("status") != "completed" or record.get("data_digest") != digest:
            return None
        paths = self.layout.pipeline(dataset, folder)
        try:
            metrics: dict[str, Any] = json.loads(paths.metrics_json.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        value = metrics.get(partition, {}).get(metric)
        if value is None or not paths.predictions_csv.exists():
            return None
        value = float(value)
        return value if math.isfinite(value) else None

    def _write(
        self,
        dataset: str,
        folder: str,
        number: int,
        text: str,
        metric: str,
        partition: str,
        direction: str,
        score: float,
        digest: str | None = None,
    ) -> BestResult:
        target = self.layout.best_csv(dataset, folder)
        atomic_write_text(target, text)
        self._remove_best_files(dataset, keep=target.name)
        best = BestResult(folder, number, metric, partition, direction, score, utc_now(), digest)
        atomic_write_json(self.layout.best_state_file(dataset), asdict(best))
        return best

    def _remove_best_files(self, dataset: str, keep: str | None) -> None:
        for path in self.layout.best_csv_files(dataset):
            if path.name != keep:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
