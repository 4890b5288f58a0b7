"""Pipeline templates: a pipeline's concrete configuration kept as ``library/templates/<name>.json``.

A template holds no fitted object: it is a configuration, run again with
``nirs4all run --pipeline <name>`` (see ``configs.load_pipeline``). Saved from
a pipeline, it is that pipeline's canonical configuration plus ``name`` and
``description``, which never enter the configuration hash: running it on the
same data gives the same pipeline hash as the pipeline it was saved from.
Templates written by hand (``.json``, ``.yaml``, ``.yml``) are listed too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..configs import CONFIG_SUFFIXES, find_template, read_config_file
from ..errors import ConfigError, InputError
from ..facade import Workspace
from ..workspace.atomic import atomic_write_json
from ..workspace.layout import WorkspaceLayout, validate_name
from ..workspace.manifest import split_reference


@dataclass
class TemplateEntry:
    """One template of the library."""

    name: str
    path: Path
    size: int
    modified: str
    steps: int | None
    description: str | None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "size": self.size,
            "modified": self.modified,
            "steps": self.steps,
            "description": self.description,
            "problem": self.problem,
        }


def save_template(ws: Workspace, reference: str, name: str, *, force: bool = False) -> Path:
    """Store the configuration of ``DATASET/PIPELINE`` as template ``name``; returns its path.

    Raises PipelineNotFound, InputError when the name is taken (without ``force``).
    """
    validate_name(name, "template")
    existing = find_template(ws.layout, name)
    if existing is not None and not force:
        raise InputError(
            f"template {name!r} already exists ({existing}); choose another --name or pass --force"
        )
    dataset, ref = split_reference(reference)
    folder = ws.manifests.resolve(dataset, ref)
    record = ws.manifests.read_pipeline(dataset, folder)
    config = record.get("config")
    if not isinstance(config, dict):
        raise InputError(f"pipeline {dataset}/{folder} has no configuration to save")
    steps = f"{record.get('preprocessing')} > {record.get('model')}"
    document = {**config, "name": name, "description": f"saved from {dataset}/{folder} ({steps})"}
    path = ws.layout.template_file(name)
    atomic_write_json(path, document)
    if existing is not None and existing != path:
        existing.unlink(missing_ok=True)
    return path


def list_templates(layout: WorkspaceLayout) -> list[TemplateEntry]:
    """Every template (``.json``, ``.yaml``, ``.yml``), by name; unreadable ones with their problem."""
    folder = layout.templates_dir
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in CONFIG_SUFFIXES or path.name.startswith((".", "_")):
            continue
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds")
        try:
            config = read_config_file(path)
        except ConfigError as exc:
            entries.append(TemplateEntry(path.stem, path, stat.st_size, modified, None, None, str(exc)))
            continue
        steps = config.get("pipeline") if isinstance(config, dict) else config
        description = config.get("description") if isinstance(config, dict) else None
        count = len(steps) if isinstance(steps, list) else None
        entries.append(TemplateEntry(path.stem, path, stat.st_size, modified, count, description))
    return entries


def remove_template(layout: WorkspaceLayout, name: str, *, dry_run: bool = False) -> Path:
    """Delete template ``name`` (unless ``dry_run``); returns its path."""
    path = find_template(layout, validate_name(name, "template"))
    if path is None:
        known = ", ".join(t.name for t in list_templates(layout)) or "none"
        raise InputError(f"no template {name!r} in {layout.templates_dir}; templates: {known}")
    if not dry_run:
        path.unlink()
    return path
