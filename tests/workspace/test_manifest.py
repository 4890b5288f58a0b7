import multiprocessing
import shutil

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from nirs4all_workspace import Workspace
from nirs4all_workspace.errors import PipelineNotFound
from nirs4all_workspace.workspace.identity import config_hash
from nirs4all_workspace.workspace.manifest import manifest_yaml


def _allocate(ws, n, dataset="corn"):
    return [ws.manifests.allocate(dataset, config_hash({"i": i}), f"p{i}", "s1", "fake") for i in range(n)]


def test_numbers_start_at_one_and_follow_each_other(workspace):
    handles = _allocate(workspace, 3)
    assert [h.number for h in handles] == [1, 2, 3]
    assert handles[0].folder.startswith("0001_p0_")
    manifest = yaml.safe_load(handles[0].paths.manifest_yaml.read_text())
    assert manifest["number"] == 1 and manifest["hash"] == config_hash({"i": 0})
    assert manifest["versions"]["nirs4all_workspace"]


def test_a_deleted_number_is_never_reused(workspace):
    handles = _allocate(workspace, 3)
    shutil.rmtree(handles[2].paths.dir)
    again = _allocate(workspace, 1)[0]
    assert again.number == 4


def test_without_high_water_mark_numbering_continues_after_the_highest_folder(workspace):
    _allocate(workspace, 2)
    workspace.layout.high_water_file("corn").unlink()
    assert _allocate(workspace, 1)[0].number == 3


def test_same_config_keeps_its_short_hash(workspace):
    a = workspace.manifests.allocate("corn", config_hash({"x": 1}), "a", "s", "fake")
    b = workspace.manifests.allocate("corn", config_hash({"x": 1}), "a", "s", "fake")
    assert a.short_hash == b.short_hash and a.number != b.number


def test_colliding_short_hashes_are_lengthened(workspace):
    first = "abcdef" + "0" * 58
    second = "abcdef" + "9" * 58
    a = workspace.manifests.allocate("corn", first, None, "s", "fake")
    b = workspace.manifests.allocate("corn", second, None, "s", "fake")
    assert a.short_hash == "abcdef"
    assert b.short_hash == "abcdef99"
    # A fresh manager (another process) sees the same table.
    assert (
        Workspace(workspace.root).manifests.allocate("corn", second, None, "s", "f").short_hash == "abcdef99"
    )


def test_resolve_by_folder_number_and_hash(workspace):
    handles = _allocate(workspace, 3)
    target = handles[1]
    for ref in (target.folder, "2", "0002", target.short_hash, target.full_hash[:10]):
        assert workspace.manifests.resolve("corn", ref) == target.folder
    with pytest.raises(PipelineNotFound, match="no pipeline '99'"):
        workspace.manifests.resolve("corn", "99")
    with pytest.raises(PipelineNotFound, match="no dataset 'wheat'"):
        workspace.manifests.resolve("wheat", "1")


def _worker(root, worker, count):
    ws = Workspace(root)
    return [
        ws.manifests.allocate("shared", config_hash({"w": worker, "i": i}), None, f"w{worker}", "fake").number
        for i in range(count)
    ]


def test_parallel_processes_get_distinct_consecutive_numbers(workspace):
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        results = pool.starmap(_worker, [(str(workspace.root), w, 25) for w in range(4)])
    numbers = sorted(n for chunk in results for n in chunk)
    assert numbers == list(range(1, 101))
    assert len(workspace.manifests.list_folders("shared")) == 100


@given(
    st.dictionaries(
        st.text(alphabet="abcdefghij_", min_size=1, max_size=8),
        st.none()
        | st.integers()
        | st.text()
        | st.dictionaries(st.text(alphabet="xyz-", min_size=1), st.text()),
        max_size=6,
    )
)
def test_manifest_yaml_reads_back_with_a_yaml_parser(manifest):
    assert yaml.safe_load(manifest_yaml(manifest)) == (manifest or None)


def _reference_manifest_yaml(manifest):
    """manifest_yaml as first written (json.dumps per scalar): the bytes every manifest has."""
    import json
    import re

    not_printable = re.compile(
        "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
    )

    def scalar(value):
        if value is None:
            return "null"
        if isinstance(value, bool | int | float):
            return json.dumps(value)
        return not_printable.sub(lambda m: f"\\u{ord(m[0]):04x}", json.dumps(str(value), ensure_ascii=False))

    lines = []
    for key, value in manifest.items():
        if isinstance(value, dict) and not value:
            lines.append(f"{key}: {{}}")
        elif isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {scalar(v)}" for k, v in value.items())
        else:
            lines.append(f"{key}: {scalar(value)}")
    return "\n".join(lines) + "\n"


_awkward_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(["\x85", "\u2028", "\u2029", "\ud800", "\x7f", "\x00", "'", '"', "\\", "é", "🙂"])
    | st.sampled_from([": x", "- y", "#", "yes", "no", "~", "1e3", "0x1f", "   "])
)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        _awkward_scalars | st.dictionaries(st.text(min_size=1, max_size=5), _awkward_scalars, max_size=4),
        max_size=6,
    )
)
def test_manifest_yaml_writes_the_bytes_it_always_wrote(manifest):
    assert manifest_yaml(manifest) == _reference_manifest_yaml(manifest)


def test_manifest_yaml_scalars_of_numpy_and_int_subclasses_are_written_as_before():
    import enum

    import numpy as np

    class Level(enum.IntEnum):
        HIGH = 3

    manifest = {"a": np.float64(0.1), "b": Level.HIGH, "c": np.float64("nan"), "d": {"e": np.float64(-1e300)}}
    assert manifest_yaml(manifest) == _reference_manifest_yaml(manifest)


def test_the_high_water_mark_is_one_whole_number(workspace):
    _allocate(workspace, 12)
    text = workspace.layout.high_water_file("corn").read_text()
    assert text.strip() == "12" and text.endswith("\n")
    assert workspace.manifests.high_water("corn") == 12


def test_ctrl_c_while_allocating_leaves_no_folder_and_no_reused_number(workspace, monkeypatch):
    from nirs4all_workspace.workspace import manifest

    first = workspace.manifests.allocate("wheat", config_hash({"a": 1}), "x", "s1", "fake")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(manifest, "atomic_write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        workspace.manifests.allocate("wheat", config_hash({"a": 2}), "x", "s1", "fake")
    monkeypatch.undo()
    assert [p.name for p in (workspace.layout.root / "runs" / "wheat").glob("0*")] == [first.folder]
    assert workspace.manifests.allocate("wheat", config_hash({"a": 2}), "x", "s1", "fake").number == 3


def test_short_hashes_recorded_by_another_process_between_two_allocations_are_seen(workspace):
    first, second = "abcdef" + "0" * 58, "abcdef" + "9" * 58
    assert workspace.manifests.allocate("corn", first, None, "s", "fake").short_hash == "abcdef"
    other = Workspace(workspace.root).manifests.allocate("corn", second, None, "s", "fake")
    assert other.short_hash == "abcdef99"
    assert workspace.manifests.allocate("corn", second, None, "s", "fake").short_hash == "abcdef99"
    assert workspace.manifests.allocate("corn", first, None, "s", "fake").short_hash == "abcdef"
    lines = (workspace.layout.state_dir("corn") / "hashes.tsv").read_text().splitlines()
    assert len(lines) == 2  # each full hash recorded once


def test_allocation_locks_the_lock_file_that_is_there_now(workspace):
    """The dataset lock a manager keeps open between allocations is the current file: after the
    state folder is removed, allocation recreates it, and a holder of the new lock blocks it."""
    from nirs4all_workspace.errors import WorkspaceError
    from nirs4all_workspace.workspace.locking import FileLock

    manager = workspace.manifests
    _allocate(workspace, 2)
    manager.lock_timeout = 0.2
    lock = workspace.layout.dataset_lock("corn")
    with FileLock(lock), pytest.raises(WorkspaceError, match="could not lock"):
        manager.allocate("corn", config_hash({"x": 1}), "x", "s", "fake")
    shutil.rmtree(workspace.layout.state_dir("corn"))
    assert manager.allocate("corn", config_hash({"x": 2}), "x", "s", "fake").number == 3
    assert lock.is_file()
    with FileLock(lock), pytest.raises(WorkspaceError, match="could not lock"):
        manager.allocate("corn", config_hash({"x": 3}), "x", "s", "fake")
    assert manager.allocate("corn", config_hash({"x": 4}), "x", "s", "fake").number == 4


def test_threads_sharing_one_manager_get_distinct_consecutive_numbers(workspace):
    from concurrent.futures import ThreadPoolExecutor

    def take(i):
        return workspace.manifests.allocate("corn", config_hash({"t": i}), f"t{i}", "s", "fake").number

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(take, range(64)))
    assert sorted(numbers) == list(range(1, 65))


def _child_allocates(manager, queue):
    from nirs4all_workspace.errors import WorkspaceError

    manager.lock_timeout = 0.5
    try:
        queue.put(manager.allocate("corn", config_hash({"child": 1}), "c", "s", "fake").number)
    except WorkspaceError:
        queue.put("could not lock")


def test_a_forked_child_does_not_share_the_parents_lock(workspace):
    """flock belongs to the open file: a child locking through the descriptor it inherited would
    not be excluded while the parent holds the dataset lock through that same descriptor."""
    from nirs4all_workspace.workspace.locking import _unlock

    manager = workspace.manifests
    _allocate(workspace, 1)
    held = manager._lock_dataset(manager._files_of("corn"))  # the parent's kept descriptor
    try:
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_child_allocates, args=(manager, queue))
        child.start()
        child.join(30)
        assert queue.get(timeout=5) == "could not lock"
    finally:
        _unlock(held)
    assert _allocate(workspace, 1)[0].number == 2


def _opens_per_allocation(workspace, monkeypatch, n=5):
    """Paths ``os.open``ed by ``n`` allocations in a dataset that has had one already."""
    import os

    _allocate(workspace, 1)
    opened = []
    real_open = os.open

    def recording_open(path, *args, **kwargs):
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    for i in range(n):
        workspace.manifests.allocate("corn", config_hash({"more": i}), f"m{i}", "s1", "fake")
    monkeypatch.undo()
    return opened


def test_the_mark_and_the_hash_table_stay_open_between_allocations(workspace, monkeypatch):
    """Two opens and two closes saved per pipeline: the descriptors are kept like the lock's."""
    opened = _opens_per_allocation(workspace, monkeypatch)
    state = workspace.layout.state_dir("corn")
    assert not [p for p in opened if p.startswith(str(state)) and "claims" not in p]
    assert len([p for p in opened if p.endswith("manifest.yaml.partial") or ".manifest.yaml." in p]) == 5


def test_a_mark_removed_between_allocations_is_rebuilt_not_written_into_the_removed_file(workspace):
    _allocate(workspace, 3)
    mark = workspace.layout.high_water_file("corn")
    mark.unlink()
    assert workspace.manifests.allocate("corn", config_hash({"x": 1}), "x", "s1", "fake").number == 4
    assert mark.read_text().strip() == "4"
    assert "was missing; rebuilt as 3" in workspace.layout.run_log("corn").read_text()
    mark.write_text("41\n")  # replaced by another file (an editor, a restore): that one is read
    tmp = mark.with_name("hw.new")
    tmp.write_text("50\n")
    tmp.replace(mark)
    assert workspace.manifests.allocate("corn", config_hash({"x": 2}), "x", "s1", "fake").number == 51
    assert mark.read_text().strip() == "51"


def test_a_hash_table_replaced_between_allocations_gets_the_next_line(workspace):
    """A repair rewrites hashes.tsv by rename: the kept descriptor must follow the new file."""
    _allocate(workspace, 2)
    table = workspace.layout.state_dir("corn") / "hashes.tsv"
    kept = table.read_text()
    tmp = table.with_name("hashes.new")
    tmp.write_text(kept)
    tmp.replace(table)
    handle = workspace.manifests.allocate("corn", config_hash({"new": 1}), "n", "s1", "fake")
    lines = table.read_text().splitlines()
    assert len(lines) == 3 and lines[-1] == f"{handle.short_hash}\t{handle.full_hash}"
    table.unlink()  # removed: recreated with the next new hash
    handle = workspace.manifests.allocate("corn", config_hash({"new": 2}), "n", "s1", "fake")
    assert table.read_text() == f"{handle.short_hash}\t{handle.full_hash}\n"
