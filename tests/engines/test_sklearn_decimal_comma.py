"""A decimal-comma CSV whose header holds decimal-comma wavelengths loads and scores like its dot twin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nirs4all_workspace.engines.sklearn import SklearnEngine, load_dataset

GRID = {"pipeline": ["snv", {"model": {"class": "pls", "params": {"n_components": {"_or_": [2, 4]}}}}]}


def _twins(tmp_path: Path, separator: str = ";") -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    wavelengths = 1100.5 + 0.5 * np.arange(40)
    X = rng.normal(size=(30, 40)).cumsum(axis=1) + 2
    y = X[:, 7] - X[:, 30] + rng.normal(scale=0.1, size=30)
    dot_lines = [",".join([*(f"{w:.1f}" for w in wavelengths), "protein"])]
    comma_lines = [separator.join([*(f"{w:.1f}".replace(".", ",") for w in wavelengths), "protein"])]
    for row, target in zip(X, y, strict=True):
        values = [repr(float(v)) for v in (*row, target)]
        dot_lines.append(",".join(values))
        comma_lines.append(separator.join(v.replace(".", ",") for v in values))
    dot, comma = tmp_path / "dot.csv", tmp_path / "comma.csv"
    dot.write_text("\n".join(dot_lines) + "\n")
    comma.write_text("\n".join(comma_lines) + "\n")
    assert comma_lines[0].startswith(f"1100,5{separator}1101,0{separator}")
    return dot, comma


@pytest.mark.parametrize("separator", [";", "\t"])
def test_decimal_comma_header_loads_like_its_dot_twin(tmp_path: Path, separator: str) -> None:
    dot, comma = _twins(tmp_path, separator)
    a, b = load_dataset(dot), load_dataset(comma)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert b.feature_names == a.feature_names and b.feature_names[:2] == ["1100.5", "1101.0"]
    assert b.target_name == "protein"


def test_decimal_comma_header_scores_like_its_dot_twin(tmp_path: Path) -> None:
    dot, comma = _twins(tmp_path)
    engine = SklearnEngine()
    specs = engine.expand(GRID)
    for spec in specs:
        ours = engine.execute(spec, load_dataset(comma))
        theirs = engine.execute(spec, load_dataset(dot))
        assert ours.metrics == theirs.metrics
