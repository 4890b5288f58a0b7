"""Each kind of report opened in a real headless browser (Chromium driven by Playwright).

The page must load with no console error and no request but the page itself,
show one table row per pipeline (or dataset, or session), sort on a header
click (numbers numerically) and show non-empty images. A screenshot of each is
saved under the test's tmp_path. CI installs Debian's chromium (.ci/run).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reports.conftest import SESSIONS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's /usr/bin/chromium: apt-get install chromium (.ci/run does)",
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class OpenedPage:
    """A report loaded in a fresh page, with every request and console error it caused."""

    def __init__(self, browser, path: Path) -> None:
        self.url = path.as_uri()
        self.page = browser.new_page(viewport={"width": 1366, "height": 900})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(self.url, wait_until="load")

    def check_loaded_alone(self) -> None:
        assert self.errors == []
        assert [u for u in self.requests if not u.startswith("data:")] == [self.url]

    def _index(self, table: str, header: str) -> int:
        headers = [h.strip() for h in self.page.locator(f"#{table} thead th").all_inner_texts()]
        return headers.index(header) + 1

    def column(self, table: str, header: str) -> list[str]:
        """The cells of a column, in the order shown."""
        cells = self.page.locator(f"#{table} tbody tr td:nth-child({self._index(table, header)})")
        return [c.strip() for c in cells.all_inner_texts()]

    def sort(self, table: str, header: str) -> None:
        """Click a column header, as a person would."""
        self.page.locator(f"#{table} thead th:nth-child({self._index(table, header)})").click()

    def check_images(self, at_least: int) -> None:
        sizes = self.page.eval_on_selector_all(
            "img", "images => images.map(i => [i.complete, i.naturalWidth])"
        )
        assert len(sizes) >= at_least
        assert all(complete and width > 0 for complete, width in sizes), sizes

    def check_svgs(self, at_least: int) -> list[str]:
        """Inline SVG figures: laid out with a size, with marks, in view once scrolled to; their captions."""
        found = self.page.eval_on_selector_all(
            "figure svg",
            """svgs => svgs.map(s => {
                const box = s.getBoundingClientRect();
                const style = getComputedStyle(s);
                const marks = s.querySelectorAll("path, rect").length;
                const caption = s.parentElement.querySelector("figcaption");
                return [box.width, box.height, style.visibility, style.display, marks,
                        caption ? caption.textContent : s.getAttribute("aria-label")];
            })""",
        )
        assert len(found) >= at_least, found
        for width, height, visibility, display, marks, _ in found:
            assert width > 150 and height > 100 and visibility == "visible" and display != "none"
            assert marks >= 3
        first = self.page.locator("figure svg").first
        first.scroll_into_view_if_needed()
        assert first.is_visible()
        return [caption for *_, caption in found]

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000


def numbers(cells: list[str]) -> list[float]:
    return [float(c) for c in cells if c]


def test_session_report_in_a_browser(browser, reports_workspace, tmp_path):
    page = OpenedPage(browser, reports_workspace.layout.session_report("tiny_nirs"))  # session s1
    page.check_loaded_alone()
    assert page.page.locator("#pipelines tbody tr").count() == 8
    before = page.column("pipelines", "#")
    assert before == [str(n) for n in range(1, 9)]
    page.sort("pipelines", "val rmse")
    scores = page.column("pipelines", "val rmse")
    assert numbers(scores) == sorted(numbers(scores)) and scores[-2:] == ["", ""]  # failures last
    assert page.column("pipelines", "#") != before
    page.sort("pipelines", "val rmse")
    assert numbers(page.column("pipelines", "val rmse")) == sorted(numbers(scores), reverse=True)
    page.sort("pipelines", "#")
    assert page.column("pipelines", "#") == before
    captions = page.check_svgs(at_least=3 + 2 + 1)  # best plots, score by parameter, heat map
    assert {"predicted vs. true", "residuals", "model coefficients"} <= set(captions)
    assert page.page.locator("img").count() == 0  # no PNG: the figures are drawn in the page
    assert page.page.locator("#failures tbody tr").count() == 2
    page.screenshot(tmp_path / "session_report.png")
    page.check_loaded_alone()  # sorting made no request and no error


def test_global_performance_in_a_browser(browser, reports_workspace, tmp_path):
    page = OpenedPage(browser, reports_workspace.layout.global_performance_report)
    page.check_loaded_alone()
    assert page.column("datasets", "dataset") == ["coffee", "tiny_nirs"]
    assert page.page.locator("#sessions tbody tr").count() == len(SESSIONS) + 1
    counts = page.column("datasets", "pipelines")
    page.sort("datasets", "pipelines")
    assert page.column("datasets", "pipelines") == sorted(counts, key=int)  # 4 before 15: numerically
    page.sort("datasets", "pipelines")
    assert page.column("datasets", "pipelines") == sorted(counts, key=int, reverse=True)
    assert page.column("datasets", "dataset") == ["tiny_nirs", "coffee"]
    page.check_images(at_least=2)
    page.screenshot(tmp_path / "global_performance.png")
    page.check_loaded_alone()


def test_dataset_history_in_a_browser(browser, reports_workspace, tmp_path):
    page = OpenedPage(browser, reports_workspace.layout.dataset_history_report("tiny_nirs"))
    page.check_loaded_alone()
    assert page.column("sessions", "session") == list(SESSIONS)
    page.sort("sessions", "best val rmse")
    scores = numbers(page.column("sessions", "best val rmse"))
    assert scores == sorted(scores) and len(scores) == len(SESSIONS)
    page.sort("sessions", "session")
    assert page.column("sessions", "session") == sorted(SESSIONS)
    page.check_images(at_least=1)
    page.screenshot(tmp_path / "dataset_history.png")
    page.check_loaded_alone()
