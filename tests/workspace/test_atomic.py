import pytest

from nirs4all_workspace.workspace.atomic import atomic_open, atomic_write_json, atomic_write_text, read_json


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as handle:
        handle.write("half of the new conte")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_json_round_trips_with_sorted_keys(tmp_path):
    target = tmp_path / "sub" / "x.json"
    atomic_write_json(target, {"b": 1, "a": [1.5, None]})
    assert read_json(target) == {"a": [1.5, None], "b": 1}
    assert target.read_text().index('"a"') < target.read_text().index('"b"')


def test_files_get_the_usual_mode_not_mkstemps_private_one(tmp_path):
    from nirs4all_workspace.workspace.atomic import FILE_MODE, atomic_write_with

    atomic_write_text(tmp_path / "a.txt", "x")
    atomic_write_with(tmp_path / "b.txt", lambda p: p.write_text("y"))
    for name in ("a.txt", "b.txt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == FILE_MODE
    assert FILE_MODE & 0o044  # group and others can read
