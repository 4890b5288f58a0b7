"""A small zip cannot take gigabytes: members are streamed, counted and only those a type needs are kept."""

import copy
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nirs4all_workspace.errors import ArchiveRefused
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.contents import open_trained
from nirs4all_workspace.library.trained import import_trained
from nirs4all_workspace.library.zipformat import MANIFEST_NAME, ZipLimits, manifest_checksum

from .hostile import build, read

MB = 1 << 20


def _peak(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    """Run the CLI in a child of a fresh Python process; its exit, output and peak RSS in MB."""
    script = (
        "import resource, subprocess, sys, json\n"
        "done = subprocess.run([sys.executable, '-m', 'nirs4all_workspace.cli', *sys.argv[1:]],"
        " capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps([done.returncode, done.stdout, done.stderr, peak]))\n"
    )
    wrapper = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        check=True,
    )
    code, out, err, peak = json.loads(wrapper.stdout)
    return subprocess.CompletedProcess(args, code, out, err), peak


def test_a_thousand_members_of_one_mib_of_zeros_are_refused_in_one_line(trained, tmp_path):
    manifest, members = read(trained.zips["fullrun"])
    zeros = b"\0" * MB  # exactly the per-entry floor: each one alone is never ratio-checked
    extra = [(f"data/zeros_{i:04d}.bin", zeros) for i in range(1000)]
    path = tmp_path / "small-but-huge.zip"
    path.write_bytes(build(manifest, members + extra))
    assert path.stat().st_size < 2 * MB
    for command in (["library", "import", str(path)], ["library", "show", str(path)]):
        done, peak = _peak([*command, "--workspace", str(tmp_path / "ws")], tmp_path)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "inflate" in lines[0] and "in total" in lines[0], lines
        assert peak < 300, f"{command[1]} peaked at {peak:.0f} MB"
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize(
    ("kind", "member"),
    [
        ("filtered", "data/Xcal.csv"),
        ("filtered", "pipelines/x/predictions.csv"),
        ("fullrun", "notes.txt"),
        ("pipeline", "binaries/spare_0123456789abcdef.skops"),
    ],
)
def test_members_a_type_does_not_need_are_refused(trained, tmp_path, kind, member):
    manifest, members = read(trained.zips[kind])
    folder = manifest["default_pipeline"]
    member = member.replace("pipelines/x/", f"pipelines/{folder}/")
    path = tmp_path / "extra.zip"
    path.write_bytes(build(manifest, [*members, (member, b"1,2,3\n")]))
    with pytest.raises(ArchiveRefused, match=rf"entry '{member}' is not needed by a {kind} zip"):
        import_trained(Workspace.open(tmp_path / "ws").layout, path)
    assert not list((tmp_path / "ws" / "library").rglob("*.zip"))


def _with_large_data(source: Path, target: Path, size_mb: int) -> None:
    """A fullrun zip whose training data holds one more file of ``size_mb`` MiB (7x compressible)."""
    manifest, members = read(source)
    block = np.random.default_rng(0).integers(0, 2, MB, dtype=np.uint8).tobytes()
    digest = hashlib.sha256()
    for _ in range(size_mb):
        digest.update(block)
    big = "data/Xbig.csv"
    manifest = copy.deepcopy(manifest)
    manifest["data"]["files"].append(big)
    listing = [{"name": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in members]
    manifest["files"] = sorted(
        [*listing, {"name": big, "size": size_mb * MB, "sha256": digest.hexdigest()}], key=str
    )
    manifest["manifest_sha256"] = manifest_checksum(manifest)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(MANIFEST_NAME, json.dumps(manifest))
        for name, data in members:
            archive.writestr(name, data)
        with archive.open(big, "w", force_zip64=True) as handle:
            for _ in range(size_mb):
                handle.write(block)


def test_a_large_member_is_streamed_not_held_in_memory(trained, tmp_path):
    path = tmp_path / "large.zip"
    _with_large_data(trained.zips["fullrun"], path, 200)
    baseline = _peak(["library", "show", str(trained.zips["fullrun"])], tmp_path)[1]
    for command in (["library", "show", str(path)], ["library", "import", str(path)]):
        done, peak = _peak([*command, "--workspace", str(tmp_path / "ws")], tmp_path)
        assert done.returncode == 0, done.stderr
        assert peak < baseline + 100, f"{command[1]} peaked at {peak:.0f} MB (a small zip: {baseline:.0f} MB)"
    imported = tmp_path / "ws" / "library" / "trained" / "fullrun" / "best-fullrun.zip"
    assert imported.stat().st_size == path.stat().st_size


def test_one_member_read_into_memory_is_bounded(trained):
    opened = open_trained(trained.zips["fullrun"])
    assert opened.load_steps()[0]
    with pytest.raises(
        ArchiveRefused, match=r"more than the 16 one member may take in memory \(NIRS4ALL_ZIP_MAX_MEMBER"
    ):
        open_trained(trained.zips["fullrun"], ZipLimits(max_member_bytes=16)).load_steps()
