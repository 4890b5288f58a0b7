"""Bad input and damaged files: one clear line, a non-zero status, and nothing stored is lost."""

import errno
import os

import pytest

from nirs4all_workspace.workspace import atomic
from tests.snapshots import lost, snapshot
from tests.tmpfs import small_tmpfs

GRID_YAML = "scales: [0.5, 1.0, 2.0]\nfail_on: [2.0]\n"


@pytest.fixture
def ran(cli, fake_registered, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID_YAML)
    status, _, err = cli(
        "run", "--engine", "fake", "--pipeline", str(grid), "--session", "s", "--plots", "none"
    )
    assert status == 0, err
    return cli.root


def _fails_cleanly(cli, root, args, status, message, skip=()):
    before = snapshot(root, skip=skip)
    code, _out, err = cli(*args)
    assert code == status, err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert lost(before, snapshot(root, skip=skip)) == []


@pytest.mark.parametrize("name", ["..", "../fake", "a/b", "nul\x00byte", "CON", "_state", " fake"])
@pytest.mark.parametrize("command", [("runs", "delete"), ("runs", "archive"), ("catalog", "archive")])
def test_unsafe_dataset_names_are_refused(ran, cli, name, command):
    target = f"{name}/1" if command == ("catalog", "archive") else name
    code, _out, err = cli(*command, target, "--yes")
    assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert lost(snapshot(ran), snapshot(ran)) == []
    _fails_cleanly(cli, ran, (*command, target, "--yes"), 2, "error:")


def test_a_folder_where_a_file_should_be(ran, cli):
    paths = ran / "runs" / "fake"
    predictions = next(paths.glob("0002_*")) / "predictions.csv"
    predictions.unlink()
    predictions.mkdir()
    _fails_cleanly(
        cli, ran, ("catalog", "archive", "fake/2"), 1, "predictions.csv is missing or not a regular file"
    )
    pipeline_json = next(paths.glob("0001_*")) / "pipeline.json"
    pipeline_json.unlink()
    pipeline_json.mkdir()
    _fails_cleanly(cli, ran, ("runs", "show", "fake/1"), 1, "Is a directory")
    # runs list counts listed pipelines from the catalog without reading each pipeline.json
    # (100,000 folders, docs/benchmarks.md): it still answers; verify reports the folder.
    assert cli("runs", "list")[0] == 0
    before = snapshot(ran)
    code, out, _ = cli("workspace", "verify", "--repair")
    assert code == 1 and "unreadable-file" in out
    assert lost(before, snapshot(ran)) == []
    report = cli.json("workspace", "verify", "--repair")
    # The best (0002) cannot be chosen again while its predictions.csv is a folder: said, not hidden.
    assert {p["check"] for p in report["remaining"]} == {"unreadable-file", "best"}
    best = [p for p in report["problems"] if p["check"] == "best"]
    assert best and all("repair failed" in p["action"] and "Is a directory" in p["action"] for p in best)


def test_a_corrupt_parquet_fragment(ran, cli):
    fragment = next((ran / "catalog" / "_fragments").glob("*.meta.parquet"))
    fragment.write_bytes(b"PAR1 not really PAR1")
    _fails_cleanly(cli, ran, ("catalog", "list"), 1, "catalog")
    before = snapshot(ran)
    code, out, _ = cli("workspace", "verify")
    assert code == 1 and "corrupt-parquet" in out
    assert snapshot(ran) == before
    code, out, _ = cli("workspace", "verify", "--repair")
    assert code == 0 and "corrupt-parquet" in out
    quarantined = {
        p.name.split("_", 1)[1]: p.read_bytes() for p in (ran / "catalog" / "_quarantine").iterdir()
    }
    assert quarantined[fragment.name] == b"PAR1 not really PAR1"  # kept aside, not deleted
    assert lost(before, snapshot(ran)) == sorted(
        f"catalog/_fragments/{fragment.name.replace('.meta.', s)}" for s in (".data.", ".meta.")
    )
    assert cli("catalog", "list")[0] == 0


def test_a_truncated_pipeline_json(ran, cli):
    pipeline_json = next((ran / "runs" / "fake").glob("0001_*")) / "pipeline.json"
    text = pipeline_json.read_text()
    pipeline_json.write_text(text[:40])
    _fails_cleanly(cli, ran, ("catalog", "archive", "fake/1"), 1, "is corrupt")
    code, out, _ = cli("workspace", "verify")
    assert code == 1 and "corrupt-file" in out
    assert cli("workspace", "verify", "--repair")[0] == 0
    assert (pipeline_json.parent / "pipeline.json.corrupt").read_text() == text[:40]


def _disk_full(monkeypatch):
    def no_space(target):  # every atomic write starts by creating its temporary
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(atomic, "_temporary", no_space)


def test_a_full_disk_loses_nothing(ran, cli, monkeypatch):
    _disk_full(monkeypatch)
    _fails_cleanly(cli, ran, ("catalog", "archive", "fake/2"), 1, "No space left on device")
    _fails_cleanly(cli, ran, ("runs", "archive", "fake", "--yes"), 1, "No space left on device")
    assert len(list((ran / "runs" / "fake").glob("000*"))) == 3
    monkeypatch.undo()
    assert cli("workspace", "verify")[0] == 0
    assert cli("catalog", "archive", "fake/2")[0] == 0


def test_a_real_full_disk_loses_nothing(cli, fake_registered, tmp_path):
    with small_tmpfs(tmp_path / "small", "2m") as mount:
        root = mount / "ws"
        status, _, err = cli(
            "run",
            "--engine",
            "fake",
            "--session",
            "s",
            "--plots",
            "none",
            "--workspace",
            str(root),
            workspace=False,
        )
        assert status == 0, err
        filler = mount / "filler"
        with filler.open("wb") as handle:  # take every free byte
            try:
                while True:
                    handle.write(b"\0" * 65536)
            except OSError:
                pass
        before = snapshot(root)
        status, _, err = cli("catalog", "archive", "fake/1", "--workspace", str(root), workspace=False)
        assert status == 1 and "No space left on device" in err and len(err.strip().splitlines()) == 1
        assert lost(before, snapshot(root)) == []
        filler.unlink()
        assert cli("workspace", "verify", "--workspace", str(root), workspace=False)[0] == 0
