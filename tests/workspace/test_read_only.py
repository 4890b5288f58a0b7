"""`workspace verify` on a read-only workspace: it checks without a write lock and cannot repair."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.errors import InputError
from nirs4all_workspace.maintenance.verify import verify

FIXTURE_V1 = Path(__file__).parents[1] / "data" / "workspace_v1"


@pytest.fixture
def read_only_copy(tmp_path):
    """A copy of a small workspace seen through a read-only bind mount (root only)."""
    source, view = tmp_path / "source", tmp_path / "ro"
    shutil.copytree(FIXTURE_V1, source)
    view.mkdir()
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip("a read-only bind mount needs root and mount(8)")
    steps = [[mount, "--bind", str(source), str(view)], [mount, "-o", "remount,ro,bind", str(view)]]
    for step in steps:
        if subprocess.run(step, capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", str(view)], capture_output=True, check=False)
            pytest.skip("this system cannot make a read-only bind mount")
    try:
        with pytest.raises(OSError) as raised:
            (view / "probe").write_text("x")
        assert raised.value.errno == errno.EROFS
        yield source, view
    finally:
        subprocess.run(["umount", str(view)], capture_output=True, check=False)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nirs4all_workspace.cli", *args], capture_output=True, text=True, check=False
    )


def test_verify_checks_a_read_only_workspace_and_says_it_cannot_repair_there(read_only_copy):
    source, view = read_only_copy
    before = sorted(p.relative_to(source) for p in source.rglob("*"))
    done = _cli("workspace", "verify", "--workspace", str(view))
    assert done.returncode == 0, done.stderr
    assert "workspace is sound" in done.stdout
    assert "read-only" in done.stdout
    (source / "runs" / "tiny_nirs" / "_state" / "high_water").write_text("-5")  # seen through the mount
    found = _cli("workspace", "verify", "--workspace", str(view))
    assert found.returncode == 1 and "numbering" in found.stdout and "Traceback" not in found.stderr
    refused = _cli("workspace", "verify", "--repair", "--workspace", str(view))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "read-only" in refused.stderr
    assert sorted(p.relative_to(source) for p in source.rglob("*")) == before  # nothing written


def test_the_library_reports_read_only_and_refuses_to_repair(read_only_copy):
    _source, view = read_only_copy
    report = verify(Workspace.open(view, create=False))
    assert report.ok and report.read_only
    with pytest.raises(InputError, match="read-only"):
        verify(Workspace.open(view, create=False), repair=True)


def test_a_lock_that_cannot_be_opened_for_writing_is_read_without_it(tmp_path, monkeypatch):
    """Where no read-only mount can be made: the same path, the lock refused with EACCES."""
    root = tmp_path / "ws"
    shutil.copytree(FIXTURE_V1, root)
    from nirs4all_workspace.workspace import locking

    real_acquire = locking.FileLock.acquire

    def refused(self):
        if self.path.name == "lock":
            raise PermissionError(errno.EACCES, "Permission denied", str(self.path))
        real_acquire(self)

    monkeypatch.setattr(locking.FileLock, "acquire", refused)
    report = verify(Workspace.open(root, create=False))
    assert report.ok and report.read_only
