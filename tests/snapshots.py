"""Comparing a workspace before and after an operation: "nothing previously stored is lost"."""

from __future__ import annotations

import hashlib
from pathlib import Path

INTERNAL = ("_fragments", "_state", "_archived")


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Relative path -> SHA-256 of every file below ``root`` (parts in ``skip`` left out)."""
    files = {}
    for path in sorted(Path(root).rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not set(relative.parts) & set(skip):
            files[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def lost(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Files of ``before`` that are gone or changed in ``after``."""
    return sorted(name for name, digest in before.items() if after.get(name) != digest)
