"""What engines stored, read back: dataset summaries and the engine of a dataset's results.

Dataset summaries are files an engine computes over every stored pipeline of a dataset.

An engine may have ``summarize(dataset, pipelines) -> {"_<folder>/<name>": bytes}``
(e.g. ``_analytics/`` of a trading engine). At the end of each run the
workspace hands it every completed pipeline of the dataset that this engine
produced (the newest run of each configuration), as
:class:`~nirs4all_workspace.workspace.results.StoredPipeline` views that read files
through the workspace, and writes what it returns under ``runs/<dataset>/``,
replacing the previous summary. A failure is logged to ``run.log`` and
returned: the pipelines are stored already, so it never fails the run.

The analytics commands (``nirs4all analytics``, ``nirs4all replay``) are an
engine's: :func:`analytics_engines` finds the engines that answer one, the
engine that made the dataset (recorded on its catalog rows, else on its
pipeline records) or every installed engine that declares it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engines.declaration import EngineDeclaration
from .engines.registry import engine_entries, find_declaration
from .errors import InputError, IntegrityError, PipelineNotFound
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


def dataset_engines(workspace: Workspace, dataset: str) -> list[str]:
    """The engines that made ``dataset``'s results: those on its catalog rows, else the first one
    its pipeline records name (a catalog not yet rebuilt); empty when it has none."""
    named = sorted(workspace.predictions.engines(dataset))
    if named:
        return named
    for folder in workspace.manifests.list_folders(dataset):
        try:
            engine = workspace.manifests.read_pipeline(dataset, folder.folder).get("engine")
        except IntegrityError:
            continue
        if engine:
            return [str(engine)]
    return []


def _declaring(command: str) -> list[EngineDeclaration]:
    found = []
    for name in engine_entries():
        try:
            declaration = find_declaration(name)
        except Exception:  # noqa: S112 - a broken engine answers nothing; nirs4all engines shows why
            continue
        if declaration is not None and command in declaration.analytics:
            found.append(declaration)
    return found


def analytics_engines(
    command: str, label: str, workspace: Workspace | None = None, dataset: str | None = None
) -> list[EngineDeclaration]:
    """The engines whose analytics ``command`` (shown as ``label``) answers for ``dataset``.

    With a dataset: the engine that made it (InputError, one line, when that engine is
    not installed or does not declare the command; PipelineNotFound when there is no
    such dataset); a dataset with no results yet goes to the one installed engine that
    declares the command. Without: every installed engine that declares it.
    """
    if dataset is not None and workspace is not None:
        if not workspace.layout.dataset_dir(dataset).is_dir():
            known = ", ".join(workspace.datasets()) or "none"
            raise PipelineNotFound(
                f"no dataset {dataset!r} in {workspace.layout.runs_dir}; datasets: {known}"
            )
        names = dataset_engines(workspace, dataset)
        if names:
            declarations = [d for d in map(find_declaration, names) if d is not None]
            answering = [d for d in declarations if command in d.analytics]
            if answering:
                return answering[:1]
            made_by = ", ".join(repr(n) for n in names)
            if not declarations:
                raise InputError(
                    f"dataset {dataset!r} was made by engine {made_by}, which is not installed "
                    "(nirs4all engines lists those that are)"
                )
            raise InputError(
                f"dataset {dataset!r} was made by engine {made_by}, which has no {label} command "
                "(nirs4all engines lists each engine's analytics)"
            )
    declaring = _declaring(command)
    if not declaring:
        raise InputError(
            f"no installed engine has a {label} command (nirs4all engines lists each engine's analytics)"
        )
    if dataset is not None and len(declaring) > 1:
        raise InputError(f"dataset {dataset!r} has no results yet: no engine to ask for {label}")
    return declaring


def run_analytics(command: str, label: str, root: Path | str | None, dataset: str, **options: Any) -> Any:
    """What analytics ``command`` of the engine that made ``dataset`` (in workspace ``root``) returns."""
    workspace = Workspace.open(root, create=False)
    declaration = analytics_engines(command, label, workspace, dataset)[0]
    return declaration.analytics_function(command)(workspace, dataset, **options)
