"""Acceptance 3 of issue 15: delete to the trash, restore byte-identical, purge, restore from an archive."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from tests.cli.test_lifecycle_commands import sessions  # noqa: F401 - the fixture: sessions a, b; best 0005
from tests.snapshots import lost, snapshot

# run.log records each deletion and restore: history, not state.
SKIP = ("run.log",)


def _state(cli, root):
    """What must come back: every file of runs/ (sha256), `catalog best` and the best files."""
    best = cli.json("catalog", "best", "fake")
    return (
        snapshot(root / "runs", skip=SKIP),
        {k: best[k] for k in ("pipeline_folder", "pipeline_number", "prediction_id")},
        sorted(p.name for p in (root / "runs" / "fake").glob("best_*.csv")),
    )


def _verify_clean(cli):
    status, out, _ = cli("workspace", "verify")
    assert status == 0 and "workspace is sound" in out, out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("delete", "restore", "moved"),
    [
        (["fake/12"], ["fake/12"], 1),  # one pipeline
        (["fake", "--session", "a"], ["fake", "--session", "a"], 10),  # the best pipeline's session
        (["fake"], ["fake"], 20),  # the whole dataset
    ],
)
def test_delete_then_restore_gives_back_every_byte(sessions, cli, delete, restore, moved):  # noqa: F811
    before = _state(cli, sessions)
    status, out, err = cli("runs", "delete", *delete, "--yes")
    assert status == 0, err
    assert f"deleted {moved} pipelines (moved to the trash" in " ".join(out.split())
    live = [p for p in (sessions / "runs" / "fake").iterdir() if p.name[0].isdigit()]
    assert len(live) == 20 - moved
    if moved > 1:  # the best was among them: chosen again among what remains, or none
        assert not (sessions / "runs" / "fake" / before[2][0]).exists()
    _verify_clean(cli)
    status, out, err = cli("runs", "restore", *restore)
    assert status == 0, err
    assert f"restored {moved} pipelines of fake from the trash" in out
    after = _state(cli, sessions)
    assert lost(before[0], after[0]) == [] and set(after[0]) == set(before[0])
    assert after == before
    assert not any((sessions / "runs" / "fake" / "_trash").iterdir())
    _verify_clean(cli)


@pytest.mark.slow
def test_purged_pipelines_are_refused_in_one_line(sessions, cli):  # noqa: F811
    assert cli("runs", "delete", "fake", "--session", "b", "--yes")[0] == 0
    status, out, _ = cli("workspace", "purge", "--dry-run")
    assert status == 0 and "would purge 10 pipelines" in out
    status, _, err = cli("workspace", "purge")
    assert status == 2 and "pass --yes" in err  # destructive: asks, and refuses without a terminal
    status, out, err = cli("workspace", "purge", "--yes", "--min-age", "0")
    assert status == 0 and "purged 10 pipelines" in out, err
    for args in (["fake", "--session", "b"], ["fake/15"]):
        status, _, err = cli("runs", "restore", *args)
        assert status == 2 and len(err.strip().splitlines()) == 1
        assert "purged on 20" in err and "cannot be restored" in err
    _verify_clean(cli)
    # Numbers are never reused, the trash's purged or not.
    assert cli("run", "--engine", "fake", "--pipeline", str(sessions.parent / "grid.yaml"), "--session", "c",
               "--plots", "none")[0] == 0
    numbers = sorted(int(p.name[:4]) for p in (sessions / "runs" / "fake").iterdir() if p.name[0].isdigit())
    assert numbers == list(range(1, 11)) + list(range(21, 31))


@pytest.mark.slow
def test_restore_from_an_archive_gives_back_every_byte(sessions, cli):  # noqa: F811
    before = _state(cli, sessions)
    archive = _archive(cli, sessions, "a")
    status, out, err = cli("runs", "restore", "--from-archive", str(archive))
    assert status == 0 and "restored 10 pipelines of fake" in out, err
    after = _state(cli, sessions)
    assert lost(before[0], after[0]) == [] and set(after[0]) == set(before[0])
    assert after == before
    _verify_clean(cli)
    # The same archive again: everything is in place already; nothing changes.
    status, out, _ = cli("runs", "restore", "--from-archive", archive.name)
    assert status == 0 and "already in place" in out
    assert _state(cli, sessions) == before


@pytest.mark.slow
def test_an_archive_colliding_or_unsafe_is_refused(sessions, cli, tmp_path):  # noqa: F811
    archive = _archive(cli, sessions, "b")
    run = ("run", "--engine", "fake", "--pipeline", str(sessions.parent / "grid.yaml"), "--plots", "none")
    assert cli(*run, "--session", "c")[0] == 0  # numbers 21-30: no collision with 11-20
    # A folder that takes number 11 by hand: the archive's 0011 collides.
    taken = sessions / "runs" / "fake" / "0011_other_abcdef"
    taken.mkdir()
    before = snapshot(sessions / "runs")
    status, _, err = cli("runs", "restore", "--from-archive", str(archive))
    assert status == 2 and "already has pipeline 0011_other_abcdef" in err
    assert len(err.strip().splitlines()) == 1 and snapshot(sessions / "runs") == before
    taken.rmdir()
    for bad, why in ((_with_member(archive, "../escape.txt"), "not a plain relative path"),
                     (_with_link(archive), "link"),
                     (_tampered(archive), "does not match its manifest")):
        status, _, err = cli("runs", "restore", "--from-archive", str(bad))
        assert status == 2 and why in err and len(err.strip().splitlines()) == 1, err
        assert snapshot(sessions / "runs") == before
    status, _, err = cli("runs", "restore", "--from-archive", str(tmp_path / "nothing.tar.gz"))
    assert status == 2 and "no archive" in err


def _archive(cli, root, session):
    status, _, err = cli("runs", "archive", "fake", "--session", session, "--yes")
    assert status == 0, err
    [archive] = (root / "catalog" / "archives" / "runs").glob(f"fake_{session}_*.tar.gz")
    return archive


def _copy_with(archive, extra, tweak=None):
    target = archive.parents[3] / f"crafted_{len(list(archive.parents[3].glob('crafted_*')))}.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as out:
        for member in source:
            data = source.extractfile(member).read()
            if tweak:
                data = tweak(member.name, data)
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
        for info, data in extra:
            out.addfile(info, io.BytesIO(data) if data is not None else None)
    return target


def _with_member(archive, name):
    info = tarfile.TarInfo(name)
    info.size = 2
    return _copy_with(archive, [(info, b"hi")])


def _with_link(archive):
    info = tarfile.TarInfo("fake/_binaries/link")
    info.type = tarfile.SYMTYPE
    info.linkname = "/etc/passwd"
    return _copy_with(archive, [(info, None)])


def _tampered(archive):
    def tweak(name, data):
        return data.replace(b"0", b"1", 1) if name.endswith("metrics.json") else data

    return _copy_with(archive, [], tweak)


def test_delete_of_a_session_that_does_not_exist_names_the_sessions(sessions, cli):  # noqa: F811
    status, _, err = cli("runs", "delete", "fake", "--session", "nosuch", "--yes")
    assert status == 2 and "has no session 'nosuch'; sessions: a, b" in err
    assert len(err.strip().splitlines()) == 1


def test_du_shows_the_trash_and_gc_keeps_its_binaries(sessions, cli):  # noqa: F811
    assert cli("runs", "delete", "fake", "--session", "b", "--yes")[0] == 0
    usage = cli.json("workspace", "du")
    assert usage["kinds"]["trash"] > 0 and usage["datasets"][0]["trash"] == usage["kinds"]["trash"]
    status, out, _ = cli("workspace", "du")
    assert status == 0 and "trash" in out
    binaries = snapshot(sessions / "runs" / "fake" / "_binaries")
    report = cli.json("workspace", "gc", "--yes", "--min-age", "0")
    assert report["counts"]["binary"] == 0  # the trashed pipelines still reference them
    assert snapshot(sessions / "runs" / "fake" / "_binaries") == binaries
    flagged = cli.json("catalog", "query", "SELECT DISTINCT pipeline_number FROM predictions WHERE trashed")
    assert sorted(r["pipeline_number"] for r in flagged) == list(range(11, 21))
    ranked = cli.json("catalog", "list", "--dataset", "fake", "--top", "100")
    assert ranked and all(r["pipeline_number"] <= 10 for r in ranked)
    assert json.loads(json.dumps(ranked))  # plain JSON


def test_show_of_a_trashed_pipeline_says_where_it_is(sessions, cli):  # noqa: F811
    assert cli("runs", "delete", "fake/12", "--yes")[0] == 0
    status, _, err = cli("runs", "show", "fake/12")
    assert status == 2 and "is in the trash" in err and "nirs4all runs restore fake/0012_" in err
