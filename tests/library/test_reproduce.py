import copy
import json

import pytest

from nirs4all_workspace.engines.sklearn import SklearnEngine
from nirs4all_workspace.errors import ArchiveRefused, InputError, TrustRequired
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.reproduce import check_config_classes, rerun_zip

from .helpers import tree
from .hostile import build, read


def test_a_fullrun_zip_reruns_to_the_same_scores(trained, tmp_path):
    ws = Workspace.open(tmp_path / "elsewhere")
    result = rerun_zip(ws, trained.zips["fullrun"], session="again")
    assert result.same_data and result.all_same
    assert len(result.comparisons) == len(trained.report.saved) == 4
    original = {s.handle.folder: s for s in trained.report.saved}
    for comparison in result.comparisons:
        assert comparison.new_folder == comparison.folder  # same numbers and hashes in a new workspace
        assert comparison.rerun == original[comparison.folder].score("rmse", "val")
    again = json.loads(ws.layout.pipeline("tiny", trained.best).metrics_json.read_text())
    first = json.loads(trained.best_dir.joinpath("metrics.json").read_text())
    assert again == first  # every partition and fold, not only the compared score


def test_a_zip_without_data_needs_a_dataset(trained, tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    with pytest.raises(InputError, match="without training data; give --dataset"):
        rerun_zip(ws, trained.zips["filtered"])
    data = SklearnEngine().load_dataset(trained.csv)
    result = rerun_zip(ws, trained.zips["filtered"], dataset=data)
    assert result.same_data and result.all_same and len(result.comparisons) == 1


def _with_config(source, tmp_path, mutate):
    manifest, members = read(source)
    changed = []
    for name, data in members:
        if not name.endswith("pipeline.json"):
            changed.append((name, data))
            continue
        record = json.loads(data)
        mutate(record)
        changed.append((name, json.dumps(record).encode()))
    path = tmp_path / "changed.zip"
    path.write_bytes(build(manifest, changed))
    return path


def test_a_config_that_would_create_an_untrusted_class_is_refused(trained, tmp_path):
    def evil(record):
        record["config"]["pipeline"].insert(1, {"class": "subprocess.Popen", "params": {"args": ["true"]}})

    path = _with_config(trained.zips["fullrun"], tmp_path, evil)
    ws = Workspace.open(tmp_path / "ws")
    before = tree(tmp_path)
    with pytest.raises(TrustRequired, match=r"would create subprocess\.Popen, which is not a scikit-learn"):
        rerun_zip(ws, path)
    assert tree(tmp_path) == before


def test_trusted_classes_pass_and_trust_lets_others_through_with_a_warning():
    config = {"pipeline": ["snv", {"class": "sklearn.svm.SVR", "params": {"C": 1.0}}]}
    assert check_config_classes(config, "zip", trust=False) == []
    odd = {"pipeline": [{"model": {"class": "collections.OrderedDict"}}]}
    with pytest.raises(TrustRequired):
        check_config_classes(odd, "zip", trust=False)
    assert check_config_classes(odd, "zip", trust=True) == [
        "zip: creating collections.OrderedDict because of --trust"
    ]
    sklearn_function = {"pipeline": [{"class": "sklearn.utils.Bunch"}]}
    with pytest.raises(TrustRequired):
        check_config_classes(sklearn_function, "zip", trust=False)


def test_training_data_that_does_not_match_its_fingerprint_is_refused(trained, tmp_path):
    manifest, members = read(trained.zips["fullrun"])
    manifest = copy.deepcopy(manifest)
    changed = [
        (name, data.replace(b".", b"9", 3) if name == "data/Ycal.csv" else data) for name, data in members
    ]
    path = tmp_path / "data.zip"
    path.write_bytes(build(manifest, changed))
    with pytest.raises(ArchiveRefused, match="training data does not match its recorded fingerprint"):
        rerun_zip(Workspace.open(tmp_path / "ws"), path)
    assert not (tmp_path / "ws" / "runs").exists()
