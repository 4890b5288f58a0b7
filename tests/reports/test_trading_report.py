"""Trading results look like trading: equity, drawdown, regimes, trades; sharpe and trading words.

The signals engine declares its session-report sections (engines/signals/report.py)
and its words; the report core draws what the engine declares. Checked in the HTML,
in outputs/, in the CLI tables and in a real Chromium (as tests/reports/test_browser.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nirs4all_workspace.cli import main
from tests.cli.test_analytics import GRID_YAML, _bars_csv
from tests.reports.test_browser import CHROMIUM, OpenedPage

ENGINE_FIGURES = ("equity.png", "drawdown.png", "price_regimes.png")


@pytest.fixture(scope="module")
def trading(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with one signals run on bars from a CSV file (PNGs of the best drawn: --plots best)."""
    tmp = tmp_path_factory.mktemp("trading")
    grid = tmp / "grid.yaml"
    grid.write_text(GRID_YAML)
    data = _bars_csv(tmp / "SYN_1m.csv")
    root = tmp / "ws"
    args = ["run", "--engine", "signals", "-d", str(data), "-p", str(grid), "--plots", "best"]
    status = main([*args, "--workspace", str(root)])
    assert status == 0
    return root


def _cli(root: Path, capsys, *args: str) -> str:
    capsys.readouterr()
    assert main([*args, "--workspace", str(root)]) == 0
    return capsys.readouterr().out


def test_the_best_strategy_has_trading_figures_in_outputs(trading: Path) -> None:
    best = (
        json.loads((trading / "runs" / "SYN_1m" / "best.json").read_text())
        if (trading / "runs" / "SYN_1m" / "best.json").is_file()
        else None
    )
    outputs = list((trading / "runs" / "SYN_1m").glob("*/outputs"))
    assert outputs, "no outputs/ folder was drawn for the best strategy"
    names = {p.name for o in outputs for p in o.iterdir()}
    assert set(ENGINE_FIGURES) <= names
    for output in outputs:
        for name in ENGINE_FIGURES:
            png = (output / name).read_bytes()
            assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert "pred_vs_true.png" not in names and "residuals.png" not in names
    assert best is None or best


def test_the_session_report_speaks_trading(trading: Path) -> None:
    text = (trading / "exports" / "session_reports" / "SYN_1m.html").read_text()
    for words in (
        "equity",
        "buy and hold",
        "drawdown",
        "regime",
        "Trades",
        "entry",
        "exit",
        "strategy",
        "stop loss",
        "sharpe",
    ):
        assert words in text, words
    for ml in ("val samples", "features", "predicted vs", "residuals", "out-of-fold"):
        assert ml not in text, ml
    assert "entries and exits of ma_" in text or "entries and exits of rsi_" in text  # the best strategy


def test_catalog_pages_rank_trading_by_sharpe(trading: Path, capsys) -> None:
    _cli(trading, capsys, "catalog", "report")
    pages = trading / "catalog" / "reports"
    overall = (pages / "global_performance.html").read_text()
    assert "val sharpe" in overall
    assert "val rmse" not in overall
    history = next(p for p in pages.rglob("*.html") if "SYN_1m" in p.name).read_text()
    assert "sharpe" in history and "rmse" not in history


def test_cli_tables_say_strategy_stop_loss_and_trades(trading: Path, capsys) -> None:
    shown = _cli(trading, capsys, "runs", "show", "SYN_1m")
    assert "strategy" in shown and "stop loss" in shown
    best = _cli(trading, capsys, "catalog", "best", "SYN_1m")
    assert "strategy" in best and "stop loss" in best and "trades" in best
    assert "sharpe" in _cli(trading, capsys, "catalog", "list", "--dataset", "SYN_1m")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need Debian's /usr/bin/chromium")
def test_the_trading_session_report_in_a_browser(trading: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.reports.test_browser import ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = OpenedPage(browser, trading / "exports" / "session_reports" / "SYN_1m.html")
            page.check_loaded_alone()
            captions = page.check_svgs(at_least=3)  # the engine's charts, drawn inline by the core
            assert {"equity", "drawdown", "price and regimes"} <= {c.split(":")[0] for c in captions}, (
                captions
            )
            assert page.page.locator("img").count() == 0
            assert page.page.locator("#trades tbody tr").count() >= 1
            assert page.page.locator("#regimes tbody tr").count() >= 2
            page.screenshot(tmp_path / "trading_session_report.png")
        finally:
            browser.close()


def test_bars_that_are_gone_leave_a_note_not_a_failed_report(trading: Path, capsys) -> None:
    bars = trading.parent / "SYN_1m.csv"
    moved = bars.rename(trading.parent / "elsewhere.csv")
    try:
        _cli(trading, capsys, "report", "SYN_1m")
        text = (trading / "exports" / "session_reports" / "SYN_1m.html").read_text()
        assert "The engine&#x27;s figures could not be drawn" in text or "figures could not be drawn" in text
        assert "Pipelines (" in text  # the rest of the page is there
    finally:
        moved.rename(bars)
    _cli(trading, capsys, "report", "SYN_1m")
    assert "could not be drawn" not in (trading / "exports" / "session_reports" / "SYN_1m.html").read_text()


def test_report_draws_the_engine_pngs_a_run_left_to_draw(trading: Path, capsys) -> None:
    """A default run draws no PNG: nirs4all report draws the engine's charts into outputs/."""
    outputs = list((trading / "runs" / "SYN_1m").glob("*/outputs"))
    saved = {p: p.read_bytes() for o in outputs for p in o.iterdir()}
    for path in saved:
        path.unlink()
    try:
        shown = _cli(trading, capsys, "report", "SYN_1m")
        assert "plots: 3 PNG in" in " ".join(shown.split())
        names = sorted(p.name for o in outputs for p in o.iterdir())
        assert names == sorted(ENGINE_FIGURES)
        for output in outputs:
            for name in ENGINE_FIGURES:
                assert (output / name).read_bytes().startswith(b"\x89PNG")
    finally:
        for path, data in saved.items():
            path.write_bytes(data)
