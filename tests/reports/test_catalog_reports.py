"""The global performance page and the dataset history pages."""

from __future__ import annotations

import shutil

from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.reports.catalog_reports import summarize, write_catalog_reports
from nirs4all_workspace.reports.pipelines import catalog_rows
from tests.fakes import FakeDataset
from tests.reports.conftest import SESSIONS, parse


def test_one_row_per_dataset_and_per_session(reports_workspace):
    layout = reports_workspace.layout
    tables = parse(layout.global_performance_report).rows
    assert tables == {"datasets": 2, "sessions": len(SESSIONS) + 1}
    assert parse(layout.dataset_history_report("tiny_nirs")).rows == {"sessions": len(SESSIONS)}
    assert parse(layout.dataset_history_report("coffee")).rows == {"sessions": 1}
    text = layout.global_performance_report.read_text(encoding="utf-8")
    assert "val r2 of each dataset" in text and "val accuracy of each dataset" in text


def test_summaries_pick_each_datasets_best_by_its_task(reports_workspace):
    summaries = {s.name: s for s in summarize(catalog_rows(reports_workspace.predictions))}
    tiny, coffee = summaries["tiny_nirs"], summaries["coffee"]
    assert (tiny.criterion.metric, coffee.criterion.metric) == ("rmse", "accuracy")
    assert [s.session for s in tiny.sessions] == list(SESSIONS)  # oldest first
    assert tiny.best.score("rmse", "val") == min(
        r.score("rmse", "val") for r in tiny.rows if r.score("rmse", "val") is not None
    )
    assert tiny.best.pipeline_id == reports_workspace.predictions.best("tiny_nirs")["pipeline_id"]


def test_history_and_global_pages_survive_deleted_runs(workspace, fake_engine):
    for session, scales in (("a", [2.0, 1.5]), ("b", [1.2]), ("c", [1.0, 3.0])):
        run_experiment(workspace, fake_engine, FakeDataset(), {"scales": scales}, session=session)
    run_experiment(workspace, fake_engine, FakeDataset(name="other"), {"scales": [1.0]}, session="a")
    shutil.rmtree(workspace.layout.dataset_dir("fake"))
    paths = write_catalog_reports(workspace)
    assert [p.name for p in paths] == ["global_performance.html", "fake.html", "other.html"]
    history = workspace.layout.dataset_history_report("fake")
    assert parse(history).rows == {"sessions": 3}
    text = history.read_text(encoding="utf-8")
    assert "best so far" in text and "data:image/png" in text
    assert "runs/fake/" not in text  # its folders are gone: names without links
    assert "runs/other/" in workspace.layout.global_performance_report.read_text(encoding="utf-8")


def test_an_empty_catalog_gives_an_empty_global_page(workspace):
    paths = write_catalog_reports(workspace)
    assert paths == [workspace.layout.global_performance_report]
    assert parse(paths[0]).rows == {}
