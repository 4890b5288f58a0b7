import json
import re
import shutil
import zipfile

import pytest

from nirs4all_workspace.engines.sklearn import SklearnEngine
from nirs4all_workspace.errors import InputError
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.contents import open_trained
from nirs4all_workspace.library.exports import export_pipeline, refresh_exports

from .helpers import SMALL_GRID, TINY, tree


def test_a_run_leaves_a_copy_of_its_best_in_exports(trained):
    layout = trained.ws.layout
    folder = layout.export_dataset_dir("tiny")
    marker = json.loads((folder / "export.json").read_text())
    assert marker["folder"] == trained.best and marker["score"] == trained.report.best.score
    for name in ("pipeline.json", "metrics.json", "predictions.csv", "manifest.yaml"):
        assert (folder / name).read_bytes() == (trained.best_dir / name).read_bytes()
    record = json.loads((trained.best_dir / "pipeline.json").read_text())
    assert sorted(p.name for p in (folder / "binaries").iterdir()) == sorted(
        a["file"] for a in record["artifacts"]
    )
    (best_file,) = (layout.exports_dir / "best_predictions").glob("tiny_*.csv")
    assert re.fullmatch(
        rf"tiny_\d{{8}}_{trained.best[:4]}_{trained.best.rsplit('_', 1)[1]}\.csv", best_file.name
    )
    assert best_file.read_bytes() == (trained.best_dir / "predictions.csv").read_bytes()
    assert not (layout.exports_dir / "_staging").exists()


def test_a_better_pipeline_replaces_the_export_whole(tmp_path):
    engine = SklearnEngine()
    ws = Workspace.open(tmp_path / "ws")
    data = engine.load_dataset(TINY)
    first = run_experiment(
        ws, engine, data, {"pipeline": ["snv", {"class": "pls", "params": {"n_components": 1}}]}
    )
    first_best = first.best.folder
    before = tree(ws.layout.exports_dir)
    second = run_experiment(ws, engine, data, SMALL_GRID, session="better")
    assert second.best.folder != first_best
    folder = ws.layout.export_dataset_dir("tiny_nirs")
    assert json.loads((folder / "export.json").read_text())["folder"] == second.best.folder
    assert (folder / "pipeline.json").read_bytes() == ws.layout.pipeline(
        "tiny_nirs", second.best.folder
    ).pipeline_json.read_bytes()
    files = sorted(p.name for p in (ws.layout.exports_dir / "best_predictions").iterdir())
    assert len(files) == 1 and second.best.folder.split("_")[0] in files[0]
    assert tree(ws.layout.exports_dir) != before
    # nothing changes when the best did not: the copy is not redone
    stamp = (folder / "export.json").stat().st_mtime_ns
    refresh_exports(ws, "tiny_nirs")
    assert (folder / "export.json").stat().st_mtime_ns == stamp


def test_export_writes_a_library_zip(trained, tmp_path):
    out = export_pipeline(trained.ws, f"tiny/{trained.best}", tmp_path / "send" / "model.zip")
    assert out.kind == "filtered" and out.path.is_file() and out.source == f"tiny/{trained.best}"
    with_data = export_pipeline(
        trained.ws, "tiny/" + trained.best[:4], tmp_path / "full.zip", include_data=True
    )
    assert with_data.kind == "fullrun"
    assert open_trained(with_data.path).data_files().keys() == {"Xcal.csv", "Ycal.csv"}
    with zipfile.ZipFile(out.path) as archive:
        assert not any(n.startswith("data/") for n in archive.namelist())
    with pytest.raises(InputError, match="already exists; pass --force"):
        export_pipeline(trained.ws, f"tiny/{trained.best}", out.path)
    export_pipeline(trained.ws, f"tiny/{trained.best}", out.path, force=True)
    with pytest.raises(InputError, match=r"must end in \.zip"):
        export_pipeline(trained.ws, f"tiny/{trained.best}", tmp_path / "model.tar")


def test_a_fullrun_needs_the_data_it_was_fitted_on(tmp_path):
    copy = shutil.copytree(TINY, tmp_path / "wheat")
    engine = SklearnEngine()
    ws = Workspace.open(tmp_path / "ws")
    report = run_experiment(ws, engine, engine.load_dataset(copy), {"pipeline": ["pls"]}, session="s")
    ycal = copy / "Ycal.csv"
    original = ycal.read_text()
    ycal.write_text(original.replace("1", "2", 5))
    with pytest.raises(InputError, match=r"is not the data wheat/.* was fitted on"):
        export_pipeline(ws, f"wheat/{report.best.folder}", tmp_path / "a.zip", include_data=True)
    moved = shutil.copytree(TINY, tmp_path / "moved")
    done = export_pipeline(
        ws, f"wheat/{report.best.folder}", tmp_path / "a.zip", include_data=True, data=moved
    )
    assert done.kind == "fullrun"
