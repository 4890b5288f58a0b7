import numpy as np
import pytest

from nirs4all_workspace.errors import IntegrityError
from nirs4all_workspace.workspace.artifacts import serialize


def test_identical_objects_are_stored_once(workspace):
    first = serialize(0, "Scaler", np.arange(10.0))
    second = serialize(3, "Scaler", np.arange(10.0))
    assert first.digest == second.digest
    ref_a = workspace.artifacts.put("corn", first)
    ref_b = workspace.artifacts.put("corn", second)
    assert ref_a.file == ref_b.file
    assert workspace.artifacts.files("corn") == [ref_a.file]
    assert ref_a.file.startswith("Scaler_") and ref_a.file.endswith(".joblib")


def test_loading_checks_the_digest(workspace):
    ref = workspace.artifacts.put("corn", serialize(0, "Model", {"coef": [1.0, 2.0]}))
    assert workspace.artifacts.load("corn", ref) == {"coef": [1.0, 2.0]}
    path = workspace.layout.binary_path("corn", ref.file)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="does not match its recorded digest"):
        workspace.artifacts.load("corn", ref)
    path.unlink()
    with pytest.raises(IntegrityError, match="is missing"):
        workspace.artifacts.load("corn", ref)


def test_serialized_bytes_are_a_standard_pickle_that_joblib_also_loads(tmp_path):
    """One pass of the C pickler (no joblib wrapper frames): pickle and joblib both read it back."""
    import hashlib
    import pickle

    import joblib

    obj = {"coef": np.linspace(0.0, 1.0, 500), "names": ["a", "b"], "n": 3}
    artifact = serialize(0, "Model", obj)
    assert artifact.digest == hashlib.sha256(artifact.data).hexdigest()
    loaded = pickle.loads(artifact.data)
    assert isinstance(loaded["coef"], np.ndarray)
    assert np.array_equal(loaded["coef"], obj["coef"]) and loaded["names"] == ["a", "b"]
    path = tmp_path / artifact.file_name
    path.write_bytes(artifact.data)
    assert np.array_equal(joblib.load(path)["coef"], obj["coef"])
    assert serialize(1, "Model", obj).digest == artifact.digest  # same object, same bytes


def test_a_reference_is_written_with_every_field_of_the_dataclass():
    """to_dict is written out by hand (no deep copy): a field added later must be added there too."""
    import dataclasses

    from nirs4all_workspace.workspace.artifacts import ArtifactRef

    ref = ArtifactRef(step=2, operator="PLS", file="PLS_0123.joblib", digest="ab" * 32, size=7)
    assert ref.to_dict() == dataclasses.asdict(ref)
    assert list(ref.to_dict()) == [f.name for f in dataclasses.fields(ArtifactRef)]
    assert ArtifactRef.from_dict(ref.to_dict()) == ref
