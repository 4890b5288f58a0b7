"""Crafting hostile zips from a sound library zip: each one breaks exactly one rule."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import pickle
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import skops.io as sio

from nirs4all_workspace.library.zipformat import MANIFEST_NAME, manifest_checksum

Member = tuple[str | zipfile.ZipInfo, bytes]


class WriteCanary:
    """Unpickling this writes the canary file: what a malicious pickle does."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (Path(self.path), "pwned by a pickle"))


class Sneaky:
    """A type no allow-list trusts; building it would write the canary."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __setstate__(self, state: dict[str, Any]) -> None:
        Path(state["path"]).write_text("pwned by a type")


def read(zip_path: Path) -> tuple[dict[str, Any], list[Member]]:
    with zipfile.ZipFile(zip_path) as archive:
        manifest = json.loads(archive.read(MANIFEST_NAME))
        members = [(n, archive.read(n)) for n in archive.namelist() if n != MANIFEST_NAME]
    return manifest, members


def build(
    manifest: dict[str, Any], members: list[Member], *, relist: bool = True, rechecksum: bool = True
) -> bytes:
    """A zip of ``members`` with ``manifest``; by default listing them all and a valid checksum."""
    manifest = copy.deepcopy(manifest)
    if relist:
        manifest["files"] = listing(members)
    if rechecksum:
        manifest["manifest_sha256"] = manifest_checksum(manifest)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names: that is the point
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST_NAME, json.dumps(manifest))
            for member, data in members:
                archive.writestr(member, data)
    return buffer.getvalue()


def patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size an entry declares, in its local and central headers."""
    buffer = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
        start = archive.start_dir
    struct.pack_into("<I", buffer, info.header_offset + 22, size)
    position = buffer.find(b"PK\x01\x02", start)
    while position != -1:
        length = struct.unpack_from("<H", buffer, position + 28)[0]
        if bytes(buffer[position + 46 : position + 46 + length]) == name.encode():
            struct.pack_into("<I", buffer, position + 24, size)
            return bytes(buffer)
        position = buffer.find(b"PK\x01\x02", position + 4)
    raise AssertionError(f"no central header for {name}")


def model_member(manifest: dict[str, Any]) -> str:
    """The member holding the model of the zip's default pipeline."""
    default = next(p for p in manifest["pipelines"] if p["folder"] == manifest["default_pipeline"])
    return max(default["steps"], key=lambda s: s["step"])["file"]


def replace(members: list[Member], name: str, data: bytes) -> list[Member]:
    return [(m, data if m == name else d) for m, d in members]


def hostile_zips(source: Path, canary: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (zip bytes, regex its refusal must match)."""
    manifest, members = read(source)
    model = model_member(manifest)
    zeros = b"\0" * (20 << 20)
    symlink = zipfile.ZipInfo("binaries/link")
    symlink.external_attr = (stat.S_IFLNK | 0o777) << 16
    flipped = bytearray(dict(members)[model])
    flipped[len(flipped) // 2] ^= 0xFF
    edited = copy.deepcopy(manifest)
    edited["predict"]["target"] = "something else"
    # The manifest agrees with the lie (1000 bytes): only inflating the entry can reveal it.
    lying_manifest = {
        **manifest,
        "files": [*listing(members), {"name": "data/small.bin", "size": 1000, "sha256": "0" * 64}],
    }
    lying = build(lying_manifest, [*members, ("data/small.bin", zeros)], relist=False)
    unlisted = {**manifest, "files": listing(members)}
    cases: dict[str, Callable[[], bytes]] = {
        "zip-slip": lambda: build(manifest, [*members, ("../canary.txt", b"pwned")]),
        "absolute path": lambda: build(manifest, [*members, (str(canary), b"pwned")]),
        "symlink": lambda: build(manifest, [*members, (symlink, str(canary).encode())]),
        "declared bomb": lambda: patch_declared_size(build(manifest, members), model, 0xFFFFFFF0),
        "ratio bomb": lambda: build(manifest, [*members, ("data/zeros.bin", zeros)]),
        "lying sizes": lambda: patch_declared_size(lying, "data/small.bin", 1000),
        "duplicate": lambda: build(manifest, [*members, (members[0][0], members[0][1])]),
        "unlisted": lambda: build(unlisted, [*members, ("extra.txt", b"hello")], relist=False),
        "missing member": lambda: build(manifest, [m for m in members if m[0] != model], relist=False),
        "tampered binary": lambda: build(manifest, replace(members, model, bytes(flipped)), relist=False),
        "tampered manifest": lambda: build(edited, members, relist=False, rechecksum=False),
        "pickle": lambda: build(manifest, replace(members, model, pickle.dumps(WriteCanary(canary)))),
        "untrusted type": lambda: build(manifest, replace(members, model, sio.dumps(Sneaky(str(canary))))),
        "not a zip": lambda: b"PK but not really a zip file",
        "no manifest": lambda: _without_manifest(members),
    }
    expected = {
        "zip-slip": r"has '\.\.' in its path",
        "absolute path": r"has an absolute path",
        "symlink": r"is a symbolic link",
        "declared bomb": r"declares 4294967280 bytes uncompressed, over the limit",
        "ratio bomb": r"entry 'data/zeros.bin' inflates \d+ times",
        "lying sizes": r"does not inflate to what it declares",
        "duplicate": r"appears twice",
        "unlisted": r"entry 'extra.txt' is not listed in manifest.json",
        "missing member": r"lists '.*' but the zip does not hold it",
        "tampered binary": r"does not match its SHA-256 in manifest.json",
        "tampered manifest": r"manifest.json does not match its own checksum",
        "pickle": r"is a pickle, which can run any code when loaded",
        "untrusted type": r"needs type\(s\) that are not trusted: tests\.library\.hostile\.Sneaky",
        "not a zip": r"is not a readable zip file",
        "no manifest": r"has no manifest.json",
    }
    return {name: (make(), expected[name]) for name, make in cases.items()}


def listing(members: list[Member]) -> list[dict[str, Any]]:
    return [
        {
            "name": m.filename if isinstance(m, zipfile.ZipInfo) else m,
            "size": len(d),
            "sha256": hashlib.sha256(d).hexdigest(),
        }
        for m, d in members
    ]


def _without_manifest(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members:
            archive.writestr(member, data)
    return buffer.getvalue()
