import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
_keys = st.text(max_size=6) | st.integers(min_value=-50, max_value=50)
_documents = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    | st.dictionaries(st.integers(min_value=-50, max_value=50), inner, max_size=3),
    max_leaves=25,
)


@given(_documents)
def test_the_fast_json_writer_writes_what_json_dumps_writes(document):
    """Same bytes as json.dumps(indent=2, sort_keys=True, default=str): files are unchanged."""
    from nirs4all_workspace.workspace.atomic import json_text

    assert json_text(document) == json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"


def test_the_fast_json_writer_turns_unknown_objects_into_text():
    import datetime
    from pathlib import PurePosixPath

    import numpy as np

    from nirs4all_workspace.workspace.atomic import json_text

    document = {"when": datetime.date(2026, 11, 30), "path": PurePosixPath("a/b"), "x": np.float64(0.1)}
    document["n"] = np.int64(3)
    assert json_text(document) == json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"
