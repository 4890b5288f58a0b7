"""Every SVG figure is well-formed, small, escaped, and drawn without matplotlib."""

from __future__ import annotations

import subprocess
import sys
from xml.etree import ElementTree

import numpy as np
import pytest

from nirs4all_workspace.reports import svg
from nirs4all_workspace.reports.plots import Series

RNG = np.random.default_rng(0)
NS = ""  # inline in HTML: the parser puts <svg> in the SVG namespace, no xmlns needed
HOSTILE = '0001_<script>alert("x")</script>&'


def series():
    y = RNG.normal(10, 2, 80)
    return [Series("val", y, y + RNG.normal(0, 0.5, 80)), Series("test", y[:20], y[:20] + 0.3)]


def equity_chart() -> svg.Chart:
    x = np.arange(5000)
    return svg.Chart(
        HOSTILE,
        "bar",
        "equity",
        (
            svg.Layer("spans", [(0, 1000), (3000, 4000)], colour="#d0e8f2", label="bull"),
            svg.Layer("line", x, np.cumprod(1 + RNG.normal(0, 0.01, 5000)), label="strategy"),
            svg.Layer("fill", x, -RNG.uniform(0, 5, 5000), colour="#cf222e"),
            svg.Layer("points", [10, 500], [1.0, 1.1], colour="#1a7f37", marker="^", label="entry"),
        ),
    )


FIGURES = {
    "predicted_vs_true": lambda: svg.predicted_vs_true(series(), HOSTILE, ["val   rmse 0.5"]),
    "residuals": lambda: svg.residuals(series(), HOSTILE),
    "confusion": lambda: svg.confusion_matrices(
        [("val", np.array([[5, 1], [0, 4]])), ("test", np.array([[2, 0], [1, 2]]))], ["a", HOSTILE], HOSTILE
    ),
    "coefficients": lambda: svg.coefficients(
        np.linspace(1100, 2500, 50), RNG.normal(size=(3, 50)), ["a", "b", HOSTILE], "wavelength", HOSTILE
    ),
    "numeric parameter": lambda: svg.score_by_parameter(
        HOSTILE, [0.001, 0.1, 10.0, 0.1], [1.0, 0.8, 1.2, 0.9], "val rmse", "min", numeric=True, log=True
    ),
    "text parameter": lambda: svg.score_by_parameter(
        "preprocessing", ["none", HOSTILE], [1.0, 0.8], "val rmse", "min", numeric=False
    ),
    "heat map": lambda: svg.heat_map(
        (HOSTILE, ["none", HOSTILE]),
        ("n_components", ["2", "4", "6"]),
        np.array([[1.0, np.nan, 0.8], [0.9, 0.7, 0.75]]),
        "val rmse",
        "min",
        HOSTILE,
    ),
    "engine chart": lambda: svg.chart(equity_chart()),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_is_well_formed_escaped_and_small(name):
    text = FIGURES[name]()
    root = ElementTree.fromstring(text)  # raises on a tag a hostile name could have opened
    assert root.tag == f"{NS}svg"
    assert 200 <= int(root.get("width")) <= 1300 and 150 <= int(root.get("height")) <= 1000
    assert "<script" not in text and root.find(f".//{NS}script") is None
    assert "&lt;script" in text  # the hostile name is shown, as text
    assert root.find(f".//{NS}path") is not None or root.find(f".//{NS}rect") is not None
    assert len(text) < 120_000


def test_a_long_line_is_cut_to_what_a_screen_shows_without_losing_its_extremes():
    x = np.arange(100_000, dtype=np.float64)
    y = np.sin(x / 500.0)
    y[54_321] = 9.0  # one spike: it must stay on the curve
    plot = svg.Plot(700, 360, "t").scales((0.0, 100_000.0), (-1.5, 9.5))
    px, py = svg._reduce(plot.x(x), plot.y(y))
    assert len(px) < 4 * 700
    assert float(plot.y([9.0])[0]) in set(py.tolist())


def test_the_best_cell_of_a_heat_map_is_outlined_whatever_the_direction():
    values = np.array([[1.0, 0.2], [0.5, 3.0]])
    for direction, cell in (("min", (0, 1)), ("max", (1, 1))):
        text = svg.heat_map(("r", ["a", "b"]), ("c", ["x", "y"]), values, "m", direction, "t")
        root = ElementTree.fromstring(text)
        titles = ["".join(t.itertext()) for t in root.iter(f"{NS}title")]
        assert "r=b, c=y: m 3" in titles  # each cell says what it is on hover
        outlined = [r for r in root.iter(f"{NS}rect") if r.get("stroke") == svg.RED]
        assert len(outlined) == 1
        # cells are laid out from the first one: the outline sits inside the expected cell
        cells = [r for r in root.iter(f"{NS}rect") if r.get("stroke") is None and r.get("height") != "12"]
        first = cells[0]
        width, height = float(first.get("width")), float(first.get("height"))
        x0, y0 = float(first.get("x")), float(first.get("y"))
        assert int((float(outlined[0].get("x")) - x0) // width) == cell[1]
        assert int((float(outlined[0].get("y")) - y0) // height) == cell[0]


def test_nice_ticks_are_round_and_inside_the_range():
    assert [round(t, 9) for t in svg.nice_ticks(0.0, 1.0)] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ticks = svg.nice_ticks(1.37, 9.81)
    assert all(1.37 <= t <= 9.81 for t in ticks) and len(ticks) >= 3
    assert svg.log_ticks(0.001, 10.0) == [0.001, 0.01, 0.1, 1.0, 10.0]


def test_drawing_every_figure_never_imports_matplotlib():
    code = (
        "import sys\n"
        "import tests.reports.test_svg as t\n"
        "for f in t.FIGURES.values(): f()\n"
        "assert 'matplotlib' not in sys.modules, sorted(m for m in sys.modules if 'matplotlib' in m)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
