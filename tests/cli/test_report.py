"""``nirs4all report``, ``nirs4all catalog report`` and ``nirs4all run --plots``."""

from __future__ import annotations

import webbrowser

import pytest


@pytest.fixture
def ran(cli, fake_registered):
    status, _, err = cli("run", "--engine", "fake", "--session", "s1")
    assert status == 0, err
    return cli


def test_run_writes_the_session_report_and_says_how_long_it_took(cli, fake_registered):
    status, out, err = cli("run", "--engine", "fake")
    assert status == 0, err
    flat = " ".join(out.split())
    assert "report:" in flat and "took" in flat
    assert (cli.root / "exports" / "session_reports" / "fake.html").is_file()
    payload = cli.json("run", "--engine", "fake", "--plots", "none")["runs"][0]
    assert payload["report"].endswith("fake.html") and payload["plots"] == [] and payload["plots_s"] >= 0


def test_run_refuses_an_unknown_plots_choice_before_writing(cli, fake_registered):
    status, _, err = cli("run", "--engine", "fake", "--plots", "some")
    assert status == 2 and "--plots must be one of report, best, all, none" in err
    assert not (cli.root / "runs").exists()


def test_report_rewrites_and_prints_the_path(ran, monkeypatch):
    page = ran.root / "exports" / "session_reports" / "fake.html"
    page.unlink()
    opened = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    status, out, err = ran("report", "fake", "--open")
    assert status == 0, err
    lines = out.strip().splitlines()
    assert "".join(lines[0].split()) == str(page).replace(" ", "")
    assert page.is_file() and opened == [page.as_uri()]
    payload = ran.json("report", "fake", "--session", "s1")
    assert payload["report"] == str(page) and payload["size"] == page.stat().st_size


def _pngs(root):
    return sorted(p.name for p in (root / "runs" / "fake").glob("*/outputs/*.png"))


def test_a_run_leaves_the_pngs_to_report_which_draws_the_missing_ones(ran):
    assert _pngs(ran.root) == []  # the run drew its report's figures inline, no PNG
    assert ran.json("report", "fake", "--plots", "none")["plots"] == []
    status, out, err = ran("report", "fake")
    assert status == 0, err
    assert _pngs(ran.root) == ["pred_vs_true.png", "residuals.png"]  # the session's best
    assert "plots: 2 PNG in" in " ".join(out.split())
    assert ran.json("report", "fake")["plots"] == []  # drawn already: kept as they are
    every = ran.json("report", "fake", "--plots", "all")["plots"]
    assert len(every) >= 2 and len(_pngs(ran.root)) == 2 + len(every)
    status, _, err = ran("report", "fake", "--plots", "report")
    assert status == 2 and "--plots must be one of best, all, none" in err


def test_run_plots_best_draws_the_pngs_at_the_end(cli, fake_registered):
    payload = cli.json("run", "--engine", "fake", "--plots", "best")["runs"][0]
    assert [p.rsplit("/", 1)[1] for p in payload["plots"]] == ["pred_vs_true.png", "residuals.png"]
    assert _pngs(cli.root) == ["pred_vs_true.png", "residuals.png"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "nothing"), "no pipeline of dataset 'nothing'"),
        (("report", "fake", "--session", "s9"), "no session 's9'"),
        (("report", "../x"), "dataset name '../x'"),
    ],
)
def test_report_errors_are_one_line_with_status_2(ran, args, message):
    status, _, err = ran(*args)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_catalog_report_writes_the_global_page_and_one_history_per_dataset(ran):
    status, out, err = ran("catalog", "report")
    assert status == 0, err
    reports = ran.root / "catalog" / "reports"
    assert (reports / "global_performance.html").is_file()
    assert (reports / "dataset_history" / "fake.html").is_file()
    assert "global_performance.html" in "".join(out.split())
