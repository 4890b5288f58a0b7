"""Numbers are never reused, whatever happened to the high-water mark or to the locks."""

from __future__ import annotations

import contextlib
import multiprocessing
import shutil
from pathlib import Path

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.maintenance.retention import delete_pipelines, plan_deletion
from nirs4all_workspace.maintenance.verify import verify
from nirs4all_workspace.workspace.numbering import known_numbers
from tests.conftest import LIFECYCLE_GRID
from tests.fakes import FakeDataset, FakeEngine

FIXTURE_V1 = Path(__file__).parents[1] / "data" / "workspace_v1"


def _run_numbers(ws: Workspace, session: str) -> list[int]:
    report = run_experiment(ws, FakeEngine(), FakeDataset(), LIFECYCLE_GRID, session=session, plots="none")
    return [s.handle.number for s in report.saved]


def test_a_lost_mark_is_rebuilt_from_the_catalog_after_the_last_session_was_deleted(filled):
    delete_pipelines(filled, plan_deletion(filled, "fake", session="b"), force=True)
    assert max(f.number for f in filled.manifests.list_folders("fake")) == 10  # 11-20: catalog only
    filled.layout.high_water_file("fake").unlink()
    ws = Workspace(filled.root)  # a new process
    assert _run_numbers(ws, "c") == list(range(21, 31))
    log = filled.layout.run_log("fake").read_text()
    assert "was missing; rebuilt as 20" in log and "catalog 20" in log


@pytest.mark.parametrize("mark", ["-5", "12abc", "1" * 25, str(10**12), "", "\x00\x00"])
def test_an_absurd_mark_is_rebuilt_and_said_so(filled, mark):
    filled.layout.high_water_file("fake").write_text(mark)
    ws = Workspace(filled.root)
    assert _run_numbers(ws, "c") == list(range(21, 31))
    names = [f.name for f in ws.layout.dataset_dir("fake").iterdir()]
    assert sum(name.startswith("0021_") for name in names) == 1
    assert "absurd" in filled.layout.run_log("fake").read_text()
    assert ws.manifests.high_water("fake") == 30


def test_a_large_but_plausible_mark_is_kept(filled):
    filled.layout.high_water_file("fake").write_text("1000010\n")  # within a million of what is known
    assert _run_numbers(Workspace(filled.root), "c")[0] == 1000011


def test_a_number_only_a_trash_folder_remembers_is_not_reused(filled):
    last = filled.manifests.list_folders("fake")[-1]
    filled.layout.pipeline("fake", last.folder).dir.rename(filled.layout.trash_dir("fake", "x1"))
    shutil.rmtree(filled.root / "catalog")
    shutil.rmtree(filled.root / "exports")
    filled.layout.high_water_file("fake").unlink()
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(filled.layout.state_dir("fake") / "claims")
    filled.layout.best_state_file("fake").unlink()
    assert known_numbers(filled.layout, "fake") == {"folders": 19, "trash": 20}
    assert _run_numbers(Workspace(filled.root), "c")[0] == 21


def test_every_place_that_remembers_a_number_is_read(tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(FIXTURE_V1, root)
    layout = Workspace(root).layout
    # Folders 5-8; 1-4 archived by 'runs archive'; 8 in a pipeline archive; 4 in the library and exports.
    assert known_numbers(layout, "tiny_nirs") == {
        "archives": 8,
        "best.json": 8,
        "catalog": 8,
        "exports": 4,
        "folders": 8,
        "library": 4,
    }
    for folder in layout.dataset_dir("tiny_nirs").glob("000*"):
        shutil.rmtree(folder)
    shutil.rmtree(root / "catalog" / "_fragments")
    layout.best_state_file("tiny_nirs").unlink()
    assert known_numbers(layout, "tiny_nirs") == {"archives": 8, "exports": 4, "library": 4}


@pytest.mark.parametrize("mark", ["-5", "1" * 25, str(10**12), "x"])
def test_verify_reports_an_absurd_mark_and_repair_rebuilds_it(filled, mark):
    filled.layout.high_water_file("fake").write_text(mark)
    report = verify(filled, repair=True)
    assert any(p.check == "numbering" for p in report.problems)
    assert report.remaining == []
    assert filled.manifests.high_water("fake") == 20


# -- without working locks -------------------------------------------------------------

ALLOCATIONS = 100
PROCESSES = 4


class _NoLock:
    """A lock that does nothing, as flock on some NFS mounts."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __enter__(self) -> _NoLock:
        return self

    def __exit__(self, *exc) -> None:
        return None


def _allocate_without_lock(root: str, worker: int, barrier, results) -> None:
    from nirs4all_workspace.workspace import manifest

    manifest.FileLock = _NoLock  # this process only
    ws = Workspace(root)
    barrier.wait()
    numbers = []
    for i in range(ALLOCATIONS):
        full_hash = f"{worker:02x}{i:04x}".ljust(64, "0")
        numbers.append(ws.manifests.allocate("shared", full_hash, f"w{worker}", "s", "fake").number)
    results.put(numbers)


def test_four_processes_allocating_without_a_working_lock_get_distinct_numbers(tmp_path):
    root = tmp_path / "ws"
    Workspace.open(root)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=_allocate_without_lock, args=(str(root), w, barrier, results))
        for w in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    numbers = [n for _ in processes for n in results.get(timeout=60)]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    total = PROCESSES * ALLOCATIONS
    assert len(set(numbers)) == total  # all distinct
    assert sorted(numbers) == list(range(1, total + 1))  # and no gap: no process crashed
    ws = Workspace(root)
    assert [f.number for f in ws.manifests.list_folders("shared")] == list(range(1, total + 1))
    checks = {p.check for p in verify(ws).problems}
    assert checks == {"incomplete-pipeline"}  # allocated only: no numbering problem


# -- claims ----------------------------------------------------------------------------


def _claims(ws: Workspace, dataset: str) -> list[Path]:
    folder = ws.layout.state_dir(dataset) / "claims"
    return sorted((p for p in folder.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))


def _allocate_n(ws: Workspace, n: int, dataset: str = "corn") -> list[int]:
    return [
        ws.manifests.allocate(dataset, f"{i:04x}".ljust(64, "a"), "p", "s", "fake").number for i in range(n)
    ]


def test_claims_are_links_to_one_file_not_a_new_file_each(workspace):
    """A hard link adds a name, not an inode: cheaper than a create, and 100,000 claims use
    one inode instead of 100,000; the exclusive link is as much a claim as an exclusive create."""
    assert _allocate_n(workspace, 5) == [1, 2, 3, 4, 5]
    claims = _claims(workspace, "corn")
    assert [p.name for p in claims] == ["1", "2", "3", "4", "5"]
    assert len({p.stat().st_ino for p in claims}) == 1
    assert claims[0].stat().st_nlink == 6  # the five claims and the file they link to
    assert known_numbers(workspace.layout, "corn")["claims"] == 5


def test_a_taken_claim_makes_the_allocation_move_on(workspace):
    from nirs4all_workspace.workspace.numbering import claim_in

    _allocate_n(workspace, 2)
    folder = str(workspace.layout.state_dir("corn") / "claims")
    assert claim_in(folder, 4) is True  # another process took 4 (and raised no mark)
    assert claim_in(folder, 4) is False
    assert _allocate_n(workspace, 2) == [3, 5]


def test_claims_are_created_as_files_where_hard_links_fail(workspace, monkeypatch):
    import errno
    import os

    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    assert _allocate_n(workspace, 3) == [1, 2, 3]
    assert [p.name for p in _claims(workspace, "corn")] == ["1", "2", "3"]
    monkeypatch.undo()
    assert _allocate_n(workspace, 1) == [4]


def test_a_full_claim_file_is_replaced_by_a_new_one(workspace, monkeypatch):
    """A file has a maximum number of links (65,000 on ext4, 1,023 on NTFS)."""
    import errno
    import os

    _allocate_n(workspace, 2)
    real_link = os.link
    full = {p.stat().st_ino for p in _claims(workspace, "corn")}

    def limited_link(src, dst, *args, **kwargs):
        if Path(src).stat().st_ino in full:
            raise OSError(errno.EMLINK, "Too many links")
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", limited_link)
    assert _allocate_n(workspace, 3) == [3, 4, 5]
    claims = _claims(workspace, "corn")
    assert [p.name for p in claims] == ["1", "2", "3", "4", "5"]
    assert len({p.stat().st_ino for p in claims[2:]}) == 1
    assert claims[2].stat().st_ino not in full
