"""The template engine: escaping, tables, images and self-contained pages (no browser)."""

from __future__ import annotations

import base64
import math
import re
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from nirs4all_workspace.reports import html
from tests.reports.conftest import assert_self_contained, parse

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@given(st.text())
def test_any_text_is_escaped(text):
    escaped = html.escape(text)
    assert "<" not in escaped and ">" not in escaped and '"' not in escaped
    assert html.escape(escaped) is escaped  # already Markup: left alone


def test_format_value_prints_like_the_cli():
    assert html.format_value(None) == ""
    assert html.format_value(math.nan) == ""
    assert html.format_value(0.858247922) == "0.8582"
    assert html.format_value(123456.0) == "1.235e+05"
    assert html.format_value(42) == "42"
    assert html.format_value(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02 03:04"


def test_numeric_cells_carry_their_raw_value_for_sorting():
    columns = [html.Column("#", numeric=True), html.Column("name"), html.Column("rmse", numeric=True)]
    rows = [[2, "b<x>", 0.123456789], [10, html.Link("../a%20b/", "a b"), None]]
    text = html.table(columns, rows, table_id="t", row_classes=["best", ""])
    assert '<table class="sortable" id="t">' in text
    assert '<th class="num" tabindex="0">#</th>' in text
    assert '<td class="num" data-sort="0.123456789">0.1235</td>' in text
    assert '<td class="num" data-sort="">' in text  # missing values sort last
    assert "b&lt;x&gt;" in text
    assert '<a href="../a%20b/">a b</a>' in text
    assert '<tr class="best">' in text and "<tr><td" in text


def test_relative_href_from_a_page_to_a_folder(tmp_path):
    page = tmp_path / "exports" / "session_reports" / "demo.html"
    target = tmp_path / "runs" / "demo" / "0001_a b_123456"
    assert html.relative_href(target, page, folder=True) == "../../runs/demo/0001_a%20b_123456/"


def test_a_page_is_one_self_contained_file(tmp_path):
    body = html.section(
        "Plots",
        html.figures([html.image(PNG, "a dot", "caption")]),
        html.key_values([("pipeline", html.Link("../x/", "x")), ("score", 0.5)]),
        section_id="plots",
    )
    text = html.page("T <1>", "sub", [body], nav=[html.Link("#plots", "plots")], footer="end")
    path = tmp_path / "page.html"
    path.write_text(text, encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<title>T &lt;1&gt;</title>" in text
    assert "<script>" in text and "<style>" in text  # shipped inside the file
    assert_self_contained(path)
    links = parse(path).links
    assert any(link.startswith("data:image/png;base64,") for link in links)
    assert re.search(r'<link rel="icon" href="data:,">', text)  # no favicon request


def test_the_reports_of_a_real_workspace_are_self_contained(reports_workspace):
    layout = reports_workspace.layout
    pages = [
        layout.session_report("tiny_nirs"),
        layout.session_report("coffee"),
        layout.global_performance_report,
        layout.dataset_history_report("tiny_nirs"),
        layout.dataset_history_report("coffee"),
    ]
    for page in pages:
        assert_self_contained(page)
        for link in parse(page).links:
            if link.startswith(("data:", "#")):
                continue
            from urllib.parse import unquote

            assert (Path(page).parent / unquote(link)).exists(), f"{page.name}: broken link {link}"
