"""Content-addressed storage of fitted objects in ``runs/<dataset>/_binaries/``.

A fitted object is serialized with the standard C pickler (protocol 5, one pass,
no joblib wrapper frames: ten times faster than ``joblib.dump`` for a small model),
which ``joblib.load`` and ``pickle.load`` both read; the file is named from the object's
class and the SHA-256 of its bytes (``SNV_3fa2c1...joblib``), so an identical
object fitted by many pipelines is stored once. ``pipeline.json`` records the
full digest; :meth:`ArtifactStore.load` checks it before unpickling.

Serializing is pure (no I/O), so worker processes do it and only bytes travel.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from dataclasses import dataclass
from typing import Any

from ..errors import IntegrityError
from .atomic import atomic_write_bytes
from .layout import WorkspaceLayout

DIGEST_CHARS_IN_NAME = 16
EXTENSION = "joblib"
PICKLE_PROTOCOL = 5


@dataclass(frozen=True)
class SerializedArtifact:
    """A fitted object turned into bytes, with its digest, ready to store."""

    step: int
    operator: str
    digest: str
    data: bytes

    @property
    def file_name(self) -> str:
        return f"{self.operator}_{self.digest[:DIGEST_CHARS_IN_NAME]}.{EXTENSION}"


@dataclass(frozen=True)
class ArtifactRef:
    """How ``pipeline.json`` points at a stored fitted object."""

    step: int
    operator: str
    file: str
    digest: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        # What dataclasses.asdict gives (fields in order), without its deep copy of plain values.
        return {
            "step": self.step,
            "operator": self.operator,
            "file": self.file,
            "digest": self.digest,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArtifactRef:
        return cls(**{k: data[k] for k in ("step", "operator", "file", "digest", "size")})


def serialize(step: int, operator: str, obj: Any) -> SerializedArtifact:
    """Pickle ``obj`` into memory (protocol 5, readable by ``joblib.load``) and digest the bytes."""
    data = pickle.dumps(obj, protocol=PICKLE_PROTOCOL)
    return SerializedArtifact(step, operator, hashlib.sha256(data).hexdigest(), data)


class ArtifactStore:
    """Stores and loads the fitted objects of one workspace's datasets."""

    def __init__(self, layout: WorkspaceLayout) -> None:
        self.layout = layout

    def put(self, dataset: str, artifact: SerializedArtifact) -> ArtifactRef:
        """Store ``artifact`` unless an identical one is already there; return its reference."""
        path = self.layout.binary_path(dataset, artifact.file_name)
        try:
            # Reused: refresh its time so that 'workspace gc' (which spares recent
            # binaries) keeps it while this pipeline's pipeline.json is written.
            os.utime(path)
        except FileNotFoundError:
            # Two processes storing the same bytes at once both rename identical content: safe.
            atomic_write_bytes(path, artifact.data)
        return ArtifactRef(
            step=artifact.step,
            operator=artifact.operator,
            file=artifact.file_name,
            digest=artifact.digest,
            size=len(artifact.data),
        )

    def read_bytes(self, dataset: str, ref: ArtifactRef) -> bytes:
        """The stored bytes, after checking their SHA-256 against ``ref.digest``."""
        path = self.layout.binary_path(dataset, ref.file)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise IntegrityError(f"fitted object {path} is missing; the pipeline cannot be loaded") from None
        if hashlib.sha256(data).hexdigest() != ref.digest:
            raise IntegrityError(
                f"fitted object {path} does not match its recorded digest; it was modified or "
                "corrupted: re-run the pipeline"
            )
        return data

    def load(self, dataset: str, ref: ArtifactRef) -> Any:
        """Unpickle a fitted object after verifying its digest (local files only)."""
        import joblib

        return joblib.load(io.BytesIO(self.read_bytes(dataset, ref)))

    def files(self, dataset: str) -> list[str]:
        """Names of the stored binaries of ``dataset``."""
        folder = self.layout.binaries_dir(dataset)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
