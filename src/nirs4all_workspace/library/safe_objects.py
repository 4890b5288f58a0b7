"""Fitted objects inside zips: skops files, loaded only with an explicit list of trusted types.

Joblib pickles stay in the local ``_binaries/`` (written by this machine). Zips
that travel hold skops files instead (``skops.io``): loading one builds objects
from a JSON schema and numpy arrays and refuses any type not trusted, so
opening a zip from someone else cannot run their code. Trusted are skops'
defaults (scikit-learn estimators, numpy, builtins) plus the types the
installed engines declare (:func:`trusted_types`).

An object skops cannot write falls back to a pickle; a pickle, or a skops file
needing another type, loads only with ``trust=True`` (``--trust``), and each
such load adds a warning naming the member.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import ArchiveRefused, TrustRequired
from .zipformat import ZipLimits, check_inner_zip

SKOPS = "skops"
PICKLE = "pickle"
EXTENSIONS = {SKOPS: "skops", PICKLE: "joblib"}


@cache
def trusted_types() -> tuple[str, ...]:
    """The types every installed engine declares its fitted objects are made of (``trusted_types``
    of its declaration), beyond skops' defaults. Read once per process; an engine whose
    declaration does not load adds nothing (refusing more is the safe side)."""
    from ..engines.registry import engine_entries, find_declaration

    found: dict[str, None] = {}
    for name in engine_entries():
        try:
            declaration = find_declaration(name)
            names = declaration.trusted_type_names() if declaration is not None else ()
        except Exception:  # noqa: S112 - a broken engine: nothing of it is trusted
            continue
        found.update(dict.fromkeys(str(n) for n in names))
    return tuple(found)


_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class PackedObject:
    """A fitted object as bytes for a zip, with what loading it will need."""

    data: bytes
    format: str
    untrusted: tuple[str, ...] = ()

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def pack(obj: Any) -> PackedObject:
    """Serialize ``obj`` with skops (a pickle only if skops cannot), noting untrusted types."""
    import skops.io as sio

    try:
        data = sio.dumps(obj)
    except Exception:  # skops refuses some objects (lambdas, exotic state): keep them, as a pickle
        import joblib

        buffer = io.BytesIO()
        joblib.dump(obj, buffer)
        return PackedObject(buffer.getvalue(), PICKLE, ("pickle",))
    untrusted = tuple(t for t in sio.get_untrusted_types(data=data) if t not in trusted_types())
    return PackedObject(data, SKOPS, untrusted)


def sniff(data: bytes) -> str:
    """The real format of a member from its bytes (never from what the manifest claims)."""
    if data.startswith(_ZIP_MAGIC):
        return SKOPS
    if data[:1] == b"\x80":  # pickle protocol 2 and later (joblib writes 4 or 5)
        return PICKLE
    return "unknown"


def untrusted_types(name: str, data: bytes, limits: ZipLimits) -> list[str]:
    """What loading member ``name`` would need beyond the trusted types (``["pickle"]`` for a pickle).

    Reads the skops schema only: no object is built. Raises ArchiveRefused if
    the member is neither a sound skops file nor a pickle.
    """
    kind = sniff(data)
    if kind == PICKLE:
        return ["pickle"]
    if kind != SKOPS:
        raise ArchiveRefused(f"member {name} is neither a skops file nor a pickle; refused")
    import skops.io as sio

    check_inner_zip(data, f"member {name}", limits.inner())  # what loading it would hold in memory
    try:
        found = sio.get_untrusted_types(data=data)
    except Exception as exc:  # a malformed schema: whatever skops raises, the member is refused
        problem = f"{type(exc).__name__}: {exc}"
        raise ArchiveRefused(f"member {name} is not a valid skops file ({problem}); refused") from None
    check_arrays(name, data)
    return [t for t in found if t not in trusted_types()]


def check_arrays(name: str, data: bytes) -> None:
    """Refuse a skops file whose arrays are not plain numbers (reads the ``.npy`` headers only).

    skops writes object arrays as lists, never as pickles; an ``.npy`` of object
    dtype is a pickle in disguise, which skops would refuse only when loading.
    """
    import zipfile

    from numpy.lib import format as npy

    with zipfile.ZipFile(io.BytesIO(data)) as inner:
        for info in inner.infolist():
            if not info.filename.endswith(".npy"):
                continue
            try:
                with inner.open(info) as handle:
                    version = npy.read_magic(handle)
                    reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
                    dtype = reader(handle)[2]
            except Exception as exc:  # a malformed header: whatever numpy raises, the member is refused
                raise ArchiveRefused(
                    f"member {name} holds an unreadable array {info.filename!r} ({type(exc).__name__}: "
                    f"{exc}); refused"
                ) from None
            if dtype.hasobject:
                raise ArchiveRefused(
                    f"member {name} holds a pickled object array ({info.filename!r}), which is code when "
                    "loaded and which skops never writes; refused"
                )


def refusal(name: str, needed: list[str]) -> str:
    """The one-line reason a member needs ``--trust``."""
    if needed == ["pickle"]:
        return (
            f"member {name} is a pickle, which can run any code when loaded; refused. Pass --trust "
            "only if you trust whoever made this zip"
        )
    shown = ", ".join(needed[:5]) + (f" and {len(needed) - 5} more" if len(needed) > 5 else "")
    return (
        f"member {name} needs type(s) that are not trusted: {shown}; refused. Pass --trust only if you "
        "trust whoever made this zip"
    )


def unpack(name: str, data: bytes, *, trust: bool, limits: ZipLimits) -> tuple[Any, list[str]]:
    """Load member ``name``; returns the object and warnings (untrusted loads, version notes).

    Raises :class:`TrustRequired` for a pickle or an untrusted type without
    ``trust``, :class:`ArchiveRefused` for anything that does not load.
    """
    needed = untrusted_types(name, data, limits)
    notes: list[str] = []
    if needed and not trust:
        raise TrustRequired(refusal(name, needed))
    if needed:
        what = "a pickle" if needed == ["pickle"] else f"untrusted type(s) {', '.join(needed)}"
        notes.append(f"loading member {name} with {what} because of --trust")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if needed == ["pickle"]:
                import joblib

                obj = joblib.load(io.BytesIO(data))
            else:
                import skops.io as sio

                obj = sio.loads(data, trusted=[*trusted_types(), *needed])
        except Exception as exc:  # the zip passed its checks but the object does not load
            raise ArchiveRefused(f"member {name} cannot be loaded ({type(exc).__name__}: {exc})") from None
    notes += list(dict.fromkeys(f"{name}: {w.category.__name__}: {w.message}" for w in caught))
    return obj, notes
