"""Pipeline identity: the config hash and time-ordered ids.

The hash is the SHA-256 of the canonical JSON of a concrete configuration
(sorted keys, no white space), so the same configuration has the same hash in
every workspace. Folder names show its first six hex digits, lengthened only
when two different configurations of one dataset would collide.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

SHORT_HASH_LENGTH = 6


def canonical_json(config: Any) -> str:
    """The one JSON text of ``config``: sorted keys, compact separators, UTF-8."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def config_hash(config: Any) -> str:
    """Full SHA-256 hex digest of the canonical JSON of ``config``."""
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()


def short_hash_for(full_hash: str, taken: dict[str, str]) -> str:
    """Shortest prefix (>= 6 hex digits, even length) not used by another full hash.

    ``taken`` maps short hashes already in use in the dataset to their full hash;
    a full hash already in ``taken`` keeps its short hash.
    """
    length = SHORT_HASH_LENGTH
    while length < len(full_hash):
        short = full_hash[:length]
        owner = taken.get(short)
        if owner is None or owner == full_hash:
            return short
        length += 2
    return full_hash


def new_id() -> str:
    """A unique id that sorts by creation time (48-bit ms timestamp + 80 random bits)."""
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"
