"""Reading pipeline configuration files and library templates (YAML or JSON)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .workspace.layout import WorkspaceLayout

CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float (YAML 1.1 wants ``1.0e-3``)."""


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.VERBOSE,
    ),
    list("-+0123456789."),
)


def read_config_file(path: Path) -> Any:
    """Parse a YAML or JSON configuration file; ConfigError with the line on failure."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"pipeline file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"pipeline file {path} cannot be read: {exc}") from None
    try:
        config = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader
    except json.JSONDecodeError as exc:
        raise ConfigError(f"pipeline file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"pipeline file {path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(config, dict | list):
        raise ConfigError(f"pipeline file {path} must hold a list of steps or a mapping with 'pipeline'")
    return config


def find_template(layout: WorkspaceLayout, name: str) -> Path | None:
    """The library template called ``name`` (any of .yaml/.yml/.json), if it exists."""
    for suffix in CONFIG_SUFFIXES:
        candidate = layout.templates_dir / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_pipeline(reference: str, layout: WorkspaceLayout) -> tuple[Any, str]:
    """Config and its source for ``--pipeline``: a file path, else a library template name."""
    path = Path(reference).expanduser()
    if path.is_file():
        return read_config_file(path), str(path.absolute())
    if "/" not in reference and "\\" not in reference:
        template = find_template(layout, reference)
        if template is not None:
            return read_config_file(template), f"template:{reference}"
    raise ConfigError(f"pipeline {reference!r} is neither a file nor a template in {layout.templates_dir}")
