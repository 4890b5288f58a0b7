"""What a checked library zip holds: its pipelines, their fitted objects, its training data.

:func:`open_trained` is the one way into a library or export zip: it runs every
hygiene check of :mod:`.zipformat`, then checks that the manifest describes
what predict and re-runs need. Objects are built only by :meth:`TrainedZip.load_steps`,
through :mod:`.safe_objects`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ArchiveRefused, TrustRequired
from ..workspace.layout import TRAINED_TYPES
from .safe_objects import refusal, trusted_types, unpack, untrusted_types
from .zipformat import OpenedZip, ZipLimits, open_zip


@dataclass
class TrainedZip:
    """A library zip that passed every check, in memory."""

    opened: OpenedZip
    limits: ZipLimits = field(default_factory=ZipLimits)

    def __post_init__(self) -> None:
        self._validate()

    # -- manifest ------------------------------------------------------------------
    @property
    def label(self) -> str:
        return self.opened.label

    @property
    def manifest(self) -> dict[str, Any]:
        return self.opened.manifest

    @property
    def kind(self) -> str:
        return self.manifest["type"]

    @property
    def name(self) -> str | None:
        name = self.manifest.get("name")
        return name if isinstance(name, str) else None

    @property
    def pipelines(self) -> list[dict[str, Any]]:
        return self.manifest["pipelines"]

    @property
    def predict_info(self) -> dict[str, Any]:
        return self.manifest.get("predict") or {}

    def pipeline(self, folder: str | None = None) -> dict[str, Any]:
        """The pipeline ``folder`` (default: the one the zip was made from)."""
        wanted = folder or self.manifest.get("default_pipeline")
        for entry in self.pipelines:
            if entry["folder"] == wanted:
                return entry
        names = ", ".join(p["folder"] for p in self.pipelines[:5])
        raise ArchiveRefused(f"{self.label} holds no pipeline {wanted!r}; it holds: {names}")

    def _bad(self, what: str) -> ArchiveRefused:
        return ArchiveRefused(f"{self.label}: manifest.json is malformed ({what}); refused")

    def _validate(self) -> None:
        manifest, members = self.manifest, self.opened.listed
        if manifest.get("type") not in TRAINED_TYPES:
            raise self._bad(f"type {manifest.get('type')!r} is not one of {', '.join(TRAINED_TYPES)}")
        pipelines = manifest.get("pipelines")
        if not isinstance(pipelines, list) or not pipelines:
            raise self._bad("no pipelines")
        for entry in pipelines:
            if not isinstance(entry, dict) or not isinstance(entry.get("folder"), str):
                raise self._bad("a pipeline without a folder")
            steps = entry.get("steps")
            if not isinstance(steps, list) or not steps:
                raise self._bad(f"pipeline {entry['folder']!r} has no steps")
            for step in steps:
                ok = isinstance(step, dict) and isinstance(step.get("step"), int)
                if not ok or not isinstance(step.get("file"), str) or step["file"] not in members:
                    raise self._bad(
                        f"pipeline {entry['folder']!r} names a fitted object the zip does not hold"
                    )
            if not isinstance(entry.get("metrics") or {}, dict):
                raise self._bad(f"pipeline {entry['folder']!r} has metrics that are not a mapping")
        self.pipeline()  # the default pipeline exists
        for key in ("predict", "source", "score", "fitted_with"):
            if not isinstance(manifest.get(key) or {}, dict):
                raise self._bad(f"{key!r} is not a mapping")
        self._validate_predict(manifest.get("predict") or {})
        if manifest["type"] == "fullrun":
            data = manifest.get("data")
            files = data.get("files") if isinstance(data, dict) else None
            if not isinstance(files, list) or not files or any(f not in members for f in files):
                raise self._bad("a fullrun zip without its training data")
        self._refuse_unneeded()

    def _refuse_unneeded(self) -> None:
        """Refuse members the zip's type has no use for: nothing is carried that nothing reads."""
        kind = self.kind
        files = ["pipeline.json", "metrics.json", "manifest.yaml"]
        files += ["predictions.csv"] if kind != "filtered" else []
        needed = {f"pipelines/{p['folder']}/{name}" for p in self.pipelines for name in files}
        needed |= set(self.object_members())
        if kind == "fullrun":
            needed |= set(self.manifest["data"]["files"])
        extra = sorted(set(self.opened.listed) - needed)
        if extra:
            more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
            raise ArchiveRefused(
                f"{self.label}: entry {extra[0]!r}{more} is not needed by a {kind} zip (not one of its "
                "pipelines' files, fitted objects or training data); refused"
            )

    def _validate_predict(self, predict: dict[str, Any]) -> None:
        names = predict.get("feature_names")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise self._bad("feature_names is not a list of names")
        n_features = predict.get("n_features")
        if n_features is not None and (not isinstance(n_features, int) or isinstance(n_features, bool)):
            raise self._bad("n_features is not a number")
        for key in ("target", "task", "engine"):
            if predict.get(key) is not None and not isinstance(predict[key], str):
                raise self._bad(f"{key} is not a name")

    # -- objects -------------------------------------------------------------------
    def object_members(self, folder: str | None = None) -> list[str]:
        """Members holding fitted objects (of one pipeline, or of all)."""
        pipelines = [self.pipeline(folder)] if folder else self.pipelines
        return sorted({step["file"] for p in pipelines for step in p["steps"]})

    def trust_needs(self) -> dict[str, list[str]]:
        """Member -> what loading it needs beyond the trusted types (reads schemas only)."""
        needs = {}
        for member in self.object_members():
            needed = untrusted_types(member, self.opened.member(member), self.limits)
            if needed:
                needs[member] = needed
        return needs

    def require_trust(self, trust: bool) -> list[str]:
        """Raise TrustRequired unless every object loads safely and every configuration
        names trusted classes only, or ``trust``; returns warnings."""
        needs = self.trust_needs()
        if needs and not trust:
            member, needed = next(iter(needs.items()))
            raise TrustRequired(f"{self.label}: {refusal(member, needed)}")
        notes = [
            f"{self.label}: {refusal(m, n).split(';')[0]}; accepted because of --trust"
            for m, n in needs.items()
        ]
        return notes + self.require_config_trust(trust)

    # -- configurations --------------------------------------------------------------
    def configs(self) -> dict[str, Any]:
        """Pipeline folder -> its configuration (from its ``pipeline.json``), not yet vetted."""
        found = {}
        for entry in self.pipelines:
            record = self.opened.json_member(f"pipelines/{entry['folder']}/pipeline.json")
            config = record.get("config") if isinstance(record, dict) else None
            if not isinstance(config, dict):
                raise ArchiveRefused(f"{self.label}: pipeline {entry['folder']} has no configuration")
            found[entry["folder"]] = config
        return found

    def config_needs(self) -> dict[str, list[str]]:
        """Pipeline folder -> classes its configuration would import that are not trusted.

        The engine that made the zip lists every class reference of a configuration
        (every form, every generator choice) and vets it without importing any
        untrusted module. An engine that is not installed cannot build anything,
        and one without ``untrusted_classes`` imports no classes from configurations.
        """
        from ..engines.registry import default_engine_name, get_engine
        from ..errors import InputError

        try:
            engine = get_engine(self.predict_info.get("engine") or default_engine_name())
        except InputError:
            return {}
        vet = getattr(engine, "untrusted_classes", None)
        if vet is None:
            return {}
        needs = {}
        for folder, config in self.configs().items():
            refused = list(dict.fromkeys(vet(config, trusted_types())))
            if refused:
                needs[folder] = refused
        return needs

    def require_config_trust(self, trust: bool) -> list[str]:
        """Raise TrustRequired if a configuration names an untrusted class, unless ``trust``."""
        needs = self.config_needs()
        if needs and not trust:
            folder, refused = next(iter(needs.items()))
            raise TrustRequired(config_refusal(f"{self.label} pipeline {folder}", refused))
        return [
            f"{self.label} pipeline {folder}: creating {path} because of --trust"
            for folder, refused in needs.items()
            for path in refused
        ]

    def load_steps(self, folder: str | None = None, *, trust: bool = False) -> tuple[list[Any], list[str]]:
        """The fitted objects of a pipeline in step order, and warnings about how they loaded."""
        notes: list[str] = []
        loaded: dict[str, Any] = {}
        steps = []
        for step in sorted(self.pipeline(folder)["steps"], key=lambda s: s["step"]):
            member = step["file"]
            if member not in loaded:
                try:
                    obj, more = unpack(member, self.opened.member(member), trust=trust, limits=self.limits)
                except ArchiveRefused as exc:
                    raise type(exc)(f"{self.label}: {exc}") from None
                loaded[member] = obj
                notes += more
            steps.append(loaded[member])
        return steps, notes

    def data_files(self) -> dict[str, bytes]:
        """The training data of a fullrun zip: file name (``Xcal.csv``...) -> bytes."""
        data = self.manifest.get("data") or {}
        cap = self.limits.max_total_bytes  # read to be run on: a dataset may be larger than one object
        return {Path(name).name: self.opened.member(name, cap) for name in data.get("files", [])}


def config_refusal(where: str, classes: list[str]) -> str:
    """The one-line reason a configuration needs ``--trust``."""
    shown = ", ".join(classes[:5]) + (f" and {len(classes) - 5} more" if len(classes) > 5 else "")
    return (
        f"{where}: its configuration would create {shown}, which is not a scikit-learn estimator or a "
        "nirs4all operator (importing it could run its code); refused. Pass --trust only if you trust "
        "its maker"
    )


def open_trained(source: Path | bytes, limits: ZipLimits | None = None) -> TrainedZip:
    """Check a library or export zip completely (hygiene, digests, manifest); build no object.

    Raises ArchiveRefused; writes nothing.
    """
    limits = limits or ZipLimits.from_env()
    return TrainedZip(open_zip(source, limits), limits)
