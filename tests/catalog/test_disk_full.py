"""A full disk during compaction, rebuild or repair: one line, exit 1, nothing lost (a real tmpfs)."""

from __future__ import annotations

import shutil

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.cli import main
from nirs4all_workspace.experiment import run_experiment
from tests.fakes import FakeDataset, FakeEngine
from tests.snapshots import lost, snapshot
from tests.tmpfs import small_tmpfs


@pytest.fixture
def full_disk(tmp_path):
    """A workspace on a small tmpfs with a run in it; call ``fill()`` to take every free byte."""
    with small_tmpfs(tmp_path / "small", "4m") as mount:
        yield from _filled(mount)


def _filled(mount):
    """Yield the ``fill`` function of a workspace with a run in it, on the mounted ``mount``."""
    root = mount / "ws"
    ws = Workspace.open(root)
    config = {"scales": [0.5, 0.8, 1.0, 1.2], "offsets": [0.0, 0.5]}
    run_experiment(ws, FakeEngine(), FakeDataset(y=list(range(400))), config, session="s", plots="none")
    filler = mount / "filler"

    def fill() -> None:
        try:
            with filler.open("wb") as handle:
                while True:
                    handle.write(b"\0" * 65536)
        except OSError:
            pass  # full

    fill.root = root
    fill.free = lambda: filler.unlink(missing_ok=True)
    yield fill


@pytest.mark.parametrize(
    "args",
    [("catalog", "compact", "--full"), ("catalog", "rebuild", "--yes"), ("workspace", "verify", "--repair")],
)
def test_a_full_disk_is_one_line_and_loses_nothing(full_disk, capsys, args):
    root = full_disk.root
    layout = Workspace.open(root).layout
    if args[0] == "workspace":  # something to repair: every row twice (a copied fragment pair)
        fragments = layout.catalog_fragments_dir
        for path in sorted(fragments.iterdir()):
            shutil.copy(path, fragments / ("0" + path.name))
    before = snapshot(root)
    full_disk()
    status = main([*args, "--workspace", str(root)])
    out, err = capsys.readouterr()
    assert status == 1, out + err
    assert "Traceback" not in out + err
    if args[0] == "workspace":  # the report names the repair that failed, and why
        assert "repair failed: [Errno 28] No space left on device" in out, out
    else:
        assert "No space left on device" in err and len(err.strip().splitlines()) == 1, out + err
    assert lost(before, snapshot(root)) == []
    full_disk.free()
    assert main(["workspace", "verify", "--repair", "--workspace", str(root)]) == 0
    assert main(["workspace", "verify", "--workspace", str(root)]) == 0
