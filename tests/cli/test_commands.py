import pytest

GRID_YAML = """
scales: [0.5, 1.0, 1.5]
offsets: [0.0, 0.25]
fail_on: [1.5]
"""


@pytest.fixture
def ran(cli, fake_registered, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID_YAML)
    status, out, err = cli("run", "--engine", "fake", "--pipeline", str(grid), "--session", "s1")
    assert status == 0, err
    return out


def test_run_prints_the_top_table_and_the_best_file(ran, cli):
    assert "top" in ran and "best predictions:" in ran
    best = next(cli.root.glob("runs/fake/best_*.csv"))
    assert best.name in ran.replace("\n", "")


def test_run_json_reports_counts(cli, fake_registered):
    payload = cli.json("run", "--engine", "fake")
    run = payload["runs"][0]
    assert (run["pipelines"], run["completed"], run["failed"]) == (6, 6, 0)
    assert run["best"]["score"] == 0.0


def test_runs_list_and_show(ran, cli):
    listing = cli.json("runs", "list")
    assert listing[0]["dataset"] == "fake" and listing[0]["pipelines"] == 6 and listing[0]["failed"] == 2
    assert cli.json("runs", "list", "--older-than", "30d") == []
    shown = cli.json("runs", "show", "fake", "--top", "2")
    assert len(shown["top"]) == 2 and shown["overview"]["completed"] == 4
    status, out, _ = cli("runs", "show", "fake")
    assert status == 0 and "sessions" in out


def test_catalog_commands(ran, cli):
    best = cli.json("catalog", "best", "fake")
    assert best["metric"] == "rmse" and best["score"] == 0.0
    assert best["pipeline_folder"] == cli.json("runs", "list")[0]["best"]["folder"]
    count = cli.json("catalog", "query", "SELECT count(*) AS n FROM predictions")[0]["n"]
    assert count == 4 * 2 + 2  # per pipeline and partition; the fold rows are in the table folds
    listing = cli.json("catalog", "list", "--sort", "r2", "--top", "3")
    assert [r["r2"] for r in listing] == sorted((r["r2"] for r in listing), reverse=True)
    status, out, _ = cli("catalog", "compact")
    assert status == 0 and "compacted" in out
    assert cli.json("catalog", "query", "SELECT count(*) AS n FROM predictions")[0]["n"] == count


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("catalog", "best", "nothing"), "no dataset 'nothing'; datasets: fake"),
        (("catalog", "query", "SELEKT 1"), "bad SQL"),
        (("runs", "show", "nothing"), "no dataset 'nothing'"),
        (("runs", "list", "--older-than", "soon"), "not a duration"),
        (("run", "--engine", "nope"), "no engine named 'nope'"),
        (("run", "--engine", "fake", "--pipeline", "missing.yaml"), "neither a file nor a template"),
        (("run", "--engine", "fake", "-j", "0"), "-j must be"),
        (("run", "--engine", "fake", "--session", "../x"), "session name"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(ran, cli, args, message):
    before = sorted(p.relative_to(cli.root) for p in cli.root.rglob("*") if "_fragments" not in p.parts)
    status, _out, err = cli(*args)
    assert status == 2, err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    after = sorted(p.relative_to(cli.root) for p in cli.root.rglob("*") if "_fragments" not in p.parts)
    assert before == after


def test_bad_yaml_is_reported_with_its_line(cli, fake_registered, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("scales: [1, 2\noffsets: 3\n")
    status, _, err = cli("run", "--engine", "fake", "--pipeline", str(bad))
    assert status == 2 and "not valid YAML" in err
    assert not cli.root.exists()
