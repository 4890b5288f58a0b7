"""Schema versions of the files the workspace writes (docs/workspace.md, "Format versions").

Every file a later version may read carries the version of its format:
``schema_version`` in ``pipeline.json``, ``metrics.json`` and ``manifest.yaml``,
the ``nirs4all.schema_version`` key in the footer (key-value metadata) of every
catalog Parquet file, ``format_version`` in library zip manifests (their own
numbering, see ``library/zipformat.py``) and in ``workspace.json`` (the
workspace's, equal to :data:`SCHEMA_VERSION` once ``nirs4all workspace
migrate`` has upgraded every file). A file without a version is version 1: the
format of the releases before versions were recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .layout import FORMAT_VERSION

SCHEMA_VERSION = FORMAT_VERSION
SCHEMA_KEY = "schema_version"
PARQUET_SCHEMA_KEY = "nirs4all.schema_version"
UNVERSIONED = 1


def version_of(document: Mapping[str, Any]) -> int:
    """The schema version a JSON/YAML document records (1 when it records none)."""
    try:
        return int(document.get(SCHEMA_KEY, UNVERSIONED))
    except (TypeError, ValueError):
        return UNVERSIONED


def parquet_metadata(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Footer key-value metadata for a catalog Parquet file: the schema version, and ``extra``."""
    return {PARQUET_SCHEMA_KEY: str(SCHEMA_VERSION), **(extra or {})}
