"""A zip from someone else is untrusted: every hostile zip is refused, and nothing is written."""

import re
import shutil

import pytest

from nirs4all_workspace.errors import ArchiveRefused, TrustRequired
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.predict import predict_file
from nirs4all_workspace.library.reproduce import rerun_zip
from nirs4all_workspace.library.trained import import_trained, show_trained
from nirs4all_workspace.library.zipformat import ZipLimits, open_zip

from .helpers import tree
from .hostile import hostile_zips

# Loading objects is where a pickle or an untrusted type would run: 'show' only reports them.
OBJECT_CASES = ("pickle", "untrusted type")


@pytest.fixture(scope="module")
def hostile(trained, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    canary = root / "canary.txt"
    canary.write_text("untouched")
    zips = {}
    for name, (data, expected) in hostile_zips(trained.zips["fullrun"], canary).items():
        path = root / "zips" / f"{name.replace(' ', '-')}.zip"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        zips[name] = (path, expected)
    Workspace.open(root / "ws")
    shutil.copy(trained.csv, root / "new.csv")
    return root, canary, zips


def _attempts(root, path):
    ws = Workspace.open(root / "ws", create=False)
    return {
        "import": lambda: import_trained(ws.layout, path),
        "predict": lambda: predict_file(ws.layout, path, root / "new.csv", root / "out.csv"),
        "re-run": lambda: rerun_zip(ws, path),
        "show": lambda: show_trained(ws.layout, str(path)),
    }


CASES = (
    "zip-slip",
    "absolute path",
    "symlink",
    "declared bomb",
    "ratio bomb",
    "lying sizes",
    "duplicate",
    "unlisted",
    "missing member",
    "tampered binary",
    "tampered manifest",
    "pickle",
    "untrusted type",
    "not a zip",
    "no manifest",
)


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_zip_is_refused_and_nothing_is_written(hostile, case):
    root, canary, zips = hostile
    path, expected = zips[case]
    before = tree(root)
    for action, attempt in _attempts(root, path).items():
        if action == "show" and case in OBJECT_CASES:
            assert show_trained(Workspace.open(root / "ws").layout, str(path)).trust_needs, case
            continue
        with pytest.raises(ArchiveRefused) as caught:
            attempt()
        message = str(caught.value)
        assert re.search(expected, message), f"{action}: {message}"
        assert "\n" not in message
        if case in OBJECT_CASES:
            assert isinstance(caught.value, TrustRequired) and "--trust" in message
    assert canary.read_text() == "untouched"
    assert tree(root) == before


def test_every_refusal_has_its_own_message(hostile):
    _, _, zips = hostile
    messages = {}
    for case, (path, _) in zips.items():
        with pytest.raises(ArchiveRefused) as caught:
            import_trained(Workspace.open(path.parents[1] / "ws").layout, path)
        messages[case] = re.sub(r"zip '[^']*'|member \S+|entry '[^']*'", "", str(caught.value))
    assert len(set(messages.values())) == len(CASES) == len(messages)


def test_limits_come_from_the_environment(hostile, monkeypatch, trained):
    _, canary, _ = hostile
    monkeypatch.setenv("NIRS4ALL_ZIP_MAX_ENTRIES", "5")
    with pytest.raises(ArchiveRefused, match=r"has \d+ entries, more than the limit of 5"):
        open_zip(trained.zips["fullrun"])
    monkeypatch.setenv("NIRS4ALL_ZIP_MAX_ENTRIES", "10000")
    monkeypatch.setenv("NIRS4ALL_ZIP_MAX_MB", "0.01")
    with pytest.raises(ArchiveRefused, match="over the limit of 10485"):
        open_zip(trained.zips["fullrun"])
    monkeypatch.setenv("NIRS4ALL_ZIP_MAX_MB", "lots")
    with pytest.raises(ArchiveRefused, match="must be numbers"):
        ZipLimits.from_env()
    assert canary.read_text() == "untouched"


def test_trust_loads_a_pickle_with_a_warning_that_names_it(trained, tmp_path):
    import pickle

    from nirs4all_workspace.library.contents import open_trained

    from .hostile import build, model_member, read, replace

    manifest, members = read(trained.zips["filtered"])
    model = model_member(manifest)
    original = open_trained(trained.zips["filtered"]).load_steps()[0][-1]
    safe_pickle = build(manifest, replace(members, model, pickle.dumps(original)))
    path = tmp_path / "pickled.zip"
    path.write_bytes(safe_pickle)
    with pytest.raises(TrustRequired, match=re.escape(model)):
        open_trained(path).load_steps()
    steps, notes = open_trained(path).load_steps(trust=True)
    assert type(steps[-1]).__name__ == "PLSRegression"
    assert any(model in note and "pickle" in note and "--trust" in note for note in notes)
    entry = import_trained(Workspace.open(tmp_path / "ws").layout, path, trust=True)
    assert entry.notes and model in entry.notes[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m.update(type="everything"), "type 'everything' is not one of"),
        (lambda m: m.update(pipelines=[]), "no pipelines"),
        (lambda m: m["predict"].update(feature_names={"a": 1}), "feature_names is not a list of names"),
        (lambda m: m["predict"].update(n_features="50"), "n_features is not a number"),
        (lambda m: m.update(source=["x"]), "'source' is not a mapping"),
        (lambda m: m.update(default_pipeline="0099_x_abcdef"), "holds no pipeline '0099_x_abcdef'"),
        (
            lambda m: m["pipelines"][0]["steps"][0].update(file="binaries/other.skops"),
            "names a fitted object",
        ),
        (lambda m: m.update(data=None), "a fullrun zip without its training data"),
    ],
)
def test_a_consistent_but_malformed_manifest_is_refused(trained, change, expected):
    import copy

    from nirs4all_workspace.library.contents import open_trained

    from .hostile import build, read

    manifest, members = read(trained.zips["fullrun"])
    manifest = copy.deepcopy(manifest)
    change(manifest)
    with pytest.raises(ArchiveRefused, match=re.escape(expected)):
        open_trained(build(manifest, members))
