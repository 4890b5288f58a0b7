"""What a pipeline was fitted on: ``runs/<dataset>/_state/dataset.json``.

A pipeline folder records its configuration and fitted objects, but not the
columns of the data: to apply a model to new spectra later (``nirs4all
predict``, the library), we must know the feature names (wavelengths) it was
fitted on, the target's name and the task. :func:`record_dataset` is called by
``run_experiment`` once per session, before any pipeline runs. The file holds
one description per distinct content of the data (keyed by a SHA-256
fingerprint of the arrays) and which session ran on which::

    {"format": 1,
     "sessions": {"20261123-120107": "<fingerprint>"},
     "datasets": {"<fingerprint>": {"name": "demo", "source": "...", "feature_names": [...],
                                    "target": "protein", "task": "regression", ...}}}

so a dataset re-run on changed data keeps both descriptions. Read-modify-write
happens under the dataset's lock. Works for any engine: attributes a dataset
does not have (``feature_names``, ``X``...) are recorded as null.

The same file binds the folder to one *question* (``identity``: source, target,
task, slice, as the engine's ``DatasetIdentity`` says) and lists its *data
versions* (``data_versions``: each new digest of the loaded data, in order;
``session_digests``: the digest each session ran on). A run that asks another
question under the same name is refused (:func:`check_identity`) before
anything is written; the newest data version is the one of the latest session.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import InputError, IntegrityError
from .atomic import atomic_write_json
from .layout import WorkspaceLayout
from .locking import FileLock
from .manifest import utc_now
from .results import DatasetIdentity

DATASET_INFO_FORMAT = 1
_ARRAYS = ("X", "y", "X_test", "y_test")


@dataclass(frozen=True)
class DatasetInfo:
    """The description of one dataset content, as a pipeline was fitted on it."""

    name: str
    source: str
    task: str | None
    target: str | None
    feature_names: list[str] | None
    n_features: int | None
    n_samples: int | None
    n_cal: int | None = None
    n_test: int | None = None
    fingerprint: str | None = None
    recorded_at: str = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        known = {k: data.get(k) for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def fingerprint(dataset: Any) -> str | None:
    """SHA-256 of a dataset's arrays, feature names and target name; None without arrays.

    Two loads of the same data give the same fingerprint, in any process.
    """
    import numpy as np

    digest = hashlib.sha256()
    found = False
    for name in _ARRAYS:
        value = getattr(dataset, name, None)
        digest.update(f"|{name}:".encode())
        if value is None:
            continue
        found = True
        array = np.asarray(value)
        digest.update(str(array.shape).encode())
        if array.dtype.kind in "fiub":
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        else:
            digest.update("\x1f".join(str(v) for v in array.ravel().tolist()).encode("utf-8"))
    if not found:
        return None
    names = getattr(dataset, "feature_names", None)
    digest.update(("|features:" + "\x1f".join(map(str, names or []))).encode("utf-8"))
    digest.update(f"|target:{getattr(dataset, 'target_name', '')}".encode())
    return digest.hexdigest()


def describe(dataset: Any) -> DatasetInfo:
    """The :class:`DatasetInfo` of an engine's dataset (duck-typed)."""
    names = getattr(dataset, "feature_names", None)
    return DatasetInfo(
        name=str(dataset.name),
        source=str(getattr(dataset, "source", "")),
        task=getattr(dataset, "task", None),
        target=getattr(dataset, "target_name", None),
        feature_names=[str(n) for n in names] if names is not None else None,
        n_features=getattr(dataset, "n_features", None),
        n_samples=getattr(dataset, "n_samples", None),
        n_cal=getattr(dataset, "n_cal", None),
        n_test=getattr(dataset, "n_test", None),
        fingerprint=fingerprint(dataset),
    )


def identity_of(dataset: Any) -> DatasetIdentity:
    """The engine's ``dataset.identity``, or one derived from common attributes (duck-typed)."""
    identity = getattr(dataset, "identity", None)
    if isinstance(identity, DatasetIdentity):
        return identity
    return DatasetIdentity(
        source=str(getattr(dataset, "source", "")),
        target=getattr(dataset, "target_name", None),
        task=getattr(dataset, "task", None),
        digest=fingerprint(dataset),
    )


def check_identity(layout: WorkspaceLayout, dataset_name: str, identity: DatasetIdentity) -> None:
    """InputError (exit 2) if ``runs/<dataset_name>/`` holds the scores of another question.

    Reads only: a folder never bound (new, or written before identities were
    recorded) accepts any question.
    """
    bound = _read(layout, dataset_name).get("identity")
    if not bound:
        return
    asked = identity.question()
    differs = [k for k in ("target", "slice", "task") if bound.get(k) != asked[k]]
    if not differs:
        return

    def show(question: dict[str, Any]) -> str:
        keys = [k for k in ("target", "slice", "task") if question.get(k) is not None]
        parts = [f"{k} {question[k]!r}" for k in keys]
        return ", ".join(parts) or "no target"

    raise InputError(
        f"dataset {dataset_name!r} holds the scores of {show(bound)}; this run asks for {show(asked)}: "
        f"give it its own folder with --name NAME (e.g. --name {_suggest(dataset_name, identity)})"
    )


def _suggest(dataset_name: str, identity: DatasetIdentity) -> str:
    label = identity.target if identity.slice is None else identity.slice.replace(":", "_")
    clean = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(label or identity.task or "2"))
    return f"{dataset_name}_{clean}"[:100]


def current_digest(layout: WorkspaceLayout, dataset_name: str) -> str | None:
    """The digest of the newest data version of a dataset (that of its latest session), or None."""
    versions = _read(layout, dataset_name).get("data_versions") or []
    return versions[-1]["digest"] if versions else None


def session_digests(layout: WorkspaceLayout, dataset_name: str) -> dict[str, str]:
    """The data digest each session of a dataset ran on (sessions before data versions: absent)."""
    return dict(_read(layout, dataset_name).get("session_digests") or {})


def _read(layout: WorkspaceLayout, dataset: str) -> dict[str, Any]:
    path = layout.dataset_info_file(dataset)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"format": DATASET_INFO_FORMAT, "sessions": {}, "datasets": {}}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"{path} is corrupt ({exc}); re-run the dataset to record it again") from None
    document.setdefault("sessions", {})
    document.setdefault("datasets", {})
    return document


def record_dataset(
    layout: WorkspaceLayout,
    dataset_name: str,
    session: str,
    dataset: Any,
    identity: DatasetIdentity | None = None,
) -> DatasetInfo:
    """Record what ``session`` runs on (called before its first pipeline); returns the description.

    Binds the folder to the dataset's question on first use and appends a data
    version when the digest differs from the newest one. Raises
    :class:`InputError` (nothing written) if the folder holds another question.
    """
    info = describe(dataset)
    identity = identity or identity_of(dataset)
    key = info.fingerprint or f"session:{session}"
    check_identity(layout, dataset_name, identity)  # before the folder is created
    layout.state_dir(dataset_name).mkdir(parents=True, exist_ok=True)
    with FileLock(layout.dataset_lock(dataset_name)):
        document = _read(layout, dataset_name)
        check_identity(layout, dataset_name, identity)  # again under the lock: another run may have bound it
        if key not in document["datasets"]:
            document["datasets"][key] = info.to_dict()
        document["sessions"][session] = key
        if not document.get("identity"):
            document["identity"] = {"source": identity.source, **identity.question()}
        versions = document.setdefault("data_versions", [])
        if identity.digest is not None and (not versions or versions[-1]["digest"] != identity.digest):
            versions.append({"digest": identity.digest, "session": session, "recorded_at": utc_now()})
        if identity.digest is not None:
            document.setdefault("session_digests", {})[session] = identity.digest
        atomic_write_json(layout.dataset_info_file(dataset_name), document)
    return info


def dataset_info(layout: WorkspaceLayout, dataset_name: str, session: str | None) -> DatasetInfo | None:
    """The description of the data ``session`` ran on; None if it was never recorded.

    Workspaces written before this file existed have no description: the caller
    decides what to do without feature names.
    """
    document = _read(layout, dataset_name)
    key = document["sessions"].get(session) if session else None
    entry = document["datasets"].get(key) if key else None
    return DatasetInfo.from_dict(entry) if entry else None
