"""The catalog explorer in Chromium: filter, sort, tick, compare, as a person would.

The comparison the page computes (in JavaScript, from the embedded rows) must
be that of ``nirs4all compare --json`` for the same pipelines. Every request
the page makes is routed: anything but the page's own file fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

from nirs4all_workspace.cli import main
from nirs4all_workspace.reports import explorer, html
from nirs4all_workspace.reports.pipelines import catalog_rows
from tests.reports.test_browser import browser, pytestmark  # noqa: F401 - fixture and skip mark
from tests.reports.test_explorer import HOSTILE, row


class ExplorerPage:
    """A page with an explorer, every request routed and every console message kept."""

    def __init__(self, browser, path: Path) -> None:  # noqa: F811
        self.url = Path(path).as_uri()
        self.page = browser.new_page(viewport={"width": 1366, "height": 900})
        self.outside: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(self.url, wait_until="load")

    def _route(self, route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def check_alone(self) -> None:
        assert self.errors == []
        assert self.outside == []
        assert [u for u in self.requests if not u.startswith("data:")] == [self.url]

    def column(self, header: str) -> list[str]:
        headers = [h.strip() for h in self.page.locator("#explorer-table thead th").all_inner_texts()]
        index = headers.index(header) + 1
        cells = self.page.locator(f"#explorer-table tbody tr td:nth-child({index})")
        return [c.strip() for c in cells.all_inner_texts()]

    def shown(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#explorer-table tbody tr", "rows => rows.map(r => r.getAttribute('data-reference'))"
        )

    def tick(self, reference: str) -> None:
        self.page.locator(f'#explorer-table tbody tr[data-reference="{reference}"] input').check()

    def js_compare(self, references: list[str]) -> dict:
        return self.page.evaluate("refs => window.nirs4allExplorer.compare(refs)", references)


def compare_json(workspace, references: list[str], capsys) -> dict:
    capsys.readouterr()
    assert main(["compare", *references, "--json", "--workspace", str(workspace.root)]) == 0
    return json.loads(capsys.readouterr().out)


def assert_same_comparison(js: dict, py: dict) -> None:
    assert js["pipelines"] == [p["reference"] for p in py["pipelines"]]
    assert js["params_differing"] == py["params_differing"]
    assert js["params_same"] == py["params_same"]
    assert list(js["params_differing"]) == list(py["params_differing"])  # in the same order
    assert js["scores"] == py["scores"]


def numbers(cells: list[str]) -> list[float]:
    return [float(c) for c in cells if c]


def test_explorer_filters_sorts_ticks_and_compares(browser, reports_workspace, tmp_path, capsys):  # noqa: F811
    ws = reports_workspace
    rows = catalog_rows(ws.predictions)
    refs = {f"{r.dataset}/{r.number}": f"{r.dataset}/{r.folder}" for r in rows}
    page = ExplorerPage(browser, ws.layout.global_performance_report)
    page.check_alone()
    assert sorted(page.shown()) == sorted(refs.values())

    # text: every word must match, anywhere in the row
    page.page.fill("#explorer-text", "coffee")
    assert set(page.column("dataset")) == {"coffee"} and len(page.shown()) == 4
    page.page.fill("#explorer-text", "snv PLS")
    expected = {
        f"{r.dataset}/{r.folder}" for r in rows if r.preprocessing == "SNV" and r.dataset == "tiny_nirs"
    }
    assert set(page.shown()) == expected and len(expected) == 6
    page.page.fill("#explorer-text", "")
    assert len(page.shown()) == len(rows)

    # a range of val rmse (the metric most rows are ranked by)
    assert page.page.input_value("#explorer-metric") == "rmse"
    assert page.page.input_value("#explorer-partition") == "val"
    scored = sorted(v for r in rows if (v := r.score("rmse", "val")) is not None)
    low, high = scored[2], scored[7]
    page.page.fill("#explorer-min", repr(low))
    page.page.fill("#explorer-max", repr(high))
    expected = {f"{r.dataset}/{r.folder}" for r in rows if low <= (r.score("rmse", "val") or -1) <= high}
    assert set(page.shown()) == expected and len(expected) == 6
    page.page.select_option("#explorer-partition", "test")
    expected = {f"{r.dataset}/{r.folder}" for r in rows if low <= (r.score("rmse", "test") or -1) <= high}
    assert set(page.shown()) == expected
    page.page.select_option("#explorer-partition", "val")
    page.page.fill("#explorer-min", "")
    page.page.fill("#explorer-max", "")
    assert len(page.shown()) == len(rows)

    # sort: numbers numerically, empty cells (coffee has no rmse, failures none) last
    page.page.locator("#explorer-table thead th", has_text="val rmse").click()
    cells = page.column("val rmse")
    assert numbers(cells) == sorted(numbers(cells)) and cells[len(numbers(cells)) :] == [""] * 6
    page.page.locator("#explorer-table thead th", has_text="val rmse").click()
    assert numbers(page.column("val rmse")) == sorted(numbers(cells), reverse=True)
    page.page.select_option("#explorer-metric", "accuracy")
    assert numbers(page.column("val accuracy")) == sorted(
        (round(r.score("accuracy"), 4) for r in rows if r.score("accuracy") is not None), reverse=True
    )
    page.page.select_option("#explorer-metric", "rmse")

    # tick two, compare: the params listed are those `nirs4all compare --json` finds
    assert page.page.is_disabled("#explorer-compare")
    picked = [refs["tiny_nirs/1"], refs["tiny_nirs/10"]]  # none, 2 components; msc, 4
    page.page.fill("#explorer-text", "tiny_nirs")  # ticks survive filtering
    page.tick(picked[0])
    page.page.fill("#explorer-text", "")
    page.tick(picked[1])
    assert page.page.is_enabled("#explorer-compare")
    assert page.page.locator("#explorer-table tbody tr.ticked").count() == 2
    page.page.click("#explorer-compare")
    assert page.page.is_visible("#explorer-comparison")
    py = compare_json(ws, picked, capsys)
    params = page.page.locator("#explorer-params tbody tr td:first-child").all_inner_texts()
    assert params == list(py["params_differing"]) and "model.n_components" in params
    assert "splitter.n_splits" not in params  # equal: folded away
    marked = sum(1 for s in py["scores"] if s["best"])
    assert marked >= 4 and page.page.locator("#explorer-scores strong.best").count() == marked
    assert f"nirs4all compare {picked[0]} {picked[1]} --html compare.html" in page.page.inner_text(
        "#explorer-comparison"
    )
    page.page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)

    # the same rules as comparison.py, on other sets: three pipelines, a failure, two datasets
    for names in (
        ["tiny_nirs/9", "tiny_nirs/1"],
        ["tiny_nirs/1", "tiny_nirs/2", "tiny_nirs/14"],
        ["tiny_nirs/4", "tiny_nirs/1"],
        ["coffee/1", "tiny_nirs/2", "coffee/3"],
    ):
        references = [refs[n] for n in names]
        assert_same_comparison(page.js_compare(references), compare_json(ws, references, capsys))

    page.page.click("#explorer-clear")
    assert page.page.is_hidden("#explorer-comparison") and page.page.is_disabled("#explorer-compare")
    page.check_alone()


def test_history_explorer_compares(browser, reports_workspace, capsys):  # noqa: F811
    ws = reports_workspace
    page = ExplorerPage(browser, ws.layout.dataset_history_report("coffee"))
    page.check_alone()
    shown = page.shown()
    assert len(shown) == 4 and all(r.startswith("coffee/") for r in shown)
    page.page.fill("#explorer-text", "snv")
    snv = page.shown()
    assert len(snv) == 2
    for reference in snv:
        page.tick(reference)
    page.page.click("#explorer-compare")
    params = page.page.locator("#explorer-params tbody tr td:first-child").all_inner_texts()
    assert params == list(compare_json(ws, snv, capsys)["params_differing"]) == ["model.C"]
    page.check_alone()


def test_hostile_names_are_shown_as_text(browser, tmp_path):  # noqa: F811
    rows = [row(1, dataset="wheat", folder=HOSTILE, params={"note": HOSTILE}), row(2)]
    section = explorer.explorer_section(rows, metric="rmse", href=lambda r: None)
    target = tmp_path / "hostile.html"
    target.write_text(html.page("hostile", "names", [section]), encoding="utf-8")
    page = ExplorerPage(browser, target)
    page.check_alone()
    assert page.page.evaluate("window.pwned") is None
    assert sorted(page.shown()) == sorted([f"wheat/{HOSTILE}", "wheat/0002_pls_abcdef"])
    assert HOSTILE.strip() in page.column("pipeline")
    assert page.page.locator("#explorer-table tbody td.params", has_text="note=</script>").count() == 1
    boxes = page.page.locator("#explorer-table tbody tr input")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.page.click("#explorer-compare")
    assert page.page.locator("#explorer-params tbody tr td:first-child").all_inner_texts() == [
        "model.n_components",
        "note",
    ]
    page.check_alone()


def random_value(rng, depth: int = 0):
    """A JSON param value, of the kinds whose Python and JavaScript equality could part ways
    (True == 1 == 1.0, key order, nesting, text beyond the BMP)."""
    kinds = {
        "int": lambda: rng.choice([0, 1, 2, 5]),
        "float": lambda: rng.choice([0.0, 1.0, 0.5, 1e-3]),
        "bool": lambda: rng.choice([True, False]),
        "str": lambda: rng.choice(["a", "b", "1", "", "\u00e9", "\U0001f600"]),
        "none": lambda: None,
    }
    if depth < 2:
        kinds["list"] = lambda: [random_value(rng, depth + 1) for _ in range(rng.randint(0, 2))]
        kinds["dict"] = lambda: {
            rng.choice(["x", "y", "Z"]): random_value(rng, depth + 1) for _ in range(rng.randint(0, 2))
        }
    return kinds[rng.choice(sorted(kinds))]()


def twin(value):
    """A value Python finds equal to ``value`` but JSON spells differently (1, 1.0, True; key order)."""
    if isinstance(value, dict):
        return {k: twin(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [twin(v) for v in value]
    if value in (0, 1) and not isinstance(value, str) and value is not None:
        return {0: False, 1: True}[int(value)] if not isinstance(value, bool) else float(value)
    return value


def test_page_and_python_compare_alike_on_random_rows(browser, tmp_path):  # noqa: F811
    """Random params and scores, compared by the page and by comparison.py: the same answer."""
    import random
    from types import SimpleNamespace

    from nirs4all_workspace.comparison import score_rows, split_params
    from nirs4all_workspace.engines.registry import engine_entries

    rng = random.Random(15)
    engines = [*sorted(engine_entries()), "not_installed", ""]
    keys = ["a", "b", "model.C", "Z", "é", "\U0001f600", "\uff01", "a.b"]  # astral vs U+FF01: by code point
    cases, rows = [], []
    for case in range(60):
        group = []
        base = {k: random_value(rng) for k in rng.sample(keys, rng.randint(0, 4))}
        for i in range(rng.randint(2, 4)):
            if case % 2:  # the same params, spelt differently, one of them sometimes changed
                params = {k: twin(v) if rng.random() < 0.5 else v for k, v in base.items()}
                if base and rng.random() < 0.3:
                    params[rng.choice(sorted(base))] = random_value(rng)
            else:
                params = {k: random_value(rng) for k in rng.sample(keys, rng.randint(0, 4))}
            scores = {
                p: {
                    m: rng.choice([0.5, 1.0, 2.0, -1.0])
                    for m in rng.sample(["rmse", "r2", "accuracy", "odd"], 2)
                }
                for p in rng.sample(["train", "val", "test", "cal", "ext"], rng.randint(0, 3))
            }
            group.append(
                row(i + 1, dataset=f"case{case}", params=params, scores=scores, engine=rng.choice(engines))
            )
        cases.append(group)
        rows += group
    target = tmp_path / "random.html"
    section = explorer.explorer_section(rows, metric="rmse", href=lambda r: None)
    target.write_text(html.page("random", "rows", [section]), encoding="utf-8")
    page = ExplorerPage(browser, target)
    references = [[f"{r.dataset}/{r.folder}" for r in group] for group in cases]
    answers = page.page.evaluate("cases => cases.map(c => window.nirs4allExplorer.compare(c))", references)
    met = {"differing": 0, "same": 0, "marked": 0}
    for group, js in zip(cases, answers, strict=True):
        met["differing"] += bool(js["params_differing"])
        met["same"] += bool(js["params_same"])
        met["marked"] += any(s["best"] for s in js["scores"])
        differing, same = split_params([r.params for r in group])
        views = [SimpleNamespace(engine=r.engine, scores=r.scores) for r in group]
        assert js["params_differing"] == differing and js["params_same"] == same, group
        assert list(js["params_differing"]) == list(differing) and list(js["params_same"]) == list(same)
        assert js["scores"] == [s.to_dict() for s in score_rows(views)], group
    page.check_alone()
    assert min(met.values()) >= 5, met


def test_an_empty_catalog_explorer_loads_clean(browser, tmp_path):  # noqa: F811
    target = tmp_path / "empty.html"
    section = explorer.explorer_section([], metric=None, href=lambda r: None)
    target.write_text(html.page("empty", "no pipeline", [section]), encoding="utf-8")
    page = ExplorerPage(browser, target)
    assert page.shown() == [] and page.page.inner_text("#explorer-shown") == "0 of 0 pipelines shown"
    assert page.page.is_disabled("#explorer-compare")
    page.check_alone()
