"""Dataset summaries: files an engine computes over every stored pipeline of a dataset.

An engine may have ``summarize(dataset, pipelines) -> {"_<folder>/<name>": bytes}``
(e.g. ``_analytics/`` of a trading engine). At the end of each run the
workspace hands it every completed pipeline of the dataset that this engine
produced (the newest run of each configuration), as
:class:`~nirs4all_workspace.workspace.results.StoredPipeline` views that read files
through the workspace, and writes what it returns under ``runs/<dataset>/``,
replacing the previous summary. A failure is logged to ``run.log`` and
returned: the pipelines are stored already, so it never fails the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import IntegrityError
from .facade import Workspace
from .workspace.layout import validate_name
from .workspace.results import StoredPipeline


@dataclass
class SummaryOutcome:
    """The summary files written for one dataset, or why there are none."""

    files: list[Path] = field(default_factory=list)
    error: str | None = None


def stored_pipelines(workspace: Workspace, dataset: str, engine: str) -> list[StoredPipeline]:
    """Completed pipelines of ``dataset`` run by ``engine``: the newest of each configuration, by number."""
    newest: dict[str, StoredPipeline] = {}
    for folder in workspace.manifests.list_folders(dataset):
        try:
            record = workspace.manifests.read_pipeline(dataset, folder.folder)
        except IntegrityError:
            continue  # incomplete or unreadable: never a result
        if record.get("status") != "completed" or record.get("engine") != engine:
            continue
        paths = workspace.layout.pipeline(dataset, folder.folder)
        newest.pop(record.get("hash", folder.folder), None)  # re-insert: keep time order
        newest[record.get("hash", folder.folder)] = StoredPipeline(record, _reader(paths.dir))
    return list(newest.values())


def _reader(folder: Path) -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        return (folder / validate_name(name, "pipeline file")).read_bytes()

    return read


def refresh_summary(workspace: Workspace, engine: Any, dataset_name: str, dataset: Any) -> SummaryOutcome:
    """Let ``engine.summarize`` rebuild the dataset's summary files (no-op for engines without it)."""
    summarize = getattr(engine, "summarize", None)
    outcome = SummaryOutcome()
    if summarize is None:
        return outcome
    try:
        pipelines = stored_pipelines(workspace, dataset_name, engine.name)
        if pipelines:
            files = summarize(dataset, pipelines)
            workspace.saver.save_dataset_files(dataset_name, files, replace=True)
            outcome.files = [workspace.layout.dataset_shared_file(dataset_name, name) for name in files]
    except Exception as exc:  # the results are stored: a failed summary must not fail the run
        outcome.error = f"{type(exc).__name__}: {exc}"
        workspace.sessions.log(dataset_name, f"summary of {dataset_name} failed: {outcome.error}")
    return outcome


def summary_step(end: Any) -> None:
    """Post-run step: the engine's dataset summary (``report.engine_summary``)."""
    end.report.engine_summary = refresh_summary(end.workspace, end.engine, end.report.dataset, end.dataset)
