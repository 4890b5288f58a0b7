"""The page of ``nirs4all compare --html`` opened in Chromium, as tests/reports/test_browser.py does."""

from __future__ import annotations

from nirs4all_workspace.cli import main
from tests.reports.test_browser import OpenedPage, browser, pytestmark  # noqa: F401 - fixture and skip mark


def test_compare_page_in_a_browser(browser, reports_workspace, tmp_path, capsys):  # noqa: F811
    page_file = tmp_path / "compare.html"
    args = ["compare", "tiny_nirs/1", "tiny_nirs/2", "tiny_nirs/9", "--html", str(page_file)]
    assert main([*args, "--workspace", str(reports_workspace.root)]) == 0
    assert "page:" in capsys.readouterr().out
    page = OpenedPage(browser, page_file)
    page.check_loaded_alone()
    assert page.page.locator("#pipelines tbody tr").count() == 3
    params = page.column("params", "param")
    assert "model.n_components" in params and "splitter.n_splits" not in params
    assert page.page.locator("#scores strong.best").count() >= 4
    page.check_images(at_least=4)  # val and test: predicted vs true and residuals
    page.screenshot(tmp_path / "compare.png")
    page.check_loaded_alone()
