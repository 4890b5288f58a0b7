"""A run that scores nothing says why and exits non-zero; the default grid fits small data;
a full disk during a run is one line (issue 12, items 11 and 12)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nirs4all_workspace.engines.sklearn import SklearnEngine
from tests.tmpfs import small_tmpfs


def spectra_csv(path: Path, rows: int, features: int, target: np.ndarray | None = None) -> Path:
    rng = np.random.default_rng(rows + features)
    X = rng.normal(size=(rows, features)).cumsum(axis=1)
    y = X[:, 0] * 3 + rng.normal(size=rows) * 0.1 if target is None else target
    names = [str(1000 + 2 * i) for i in range(features)] + ["protein"]
    lines = [",".join(names)] + [",".join(repr(float(v)) for v in [*r, t]) for r, t in zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def last_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert "Traceback" not in err, err
    return lines[-1]


def test_the_default_grid_fits_three_samples(cli, tmp_path):
    data = spectra_csv(tmp_path / "three.csv", 3, 40)
    code, _out, err = cli("run", "--dataset", str(data), "--plots", "none", "--session", "s")
    assert code == 0, err
    report = cli.json("runs", "show", "three")
    assert report["overview"]["failed"] == 0
    assert report["overview"]["completed"] > 0
    for folder in (cli.root / "runs" / "three").glob("0*"):
        assert '"n_splits": 3,' in (folder / "pipeline.json").read_text()  # one fold per sample


def test_the_default_grid_is_unchanged_for_the_demo_data():
    engine = SklearnEngine()
    assert engine.default_config_for(engine.demo_dataset()) == engine.default_config()


def test_the_default_grid_caps_pls_components():
    engine = SklearnEngine()
    demo = engine.demo_dataset()
    data = type(demo)(
        name="few",
        source="x",
        X=demo.X[:12, :6],
        y=demo.y[:12],
        feature_names=demo.feature_names[:6],
        target_name="y",
        task="regression",
        sample_ids=np.arange(12),
    )
    specs = engine.expand(engine.default_config_for(data))
    components = {s.params.get("model.n_components") for s in specs} - {None}
    assert components and max(components) <= 6
    assert all(s.config["pipeline"][0]["params"]["n_splits"] <= 5 for s in specs)


def test_every_pipeline_failing_exits_non_zero_with_the_reason(cli, tmp_path):
    data = spectra_csv(tmp_path / "twenty.csv", 40, 20)
    grid = tmp_path / "pls50.yaml"
    grid.write_text("pipeline:\n  - {model: {class: pls, params: {n_components: 50}}}\n")
    code, _out, err = cli("run", "--dataset", str(data), "--pipeline", str(grid), "--plots", "none")
    assert code == 1, err
    line = last_line(err)
    assert line.startswith("error:") and "1 of 1 failed" in line and "n_components" in line


def test_a_target_that_overflows_every_metric_exits_non_zero(cli, tmp_path):
    data = spectra_csv(tmp_path / "huge.csv", 30, 10, target=np.full(30, 1e308) * np.linspace(-1, 1, 30))
    grid = tmp_path / "ridge.yaml"
    grid.write_text("pipeline:\n  - {model: {class: ridge}}\n")
    code, _out, err = cli("run", "--dataset", str(data), "--pipeline", str(grid), "--plots", "none")
    assert code == 1, err
    line = last_line(err)
    assert line.startswith("error:") and "no pipeline" in line and "rmse" in line


def test_a_full_disk_during_a_run_is_one_line(cli, tmp_path):
    with small_tmpfs(tmp_path / "small", "3m") as mount:
        root = mount / "ws"
        filler = mount / "filler"
        filler.write_bytes(b"\0" * 2**20)  # freed afterwards, to show the workspace can be repaired
        data = spectra_csv(tmp_path / "wheat.csv", 60, 200)
        grid = tmp_path / "ridge.yaml"
        grid.write_text("pipeline:\n  - {model: {class: ridge, params: {alpha: {_range_: [1, 400, 1]}}}}\n")
        args = ("run", "--dataset", str(data), "--pipeline", str(grid), "--plots", "none", "--session", "s")
        code, _out, err = cli(*args, "--workspace", str(root), workspace=False)
        assert code == 1, err
        assert last_line(err).startswith("error:") and "No space left on device" in last_line(err)
        filler.unlink()
        code, out, err = cli("workspace", "verify", "--repair", "--workspace", str(root), workspace=False)
        assert code == 0, out + err
        code, out, err = cli("workspace", "verify", "--workspace", str(root), workspace=False)
        assert code == 0, out + err
        shown = cli("runs", "show", "wheat", "--json", "--workspace", str(root), workspace=False)
        assert shown[0] == 0 and '"completed"' in shown[1]


def test_a_test_metric_on_data_without_a_test_part_is_refused_before_anything_runs(cli, tmp_path):
    data = spectra_csv(tmp_path / "notest.csv", 20, 30)
    code, _out, err = cli("run", "--dataset", str(data), "--metric", "test_rmse", "--plots", "none")
    assert code == 2, err
    line = last_line(err)
    assert "test" in line and "Xval" in line, line
    assert not (cli.root / "runs" / "notest").exists()
