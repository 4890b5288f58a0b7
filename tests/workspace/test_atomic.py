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
