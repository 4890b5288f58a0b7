"""Regenerate the report screenshots of the README (docs/images/*.png).

    .venv/bin/python docs/images/make_screenshots.py

Builds a throw-away workspace with the demo (the 78-pipeline grid, then a
refinement around its best), the two small test datasets, writes every report,
and photographs the top of each page in headless Chromium (Debian's
/usr/bin/chromium, driven by Playwright) at a laptop's 1366 pixels width.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from nirs4all_workspace.cli import main

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"
REFINE = """\
name: refine
pipeline:
  - {class: kfold, params: {n_splits: 5, shuffle: true, random_state: 42}}
  - _or_:
      - snv
      - [{class: savgol, params: {window_length: {_or_: [15, 21, 31]}, deriv: 1}}, snv]
  - model: {class: pls, params: {n_components: {_range_: [4, 8]}}}
"""
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]


def nirs4all(*args: str) -> None:
    status = main(list(args))
    if status != 0:
        raise SystemExit(f"nirs4all {' '.join(args)} failed with status {status}")


def build(workspace: Path) -> None:
    refine = workspace.parent / "refine.yaml"
    refine.write_text(REFINE, encoding="utf-8")
    ws = ["--workspace", str(workspace)]
    nirs4all("run", "--session", "grid", *ws)
    nirs4all("run", "--session", "refine", "--pipeline", str(refine), *ws)
    nirs4all("run", "--session", "tiny-grid", "--dataset", str(ROOT / "tests/data/tiny_nirs"), *ws)
    nirs4all("run", "--session", "coffee-grid", "--dataset", str(ROOT / "tests/data/coffee.csv"), *ws)
    nirs4all("report", "demo", "--session", "grid", *ws)
    nirs4all("catalog", "report", *ws)


def photograph(workspace: Path) -> None:
    from playwright.sync_api import sync_playwright

    pages = {
        "session_report.png": (workspace / "exports/session_reports/demo.html", 1400),
        "global_performance.png": (workspace / "catalog/reports/global_performance.html", 1000),
        "dataset_history.png": (workspace / "catalog/reports/dataset_history/demo.html", 1000),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, (page_path, height) in pages.items():
            page = browser.new_page(viewport={"width": 1366, "height": height})
            page.goto(page_path.as_uri(), wait_until="load")
            page.screenshot(path=str(IMAGES / name))
            page.close()
        browser.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "workspace"
        build(target)
        photograph(target)
    sys.exit(0)
