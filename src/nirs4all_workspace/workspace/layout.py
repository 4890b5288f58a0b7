"""Every path of the workspace layout, and nothing else.

This is the only module that joins path strings for the workspace (SPEC.md,
"Layout on disk"); everything else asks it. Names that end up on disk are
validated here so that no user input can escape the workspace root.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidNameError

FORMAT_VERSION = 2  # 2: every file records its schema version (workspace/schema.py)

_PIPELINE_FOLDER = re.compile(r"^(?P<number>\d{4,})_(?:(?P<name>.+)_)?(?P<hash>[0-9a-f]{6,64})$")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_FORBIDDEN_CHARS = set('/\\<>:"|?*\x00')
MAX_NAME_LENGTH = 100
TRASH_PREFIX = "_trash_"
TRASH_FOLDER = "_trash"  # runs/<dataset>/_trash/<entry>/: deleted pipelines, restorable until purged
TRASH_RECORD = "trash.json"
# Folders an engine may fill (``_classifiers/``, ``_analytics/``), but not the workspace's own.
_SHARED_FOLDER = re.compile(r"^_[a-z][a-z0-9_]*$")
_WORKSPACE_FOLDERS = ("_state", "_binaries", TRASH_FOLDER)
_PIPELINE_FILES = (
    "pipeline.json",
    "manifest.yaml",
    "metrics.json",
    "predictions.csv",
    "error.log",
    "outputs",
)
TRAINED_TYPES = ("filtered", "pipeline", "fullrun")


def validate_name(name: str, kind: str = "dataset") -> str:
    """Return ``name`` if it is safe as one folder or file name, else raise.

    Raises :class:`InvalidNameError` for empty names, path separators, NUL and
    control characters, ``.``/``..``, a leading ``_`` or ``.`` (reserved for
    internal files), Windows reserved device names and names over 100 characters.
    """
    problem = None
    if not isinstance(name, str) or not name.strip():
        problem = "is empty"
    elif any(ch in _FORBIDDEN_CHARS or ord(ch) < 32 for ch in name):
        problem = "contains a path separator, NUL, control or reserved character"
    elif name in (".", "..") or ".." in name:
        problem = "contains '..'"
    elif name[0] in "._":
        problem = "starts with '.' or '_' (reserved for internal files)"
    elif name.split(".", maxsplit=1)[0].lower() in _RESERVED:
        problem = "is a reserved device name"
    elif len(name) > MAX_NAME_LENGTH:
        problem = f"is longer than {MAX_NAME_LENGTH} characters"
    elif name != name.strip():
        problem = "starts or ends with white space"
    if problem:
        raise InvalidNameError(f"{kind} name {name!r} {problem}; choose a plain file name")
    return name


def slugify(text: str, max_length: int = 40) -> str:
    """Lower-case ``text`` into ``[a-z0-9-._]`` for use inside a folder name.

    Underscores the user gave are kept (``baseline_pls``): a folder's number is its
    first ``_`` field and its hash the last, so the name between needs no rewriting.
    """
    slug = re.sub(r"[^a-z0-9._]+", "-", text.lower()).strip("-._")
    return slug[:max_length].rstrip("-._")


def format_number(number: int) -> str:
    """Four digits, growing to five and more past 9999."""
    return f"{number:04d}"


def pipeline_folder_name(number: int, name: str | None, short_hash: str) -> str:
    """``NNNN_<name>_<hash>`` (or ``NNNN_<hash>`` without a name)."""
    slug = slugify(name) if name else ""
    return f"{format_number(number)}_{slug}_{short_hash}" if slug else f"{format_number(number)}_{short_hash}"


@dataclass(frozen=True)
class PipelineFolderName:
    """The three parts of a pipeline folder name."""

    number: int
    name: str | None
    short_hash: str
    folder: str


def parse_pipeline_folder(folder: str) -> PipelineFolderName | None:
    """Split ``NNNN_<name>_<hash>`` into its parts; ``None`` if it is not one."""
    match = _PIPELINE_FOLDER.match(folder)
    if not match:
        return None
    return PipelineFolderName(
        number=int(match["number"]), name=match["name"], short_hash=match["hash"], folder=folder
    )


@dataclass(frozen=True)
class PipelinePaths:
    """The files of one pipeline folder."""

    dir: Path

    @property
    def folder(self) -> str:
        return self.dir.name

    @property
    def pipeline_json(self) -> Path:
        return self.dir / "pipeline.json"

    @property
    def manifest_yaml(self) -> Path:
        return self.dir / "manifest.yaml"

    @property
    def metrics_json(self) -> Path:
        return self.dir / "metrics.json"

    @property
    def predictions_csv(self) -> Path:
        return self.dir / "predictions.csv"

    @property
    def outputs_dir(self) -> Path:
        return self.dir / "outputs"

    @property
    def error_log(self) -> Path:
        return self.dir / "error.log"

    def engine_file(self, name: str) -> Path:
        """A file an engine adds to the folder (``trades.parquet``); InvalidNameError for the
        workspace's own names or an unsafe one."""
        if name in _PIPELINE_FILES:
            raise InvalidNameError(f"pipeline file name {name!r} is reserved by the workspace")
        return self.dir / validate_name(name, "pipeline file")


class WorkspaceLayout:
    """Maps workspace concepts to paths under one root."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().absolute()
        self._root_prefix = os.path.join(self.root, "")  # noqa: PTH118 - the root and a separator
        # dataset -> (its folder, its _state folder): built once per valid name, since every
        # pipeline saved asks for them several times (a Path join costs ~2 us)
        self._dataset_dirs: dict[str, tuple[Path, Path]] = {}

    # -- top level -------------------------------------------------------
    @property
    def workspace_json(self) -> Path:
        return self.root / "workspace.json"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    # -- one dataset -----------------------------------------------------
    def _dataset_paths(self, dataset: str) -> tuple[Path, Path]:
        paths = self._dataset_dirs.get(dataset) if isinstance(dataset, str) else None
        if paths is None:
            folder = self.runs_dir / validate_name(dataset)
            paths = self._dataset_dirs[dataset] = (folder, folder / "_state")
        return paths

    def dataset_dir(self, dataset: str) -> Path:
        return self._dataset_paths(dataset)[0]

    def state_dir(self, dataset: str) -> Path:
        """Internal bookkeeping of a dataset: lock, numbering high-water mark, best."""
        return self._dataset_paths(dataset)[1]

    def dataset_lock(self, dataset: str) -> Path:
        return self.state_dir(dataset) / "lock"

    def writers_lock(self, dataset: str) -> Path:
        """Shared by every run writing into the dataset; exclusive for ``verify --repair``."""
        return self.state_dir(dataset) / "writers"

    def high_water_file(self, dataset: str) -> Path:
        return self.state_dir(dataset) / "high_water"

    def best_state_file(self, dataset: str) -> Path:
        return self.state_dir(dataset) / "best.json"

    def dataset_info_file(self, dataset: str) -> Path:
        """What predict needs of the data each session ran on (feature names, target...)."""
        return self.state_dir(dataset) / "dataset.json"

    def binaries_dir(self, dataset: str) -> Path:
        return self.dataset_dir(dataset) / "_binaries"

    def dataset_shared_file(self, dataset: str, relative: str) -> Path:
        """``runs/<dataset>/_<folder>/<name>``: a file an engine shares between the pipelines of a
        dataset (``_classifiers/``) or computes over all of them (``_analytics/``).

        ``relative`` is ``_folder/name``; InvalidNameError for any other form, and for
        the workspace's own folders (``_state``, ``_binaries``, ``_trash_*``).
        """
        folder, sep, name = str(relative).partition("/")
        if (
            not sep
            or not _SHARED_FOLDER.match(folder)
            or folder in _WORKSPACE_FOLDERS
            or folder.startswith(TRASH_PREFIX)
        ):
            raise InvalidNameError(
                f"dataset file {relative!r} must be '_folder/name' with a folder such as _classifiers "
                f"(not {', '.join(_WORKSPACE_FOLDERS)})"
            )
        return self.dataset_dir(dataset) / folder / validate_name(name, "dataset file")

    def binary_path(self, dataset: str, file_name: str) -> Path:
        return self.binaries_dir(dataset) / validate_name(file_name, "binary")

    def pipeline(self, dataset: str, folder: str) -> PipelinePaths:
        if parse_pipeline_folder(folder) is None:
            raise InvalidNameError(f"{folder!r} is not a pipeline folder name (NNNN_<name>_<hash>)")
        return PipelinePaths(self.dataset_dir(dataset) / folder)

    def best_csv(self, dataset: str, folder: str) -> Path:
        return self.dataset_dir(dataset) / f"best_{folder}.csv"

    def best_csv_files(self, dataset: str) -> list[Path]:
        return sorted(self.dataset_dir(dataset).glob("best_*.csv"))

    def run_config_json(self, dataset: str) -> Path:
        return self.dataset_dir(dataset) / "run_config.json"

    def run_summary_json(self, dataset: str) -> Path:
        return self.dataset_dir(dataset) / "run_summary.json"

    def run_log(self, dataset: str) -> Path:
        return self.dataset_dir(dataset) / "run.log"

    def trash_dir(self, dataset: str, token: str) -> Path:
        """Where a pipeline folder is renamed before it is removed (``_trash_<token>``)."""
        return self.dataset_dir(dataset) / f"{TRASH_PREFIX}{validate_name(token, 'trash token')}"

    def trash_root(self, dataset: str) -> Path:
        """``runs/<dataset>/_trash/``: one folder per ``runs delete`` (see maintenance/trash.py)."""
        return self.dataset_dir(dataset) / TRASH_FOLDER

    def trash_entry(self, dataset: str, entry: str) -> Path:
        """``runs/<dataset>/_trash/<entry>/``: the pipeline folders one deletion moved, and its record."""
        return self.trash_root(dataset) / validate_name(entry, "trash entry")

    def trash_record(self, dataset: str, entry: str) -> Path:
        """``runs/<dataset>/_trash/<entry>/trash.json``: what was moved, from where, when."""
        return self.trash_entry(dataset, entry) / TRASH_RECORD

    def trashed_pipeline(self, dataset: str, entry: str, folder: str) -> PipelinePaths:
        """A pipeline folder while it is in the trash."""
        if parse_pipeline_folder(folder) is None:
            raise InvalidNameError(f"{folder!r} is not a pipeline folder name (NNNN_<name>_<hash>)")
        return PipelinePaths(self.trash_entry(dataset, entry) / folder)

    def trashed_best(self, dataset: str, entry: str, name: str) -> Path:
        """The copy of ``best.json`` or of the best CSV kept with a deletion that took the best."""
        return self.trash_entry(dataset, entry) / validate_name(name, "best file")

    # -- exports ---------------------------------------------------------
    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    def export_dataset_dir(self, dataset: str) -> Path:
        return self.exports_dir / validate_name(dataset)

    def export_best_predictions(self, dataset: str, date: str, number: int, short_hash: str) -> Path:
        name = f"{validate_name(dataset)}_{date}_{format_number(number)}_{short_hash}.csv"
        return self.exports_dir / "best_predictions" / name

    def export_staging_dir(self, dataset: str, token: str) -> Path:
        """Internal: where ``exports/<dataset>/`` is assembled (and the old copy parked) before a swap."""
        return self.exports_dir / "_staging" / f"{validate_name(dataset)}.{validate_name(token, 'token')}"

    def session_report(self, dataset: str) -> Path:
        return self.exports_dir / "session_reports" / f"{validate_name(dataset)}.html"

    # -- library ---------------------------------------------------------
    @property
    def library_dir(self) -> Path:
        return self.root / "library"

    @property
    def templates_dir(self) -> Path:
        return self.library_dir / "templates"

    def trained_dir(self, kind: str) -> Path:
        if kind not in TRAINED_TYPES:
            raise InvalidNameError(f"library type {kind!r} is not one of {', '.join(TRAINED_TYPES)}")
        return self.library_dir / "trained" / kind

    def trained_zip(self, kind: str, name: str) -> Path:
        return self.trained_dir(kind) / f"{validate_name(name, 'library entry')}.zip"

    def template_file(self, name: str) -> Path:
        """``library/templates/<name>.json`` (templates may also be .yaml: see ``configs.find_template``)."""
        return self.templates_dir / f"{validate_name(name, 'template')}.json"

    # -- catalog ---------------------------------------------------------
    @property
    def catalog_dir(self) -> Path:
        return self.root / "catalog"

    @property
    def catalog_meta(self) -> Path:
        return self.catalog_dir / "predictions_meta.parquet"

    @property
    def catalog_data(self) -> Path:
        return self.catalog_dir / "predictions_data.parquet"

    @property
    def catalog_fragments_dir(self) -> Path:
        return self.catalog_dir / "_fragments"

    @property
    def catalog_lock(self) -> Path:
        return self.catalog_dir / "_lock"

    def catalog_archive_dir(self, kind: str) -> Path:
        return self.catalog_dir / "archives" / kind

    @property
    def catalog_reports_dir(self) -> Path:
        return self.catalog_dir / "reports"

    @property
    def global_performance_report(self) -> Path:
        """``catalog/reports/global_performance.html``: the best of every dataset."""
        return self.catalog_reports_dir / "global_performance.html"

    def dataset_history_report(self, dataset: str) -> Path:
        """``catalog/reports/dataset_history/<dataset>.html``: best score per session."""
        return self.catalog_reports_dir / "dataset_history" / f"{validate_name(dataset)}.html"

    @property
    def catalog_archives_root(self) -> Path:
        return self.catalog_dir / "archives"

    def runs_archive(self, dataset: str, session: str | None, stamp: str) -> Path:
        """``catalog/archives/runs/<dataset>[_<session>]_<stamp>.tar.gz``."""
        parts = [validate_name(dataset)] + ([validate_name(session, "session")] if session else []) + [stamp]
        return self.catalog_archive_dir("runs") / f"{'_'.join(parts)}.tar.gz"

    def pipeline_archive(self, dataset: str, folder: str) -> Path:
        """``catalog/archives/pipeline/<dataset>_<folder>.zip``."""
        folder = self.pipeline(dataset, folder).folder  # validates both names
        return self.catalog_archive_dir("pipeline") / f"{dataset}_{folder}.zip"

    def archived_predictions(self, dataset: str, number: int, short_hash: str) -> Path:
        """``catalog/archives/best_predictions/<dataset>_<NNNN>_<hash>.csv``."""
        name = f"{validate_name(dataset)}_{format_number(number)}_{short_hash}.csv"
        return self.catalog_archive_dir("best_predictions") / name

    @property
    def archive_registry_dir(self) -> Path:
        """Internal: one JSON entry per archive, naming the pipelines it holds."""
        return self.catalog_dir / "_archived"

    def archive_registry_entry(self, archive: Path) -> Path:
        kind = Path(archive).parent.name
        return self.archive_registry_dir / f"{kind}_{Path(archive).name}.json"

    @property
    def archive_lock(self) -> Path:
        """Serializes the writing of archives (so two never take the same name)."""
        return self.catalog_dir / "_archive_lock"

    @property
    def catalog_quarantine_dir(self) -> Path:
        """Internal: unreadable catalog files moved aside by ``workspace verify --repair``."""
        return self.catalog_dir / "_quarantine"

    # -- workflows (docs/workflows.md) ------------------------------------
    @property
    def workflows_dir(self) -> Path:
        return self.root / "workflows"

    def workflow_dir(self, workflow_id: str) -> Path:
        return self.workflows_dir / validate_name(workflow_id, "workflow")

    def workflow_json(self, workflow_id: str) -> Path:
        return self.workflow_dir(workflow_id) / "workflow.json"

    def workflow_log(self, workflow_id: str) -> Path:
        return self.workflow_dir(workflow_id) / "workflow.log"

    def workflow_lock(self, workflow_id: str) -> Path:
        """Internal: held by the process running the workflow."""
        return self.workflow_dir(workflow_id) / "_lock"

    def workflow_output(self, workflow_id: str, phase: str) -> Path:
        """``workflows/<id>/analysis/<phase>.json``: what one phase produced."""
        return self.workflow_dir(workflow_id) / "analysis" / f"{validate_name(phase, 'phase')}.json"

    def workflow_checkpoint(self, workflow_id: str, phase: str) -> Path:
        """``workflows/<id>/checkpoints/<phase>.json``: written once the phase's output is complete."""
        return self.workflow_dir(workflow_id) / "checkpoints" / f"{validate_name(phase, 'phase')}.json"

    # -- relative paths (stored in the catalog, portable across machines) --
    def relative(self, path: Path) -> str:
        text = os.fspath(path)
        if text.startswith(self._root_prefix):  # a path built here (normalised): cut the root off
            return text[len(self._root_prefix) :].replace(os.sep, "/")
        return Path(path).absolute().relative_to(self.root).as_posix()

    def absolute(self, relative: str) -> Path:
        return self.root / relative
