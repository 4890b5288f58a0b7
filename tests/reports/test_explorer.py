"""The catalog explorer's data (reports/explorer.py), read back from the pages as a browser would.

What the script does with it is checked in Chromium (test_explorer_browser.py).
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from nirs4all_workspace.reports import explorer, html
from nirs4all_workspace.reports.catalog_reports import CatalogPages
from nirs4all_workspace.reports.pipelines import PipelineRow, catalog_rows

HOSTILE = '</script><script>window.pwned = 1</script><!-- & "quoted" </SCRIPT >'


class Scripts(HTMLParser):
    """Every <script> element: its attributes and its text, as an HTML parser splits them."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append((dict(attrs), ""))

    def handle_data(self, data):
        if self.lasttag == "script" and self.scripts:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


def scripts_of(text: str) -> list[tuple[dict, str]]:
    parser = Scripts()
    parser.feed(text)
    return parser.scripts


def embedded(text: str) -> dict:
    """The explorer's JSON of a page, as JSON.parse would read it."""
    found = [body for attrs, body in scripts_of(text) if attrs.get("id") == "explorer-data"]
    assert len(found) == 1
    return json.loads(found[0])


def test_json_data_cannot_end_its_script_element():
    value = {"name": HOSTILE, "list": [HOSTILE, 1.5, None, True]}
    markup = html.json_data(value, "data")
    scripts = scripts_of(f"<body>{markup}<p>after</p></body>")
    assert len(scripts) == 1  # the hostile text opened no script of its own
    attrs, body = scripts[0]
    assert attrs == {"type": "application/json", "id": "data"}
    assert "<" not in body and ">" not in body
    assert json.loads(body) == value
    with pytest.raises(ValueError):
        html.json_data({"x": float("nan")}, "data")


def row(number: int, **changes) -> PipelineRow:
    values = {
        "pipeline_id": f"id{number}",
        "dataset": "wheat",
        "session": "s1",
        "number": number,
        "folder": f"{number:04d}_pls_abcdef",
        "model": "PLSRegression",
        "preprocessing": "none",
        "params": {"model.n_components": number},
        "status": "completed",
        "task": "regression",
        "duration_s": 1.0,
        "created_at": None,
        "path": None,
        "scores": {"val": {"rmse": 1.0 / number}},
    }
    return PipelineRow(**{**values, **changes})


def test_hostile_names_stay_data_in_the_page():
    rows = [
        row(1, dataset=HOSTILE, folder=HOSTILE, params={HOSTILE: HOSTILE, "alpha": float("nan")}),
        row(2),
    ]
    section = explorer.explorer_section(rows, metric="rmse", href=lambda r: None)
    text = html.page("t", "s", [section])
    scripts = scripts_of(text)
    assert [a.get("id") or a.get("type") for a, _ in scripts] == ["explorer-data", None, None]
    data = embedded(text)
    assert data["rows"][0]["dataset"] == HOSTILE and data["rows"][0]["folder"] == HOSTILE
    assert data["rows"][0]["params"] == {HOSTILE: HOSTILE, "alpha": "nan"}  # strict JSON has no NaN


def test_ranked_best_first_then_unscored_by_number():
    rows = [row(1), row(2), row(3, status="failed", scores={}), row(4), row(5, scores={})]
    ranked = explorer.ranked(rows, "rmse", "val", "min")
    assert [r.number for r in ranked] == [4, 2, 1, 3, 5]
    assert [r.number for r in explorer.ranked(rows, "rmse", "val", "max")] == [1, 2, 4, 3, 5]


def test_pages_embed_every_pipeline(reports_workspace):
    ws = reports_workspace
    everything = catalog_rows(ws.predictions)
    data = embedded(ws.layout.global_performance_report.read_text(encoding="utf-8"))
    assert sorted(r["reference"] for r in data["rows"]) == sorted(
        f"{r.dataset}/{r.folder}" for r in everything
    )
    by_reference = {f"{r.dataset}/{r.folder}": r for r in everything}
    for embedded_row in data["rows"]:
        source = by_reference[embedded_row["reference"]]
        assert embedded_row["params"] == source.params and embedded_row["scores"] == source.scores
        assert embedded_row["href"].endswith(f"{source.folder}/")  # folders exist: linked
    assert data["metric"] == "rmse"  # the criterion of most pipelines (15 tiny_nirs, 4 coffee)
    assert set(data["directions"]) == {r.engine for r in everything}
    assert all(d["rmse"] == "min" and d["accuracy"] == "max" for d in data["directions"].values())
    assert "explorer-left-out" not in ws.layout.global_performance_report.read_text(encoding="utf-8")
    history = embedded(ws.layout.dataset_history_report("tiny_nirs").read_text(encoding="utf-8"))
    assert len(history["rows"]) == sum(r.dataset == "tiny_nirs" for r in everything) == 15
    scores = [r["scores"].get("val", {}).get("rmse") for r in history["rows"]]
    scored = [s for s in scores if s is not None]
    assert scored == sorted(scored) and scores[len(scored) :] == [None, None]  # best first, failures last


def test_a_large_catalog_is_capped_with_a_note(reports_workspace, monkeypatch):
    pages = CatalogPages(reports_workspace, images=False)
    monkeypatch.setattr(explorer, "GLOBAL_ROWS_PER_DATASET", 2)
    text = pages.global_html()
    data = embedded(text)
    everything = catalog_rows(reports_workspace.predictions)
    tiny = sorted(
        (r for r in everything if r.dataset == "tiny_nirs" and r.score("rmse") is not None),
        key=lambda r: r.score("rmse"),
    )
    coffee = sorted(
        (r for r in everything if r.dataset == "coffee"), key=lambda r: (-r.score("accuracy"), r.number)
    )
    assert [r["reference"] for r in data["rows"]] == [
        f"{r.dataset}/{r.folder}" for r in (*coffee[:2], *tiny[:2])
    ]
    assert "15 of 19 pipelines left out" in text and "the history page of each dataset" in text
    monkeypatch.setattr(explorer, "HISTORY_ROWS", 3)
    dataset = next(d for d in pages.datasets if d.name == "tiny_nirs")
    history = pages.history_html(dataset)
    assert len(embedded(history)["rows"]) == 3
    assert "12 of 15 pipelines left out" in history
    assert "nirs4all catalog list --dataset tiny_nirs --sort rmse --top 15 --all-versions" in history


def test_explorer_script_is_shipped_and_inline(reports_workspace):
    text = Path(reports_workspace.layout.global_performance_report).read_text(encoding="utf-8")
    inline = [body for attrs, body in scripts_of(text) if not attrs]
    assert any("nirs4allExplorer" in body for body in inline)
    assert '<table id="explorer-table"' in text
