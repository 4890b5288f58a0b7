import pytest

from nirs4all_workspace.cli import prompts
from tests.snapshots import lost, snapshot

GRID_YAML = """
scales: [0.5, 0.8, 1.0, 1.3, 2.0]
offsets: [0.0, 0.5]
fail_on: [2.0]
"""


@pytest.fixture
def sessions(cli, fake_registered, tmp_path):
    """Sessions a (pipelines 1-10) and b (11-20) of dataset fake; the best is 0005."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID_YAML)
    for session in ("a", "b"):
        status, _, err = cli(
            "run", "--engine", "fake", "--pipeline", str(grid), "--session", session, "--plots", "none"
        )
        assert status == 0, err
    return cli.root


def _pipelines(root):
    return sorted(p.name for p in (root / "runs" / "fake").iterdir() if p.name[:1].isdigit())


def _count(cli):
    tables = ("predictions", "folds")  # every row: per pipeline and partition, and per fold
    return sum(cli.json("catalog", "query", f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables)


def test_delete_dry_run_changes_nothing(sessions, cli):
    before = snapshot(sessions)
    status, out, _ = cli("runs", "delete", "fake", "--session", "b", "--dry-run")
    assert status == 0 and "would delete: 10 pipelines" in out and "nothing was deleted" in out
    assert snapshot(sessions) == before


def test_deleting_the_best_moves_it_to_the_trash_with_its_rows_kept(sessions, cli):
    rows = _count(cli)
    status, out, err = cli("runs", "delete", "fake", "--session", "a", "--yes")
    assert status == 0, err
    assert "deleted 10 pipelines" in out and "catalog rows are kept" in out and "best is now 0015" in out
    assert [int(p[:4]) for p in _pipelines(sessions)] == list(range(11, 21))
    assert _count(cli) == rows
    flagged = cli.json("catalog", "query", "SELECT DISTINCT pipeline_number FROM predictions WHERE trashed")
    assert sorted(r["pipeline_number"] for r in flagged) == list(range(1, 11))
    assert cli.json("catalog", "best", "fake")["pipeline_folder"].startswith("0015")
    status, out, _ = cli("runs", "delete", "fake", "--yes", "--force")  # --force: accepted, not needed
    assert status == 0 and _pipelines(sessions) == []


def test_gc_says_what_it_spares_and_until_when(sessions, cli):
    status, out, err = cli("runs", "archive", "fake", "--dry-run")  # b shares a's binaries: both
    assert status == 0, err
    text = " ".join(out.split())
    assert "used only by these pipelines" in text and "collectable from" in text and "--min-age 0" in text
    status, out, err = cli("runs", "archive", "fake", "--yes")
    assert status == 0, err
    text = " ".join(out.split())
    assert "kept 10 minutes in case a run reuses them, collectable from" in text
    status, out, _ = cli("workspace", "gc", "--dry-run")
    text = " ".join(out.split())
    assert status == 0 and "spared" in text and "younger than 10 minutes" in text and "UTC" in text
    report = cli.json("workspace", "gc", "--yes", "--min-age", "0")
    assert report["counts"]["binary"] > 0 and report["spared"]["files"] == 0


def test_destructive_commands_ask_and_refuse_without_a_terminal(sessions, cli):
    (sessions / "runs" / "fake" / "_trash_x").mkdir()  # something for gc to remove
    before = snapshot(sessions)
    for args in (
        ("runs", "delete", "fake", "--force"),
        ("runs", "archive", "fake"),
        ("workspace", "gc"),
        ("catalog", "rebuild"),
    ):
        status, _, err = cli(*args)
        assert status == 2, args
        assert "pass --yes" in err and len(err.strip().splitlines()) == 1
    assert snapshot(sessions) == before


def test_a_person_is_asked_before_deleting(sessions, cli, monkeypatch):
    answers = iter([False, True])
    monkeypatch.setattr(prompts, "can_ask", lambda: True)
    monkeypatch.setattr(prompts.typer, "confirm", lambda question, default: next(answers))
    status, _, err = cli("runs", "delete", "fake", "--session", "b")
    assert status == 130 and "aborted" in err
    assert len(_pipelines(sessions)) == 20
    status, _, _ = cli("runs", "delete", "fake", "--session", "b")
    assert status == 0 and len(_pipelines(sessions)) == 10


def test_runs_archive_then_list_shows_the_dataset_archived(sessions, cli):
    status, out, err = cli("runs", "archive", "fake", "--session", "b", "--yes")
    assert status == 0, err
    assert "verified" in out and "catalog/archives/runs/fake_b_" in out.replace("\n", "")
    assert [int(p[:4]) for p in _pipelines(sessions)] == list(range(1, 11))
    listing = cli.json("runs", "list")
    assert listing[0]["archived"] is True and listing[0]["pipelines"] == 10
    status, out, _ = cli("runs", "list")
    assert status == 0 and "archived?" in out and "yes" in out


def test_verify_exit_status_follows_the_problems(sessions, cli):
    status, out, _ = cli("workspace", "verify")
    assert status == 0 and "workspace is sound" in out
    binary = next((sessions / "runs" / "fake" / "_binaries").glob("Affine_*"))
    original = binary.read_bytes()
    binary.write_bytes(original + b"!")
    (sessions / "runs" / "fake" / ".run.log.abc.partial").write_text("x")
    report = cli.json("workspace", "verify")
    assert report["ok"] is False and {p["check"] for p in report["problems"]} == {
        "binary-digest",
        "stray-temporary",
    }
    status, out, _ = cli("workspace", "verify", "--repair")
    assert status == 1 and "1 problems remain" in out and "binary-digest" in out
    binary.write_bytes(original)
    status, _, _ = cli("workspace", "verify", "--repair")
    assert status == 0


def test_gc_du_and_rebuild(sessions, cli):
    rows = _count(cli)
    cli("catalog", "compact")
    (sessions / "runs" / "fake" / "_trash_x").mkdir()
    status, out, _ = cli("workspace", "gc", "--dry-run")
    assert status == 0 and "would free" in out and (sessions / "runs" / "fake" / "_trash_x").exists()
    report = cli.json("workspace", "gc", "--yes", "--min-age", "0s")
    assert report["counts"]["trash"] == 1 and not (sessions / "runs" / "fake" / "_trash_x").exists()
    usage = cli.json("workspace", "du")
    assert usage["datasets"][0]["dataset"] == "fake" and usage["total"] == sum(usage["kinds"].values())
    status, out, _ = cli("workspace", "du")
    assert status == 0 and "binaries" in out
    rebuilt = cli.json("catalog", "rebuild", "--yes")
    assert rebuilt["rows"] == rows and rebuilt["from_folders"] == 20
    assert _count(cli) == rows


def test_nothing_to_do_is_not_an_error(sessions, cli):
    before = snapshot(sessions, skip=("_fragments",))
    assert cli("runs", "delete", "fake", "--older-than", "3650d")[0] == 0
    assert lost(before, snapshot(sessions, skip=("_fragments",))) == []
    # Session b once existed: with its pipelines gone there is nothing to archive, and that is fine.
    assert cli("runs", "delete", "fake", "--session", "b", "--yes")[0] == 0
    assert cli("runs", "archive", "fake", "--session", "b")[0] == 0
