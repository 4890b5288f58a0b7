"""A grid of chemotools operators by alias runs, and its library zip predicts elsewhere without --trust."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .helpers import nirs4all, output_predictions, train_predictions, write_tiny_csv

GRID = """
pipeline:
  - {class: kfold, params: {n_splits: 3, shuffle: true, random_state: 0}}
  - rnv
  - {class: whittaker, params: {lam: 100}}
  - {class: sg_deriv, params: {window_length: 7, polyorder: 2, deriv: 1}}
  - poly_baseline
  - {class: range_cut, params: {start: 2, end: 45}}
  - model: {class: pls, params: {n_components: {_or_: [2, 3]}}}
"""


def test_five_chemotools_aliases_run_and_their_zip_predicts_in_a_new_process(tmp_path: Path) -> None:
    csv = write_tiny_csv(tmp_path / "tiny.csv")
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    ws = tmp_path / "ws"
    ran = nirs4all("run", "--dataset", str(csv), "--pipeline", str(grid), "--json", "--workspace", str(ws))
    assert ran.returncode == 0, ran.stderr
    best = json.loads(ran.stdout)["runs"][0]["best"]["folder"]
    record = json.loads((ws / "runs" / "tiny" / best / "pipeline.json").read_text())
    classes = [step.get("class") for step in record["config"]["pipeline"] if "class" in step]
    assert sum(c.startswith("chemotools.") for c in classes) == 5, classes
    expected = train_predictions(ws / "runs" / "tiny" / best)

    saved = nirs4all("library", "save", f"tiny/{best}", "--name", "chemo", "--workspace", str(ws))
    assert saved.returncode == 0, saved.stderr
    (zip_path,) = (ws / "library" / "trained").rglob("chemo.zip")
    out = tmp_path / "out.csv"
    done = nirs4all("predict", "--model", str(zip_path), "--data", str(csv), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "trust" not in done.stderr.lower()
    got = output_predictions(out)
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[k], expected[k], rel_tol=1e-9, abs_tol=1e-12) for k in expected)
