"""A workspace with real results for the report tests, built once per test session.

``tiny_nirs`` (regression, with a test partition) has three sessions, the first
with two failing pipelines; ``coffee`` (classification) has one. The catalog
reports are written too. Tests that change a workspace build their own.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from nirs4all_workspace.engines.registry import get_engine
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.reports.catalog_reports import write_catalog_reports

DATA = Path(__file__).resolve().parents[1] / "data"
KFOLD = {"class": "kfold", "params": {"n_splits": 3, "shuffle": True, "random_state": 0}}


def pls_grid(preprocessings: list, components: list[int]) -> dict:
    """Preprocessing x PLS components (60 components fail on 50 wavelengths)."""
    return {
        "pipeline": [
            KFOLD,
            {"_or_": preprocessings},
            {"model": {"class": "pls", "params": {"n_components": {"_or_": components}}}},
        ]
    }


COFFEE_GRID = {
    "pipeline": [
        {"_or_": [None, "snv"]},
        {"model": {"class": "logreg", "params": {"C": {"_or_": [0.1, 1.0]}, "max_iter": 500}}},
    ]
}

SESSIONS = {
    "s1": pls_grid([None, "snv"], [2, 4, 6, 60]),  # 8 pipelines, 2 failed
    "s2": pls_grid(["msc"], [2, 4, 6]),
    "s3": pls_grid(["snv", "detrend"], [3, 5]),
}


@pytest.fixture(scope="session")
def reports_workspace(tmp_path_factory) -> Workspace:
    ws = Workspace.open(tmp_path_factory.mktemp("reports") / "ws")
    engine = get_engine("sklearn")
    tiny = engine.load_dataset(DATA / "tiny_nirs")
    for session, grid in SESSIONS.items():
        report = run_experiment(ws, engine, tiny, grid, session=session)
        assert report.outputs is not None and report.outputs.error is None
    coffee = engine.load_dataset(DATA / "coffee.csv")
    report = run_experiment(ws, engine, coffee, COFFEE_GRID, session="c1")
    assert report.outputs.error is None
    # The latest tiny_nirs session is s3; the report of s1 shows the failures.
    from nirs4all_workspace.reports.session import write_session_report

    write_session_report(ws, "tiny_nirs", "s1")
    write_catalog_reports(ws)
    return ws


class TableRows(HTMLParser):
    """Counts the body rows of each table with an id, and collects every src/href."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, int] = {}
        self.links: list[str] = []
        self._table: list[str | None] = []
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "table":
            self._table.append(values.get("id"))
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table and self._table[-1]:
            self.rows[self._table[-1]] = self.rows.get(self._table[-1], 0) + 1
        for name in ("src", "href"):
            if values.get(name) is not None:
                self.links.append(values[name])

    def handle_endtag(self, tag):
        if tag == "table":
            self._table.pop()
        elif tag == "tbody":
            self._in_body = False


def parse(path: Path) -> TableRows:
    parser = TableRows()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    return parser


def assert_self_contained(path: Path) -> None:
    """Every src/href is data:, relative or an #anchor, and no address points outside."""
    text = Path(path).read_text(encoding="utf-8")
    # Base64 images may spell "http" by chance: look at everything but the data: URIs.
    outside_data = re.sub(r'"data:[^"]*"', '""', text).lower()
    assert "http" not in outside_data, re.findall(r".{30}http.{30}", outside_data)[:3]
    assert "//" not in re.sub(
        r"<script>.*?</script>", "", outside_data, flags=re.S
    )  # no protocol-relative URL
    for link in parse(path).links:
        assert link.startswith(("data:", "#")) or not re.match(r"^[a-z][a-z0-9+.-]*:", link), link
        assert not link.startswith("/"), link
