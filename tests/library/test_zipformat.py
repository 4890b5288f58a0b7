import io
import json
import zipfile
from pathlib import Path

import pytest

from nirs4all_workspace.errors import ArchiveRefused
from nirs4all_workspace.library.zipformat import (
    FORMAT_NAME,
    MANIFEST_NAME,
    ZipBuilder,
    ZipLimits,
    manifest_checksum,
    name_problem,
    open_zip,
    read_manifest,
)


def _zip(files: dict[str, bytes], **manifest) -> bytes:
    builder = ZipBuilder()
    for name, data in files.items():
        builder.add(name, data)
    return builder.build({"format": FORMAT_NAME, "format_version": 1, **manifest})


def test_a_built_zip_reads_back_whole_with_its_manifest_first():
    data = _zip({"b/two.txt": b"2" * 100, "a.txt": b"one"}, type="filtered")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [MANIFEST_NAME, "a.txt", "b/two.txt"]
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
    opened = open_zip(data)
    assert opened.members == {"a.txt": b"one", "b/two.txt": b"2" * 100}
    assert [f["name"] for f in opened.manifest["files"]] == ["a.txt", "b/two.txt"]
    assert opened.manifest["manifest_sha256"] == manifest_checksum(opened.manifest)
    assert opened.source == data and read_manifest(data)["type"] == "filtered"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty name"),
        ("/etc/passwd", "absolute path"),
        ("C:/windows/x", "absolute path"),
        ("\\\\server\\share", "absolute path"),
        ("a\\b", "backslash"),
        ("a/../../b", "'..'"),
        ("..", "'..'"),
        ("a//b", "empty or '.'"),
        ("./a", "empty or '.'"),
        ("a\x00b", "control character"),
        ("folder/", "folder entry"),
        ("x" * 300, "longer than 255"),
    ],
)
def test_unsafe_member_names(name, problem):
    assert problem in name_problem(name)


def test_safe_member_names():
    for name in (
        "manifest.json",
        "pipelines/0001_pls-2_abc123/pipeline.json",
        "binaries/SNV_0123.skops",
        "a.b",
    ):
        assert name_problem(name) is None


def test_the_builder_refuses_what_the_reader_would():
    builder = ZipBuilder()
    with pytest.raises(ValueError, match="absolute"):
        builder.add("/x", b"")
    with pytest.raises(ValueError, match="reserved"):
        builder.add(MANIFEST_NAME, b"{}")
    builder.add("a", b"1")
    builder.add("a", b"1")  # the same bytes again: fine (shared objects)
    with pytest.raises(ValueError, match="different content"):
        builder.add("a", b"2")


def test_format_and_version_are_checked():
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr(MANIFEST_NAME, json.dumps({"format": "something-else"}))
    with pytest.raises(ArchiveRefused, match="not a nirs4all library manifest"):
        open_zip(other.getvalue())
    with pytest.raises(ArchiveRefused, match="newer than this tool's 1; upgrade"):
        open_zip(_zip({"a": b"1"}, format_version=2))
    with pytest.raises(ArchiveRefused, match="does not exist"):
        open_zip(Path("/nonexistent/model.zip"))


def test_limits_apply_to_declared_sizes_and_counts():
    data = _zip({f"f{i}.txt": b"x" * 10 for i in range(5)})
    with pytest.raises(ArchiveRefused, match="has 6 entries, more than the limit of 3"):
        open_zip(data, ZipLimits(max_entries=3))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        total = sum(info.file_size for info in archive.infolist())
    with pytest.raises(ArchiveRefused, match=f"declares {total} bytes uncompressed in total"):
        open_zip(data, ZipLimits(max_total_bytes=total - 1))
    assert open_zip(data, ZipLimits(max_entries=6)).members["f4.txt"] == b"x" * 10
