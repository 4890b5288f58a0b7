"""Disk usage of a workspace (``nirs4all workspace du``): per dataset and per kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..facade import Workspace
from .inventory import folder_size

KINDS = ("binaries", "runs", "trash", "catalog", "archives", "library", "exports")


@dataclass(frozen=True)
class DatasetUsage:
    """Bytes of one dataset folder: binaries, pipeline folders, the trash (deleted pipelines,
    until purged), the rest (session files, state, best)."""

    dataset: str
    binaries: int
    pipelines: int
    other: int
    trash: int = 0

    @property
    def total(self) -> int:
        return self.binaries + self.pipelines + self.trash + self.other

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "total": self.total}


@dataclass
class UsageReport:
    """Bytes per dataset and per kind; ``kinds`` adds up to ``total``."""

    datasets: list[DatasetUsage] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "kinds": self.kinds, "datasets": [d.to_dict() for d in self.datasets]}


def dataset_usage(workspace: Workspace, dataset: str) -> DatasetUsage:
    layout = workspace.layout
    binaries = folder_size(layout.binaries_dir(dataset))
    pipelines = sum(
        folder_size(layout.pipeline(dataset, f.folder).dir) for f in workspace.manifests.list_folders(dataset)
    )
    trash = folder_size(layout.trash_root(dataset))
    total = folder_size(layout.dataset_dir(dataset))
    return DatasetUsage(dataset, binaries, pipelines, max(total - binaries - pipelines - trash, 0), trash)


def disk_usage(workspace: Workspace) -> UsageReport:
    """Sizes of the workspace: ``runs`` is everything under ``runs/`` but the binaries and the
    trash (``trash``: deleted pipelines, freed by ``workspace purge``);
    ``catalog`` excludes ``catalog/archives/``, counted as ``archives``; ``other`` is the rest."""
    layout = workspace.layout
    report = UsageReport(datasets=[dataset_usage(workspace, d) for d in workspace.datasets()])
    runs_total = folder_size(layout.runs_dir)
    binaries = sum(d.binaries for d in report.datasets)
    trash = sum(d.trash for d in report.datasets)
    archives = folder_size(layout.catalog_archives_root)
    report.kinds = {
        "binaries": binaries,
        "runs": runs_total - binaries - trash,
        "trash": trash,
        "catalog": folder_size(layout.catalog_dir) - archives,
        "archives": archives,
        "library": folder_size(layout.library_dir),
        "exports": folder_size(layout.exports_dir),
    }
    counted = sum(report.kinds.values())
    report.kinds["other"] = max(folder_size(layout.root) - counted, 0)
    return report
