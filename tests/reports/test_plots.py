"""Every figure is a PNG of the expected size, drawn without pyplot or a display."""

from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest

from nirs4all_workspace.reports import plots

RNG = np.random.default_rng(0)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def series():
    y = RNG.normal(10, 2, 80)
    return [
        plots.Series("val", y, y + RNG.normal(0, 0.5, 80)),
        plots.Series("test", y[:20], y[:20] + 0.3),
    ]


FIGURES = {
    "predicted_vs_true": lambda: plots.predicted_vs_true(series(), "0001_pls", ["val rmse 0.5"]),
    "residuals": lambda: plots.residuals(series(), "0001_pls"),
    "confusion": lambda: plots.confusion_matrices(
        [("val", np.array([[5, 1], [0, 4]])), ("test", np.array([[2, 0], [1, 2]]))], ["a", "b"], "t"
    ),
    "coefficients": lambda: plots.coefficients(
        np.linspace(1100, 2500, 50), RNG.normal(size=(3, 50)), ["a", "b", "c"], "wavelength", "t"
    ),
    "numeric parameter": lambda: plots.score_by_parameter(
        "alpha", [0.001, 0.1, 10.0, 0.1], [1.0, 0.8, 1.2, 0.9], "val rmse", "min", numeric=True, log=True
    ),
    "text parameter": lambda: plots.score_by_parameter(
        "preprocessing",
        ["none", "SNV > SavitzkyGolay(window_length=15, deriv=1)"],
        [1.0, 0.8],
        "val rmse",
        "min",
        numeric=False,
    ),
    "heat map": lambda: plots.heat_map(
        ("preprocessing", ["none", "snv"]),
        ("n_components", ["2", "4", "6"]),
        np.array([[1.0, np.nan, 0.8], [0.9, 0.7, 0.75]]),
        "val rmse",
        "min",
        "best",
    ),
    "history": lambda: plots.history(["s1", "s2", "s3"], [[1.0, 1.2], [0.9], []], "val rmse", "min", "d"),
    "bars": lambda: plots.bars(["a", "b"], [0.9, float("nan")], "val r2", "best"),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_is_a_modest_png(name):
    data = FIGURES[name]()
    width, height = png_size(data)
    assert 200 <= width <= 1300 and 150 <= height <= 1000
    assert len(data) < 150_000


def test_the_cli_start_up_and_the_plot_module_do_not_import_pyplot():
    code = (
        "import sys\n"
        "import nirs4all_workspace.cli.app\n"
        "assert 'matplotlib' not in sys.modules, 'the CLI imported matplotlib at start-up'\n"
        "from nirs4all_workspace.reports import plots\n"
        "import numpy as np\n"
        "plots.bars(['a'], [1.0], 'm', 't')\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_short_labels_keep_axes_readable():
    assert plots.short_label("x" * 50, 10) == "x" * 9 + "…"
    assert plots.short_label("short") == "short"
