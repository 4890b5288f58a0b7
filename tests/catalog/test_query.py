"""``catalog query``: the tables mean what they say, and nothing but the catalog is read."""

from __future__ import annotations

import pytest

from nirs4all_workspace import Workspace
from nirs4all_workspace.catalog.query import check_sql
from nirs4all_workspace.cli import main
from nirs4all_workspace.errors import InputError
from nirs4all_workspace.experiment import run_experiment
from tests.fakes import FakeDataset, FakeEngine

README_SQL = "SELECT model, min(rmse) AS rmse FROM predictions WHERE partition = 'val' GROUP BY model"


@pytest.fixture
def ran(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    config = {"scales": [0.5, 0.8, 1.2, 1.3], "offsets": [0.3], "fail_on": [1.3]}
    run_experiment(ws, FakeEngine(), FakeDataset(), config, session="s", plots="none")
    return ws


def test_predictions_has_one_row_per_pipeline_and_partition_and_folds_the_rest(ran):
    predictions = ran.predictions
    completed = ran.manifests.list_folders("fake")
    assert len(completed) == 4
    # 3 completed pipelines x (train, val) + 1 failed pipeline's one row.
    assert predictions.query("SELECT count(*) FROM predictions")["count"][0] == 3 * 2 + 1
    assert predictions.query("SELECT count(*) AS n FROM folds")["n"][0] == 3 * 2  # two folds of val
    per_pipeline = predictions.query(
        "SELECT pipeline_number, count(*) AS n FROM predictions WHERE status = 'completed' "
        "AND partition = 'val' GROUP BY pipeline_number"
    )
    assert per_pipeline["n"].to_list() == [1, 1, 1]


def test_the_readme_query_returns_the_best_pipelines_validation_score(ran):
    best = ran.predictions.best("fake", metric="rmse")
    frame = ran.predictions.query(README_SQL)
    assert frame.height == 1
    assert frame["rmse"][0] == pytest.approx(best["rmse"])
    # a fold of some pipeline scores better than any whole pipeline: it must not leak in
    fold_best = ran.predictions.query("SELECT min(rmse) AS r FROM folds WHERE partition = 'val'")["r"][0]
    assert fold_best < best["rmse"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM READ_CSV ( '/etc/passwd' )",
        "SELECT * FROM \"read_csv\"('/etc/passwd')",
        "SELECT * FROM predictions, read_parquet('{other}')",
        "SELECT * FROM read_ipc('x.arrow')",
        "SELECT * FROM read_json('x.json')",
        "SELECT * FROM scan_parquet('{other}')",
        "SELECT * FROM predictions p JOIN read_csv('https://example.com/x.csv') q ON true",
        "SELECT 'https://example.com/' AS u FROM predictions",
        "CREATE TABLE t AS SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM /* hidden */ read_csv('/etc/passwd')",
    ],
)
def test_file_and_url_access_is_refused_in_one_line_exit_2(ran, tmp_path, capsys, sql):
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    other = tmp_path / "other.parquet"
    import polars as pl

    pl.DataFrame({"password": ["hunter2"]}).write_parquet(other)
    sql = sql.replace("/etc/passwd", str(secret)).replace("{other}", str(other))
    status = main(["catalog", "query", sql, "--workspace", str(ran.layout.root)])
    out, err = capsys.readouterr()
    assert status == 2
    assert "hunter2" not in out + err
    assert len(err.strip().splitlines()) == 1 and "catalog query refuses" in err


def test_words_inside_strings_are_not_taken_for_functions():
    check_sql("SELECT 'read_csv(' AS x FROM predictions WHERE model = 'scan_x(1)'")
    with pytest.raises(InputError, match="refuses read_csv"):
        check_sql("SELECT * FROM read_csv('a.csv')")


def test_a_workspace_whose_path_globs_reads_its_own_catalog(tmp_path, capsys):
    plain, globbing = tmp_path / "wsb1", tmp_path / "wsb[1]"
    for root, scales in ((plain, [0.5, 0.8, 1.0, 1.2]), (globbing, [0.7])):
        ws = Workspace.open(root)
        run_experiment(ws, FakeEngine(), FakeDataset(), {"scales": scales}, session="s", plots="none")
        ws.predictions.compact(full=True)
    status = main(
        [
            "catalog",
            "query",
            "SELECT count(DISTINCT pipeline_id) AS n FROM predictions",
            "--json",
            "--workspace",
            str(globbing),
        ]
    )
    out, _ = capsys.readouterr()
    assert status == 0 and '"n": 1' in out
    assert Workspace.open(globbing).predictions.best("fake")["pipeline_number"] == 1


@pytest.mark.parametrize(
    "sql",
    ["DROP TABLE predictions", "CREATE TABLE x AS SELECT * FROM predictions", "  truncate predictions"],
)
def test_a_statement_that_would_change_something_is_refused(sql):
    # The catalog is read-only here: DROP "succeeding" silently would mislead.
    with pytest.raises(InputError, match="read-only"):
        check_sql(sql)


@pytest.mark.parametrize(
    "sql",
    ["SELECT 1", "  with t AS (SELECT * FROM predictions) SELECT * FROM t", "SHOW TABLES", "(SELECT 1)"],
)
def test_reading_statements_pass(sql):
    check_sql(sql)
