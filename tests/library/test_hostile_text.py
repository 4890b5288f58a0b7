"""Text from a zip or a file reaches the terminal inert; a skops file hiding a pickle is refused early."""

import copy
import io
import shutil
import zipfile

import numpy as np
import pytest

from nirs4all_workspace.cli.render import safe_text
from nirs4all_workspace.errors import ArchiveRefused
from nirs4all_workspace.facade import Workspace
from nirs4all_workspace.library.trained import import_trained, show_trained

from .helpers import nirs4all
from .hostile import WriteCanary, build, model_member, read, replace

# An OSC window title, a colour, a bell, a C1 CSI and a right-to-left override.
EVIL = "evil\x1b]0;pwned\x07\x1b[31mred\x9b2J\u202egnp.exe"
CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")


def _clean(text: str) -> bool:
    return not any(ch in text for ch in CONTROLS)


def test_safe_text_escapes_controls_and_keeps_tabs_and_newlines():
    assert safe_text(EVIL) == "evil\\x1b]0;pwned\\x07\\x1b[31mred\\x9b2J\\u202egnp.exe"
    assert safe_text("a\tb\nc\rd\x00") == "a\tb\nc\\x0dd\\x00"


@pytest.fixture
def evil_zip(trained, tmp_path):
    manifest, members = read(trained.zips["pipeline"])
    manifest = copy.deepcopy(manifest)
    manifest["name"] = EVIL
    manifest["source"]["dataset"] = EVIL
    manifest["created_at"] = EVIL
    manifest["fitted_with"]["numpy"] = EVIL
    manifest["predict"]["target"] = EVIL
    manifest["predict"]["feature_names"][0] = EVIL
    manifest["score"]["metric"] = EVIL
    for pipeline in manifest["pipelines"]:
        pipeline["model"] = EVIL
        pipeline["preprocessing"] = EVIL
    path = tmp_path / "evil.zip"
    path.write_bytes(build(manifest, members))
    return path


def test_show_list_and_errors_print_no_control_characters(evil_zip, tmp_path):
    ws = tmp_path / "ws"
    shown = nirs4all("library", "show", str(evil_zip), "--workspace", str(ws))
    assert shown.returncode == 0, shown.stderr
    assert "evil\\x1b]0;pwned" in shown.stdout and _clean(shown.stdout + shown.stderr)
    imported = nirs4all("library", "import", str(evil_zip), "--workspace", str(ws))
    assert imported.returncode == 2 and _clean(imported.stderr), imported.stderr
    assert "evil\\x1b" in imported.stderr
    folder = ws / "library" / "trained" / "pipeline"
    folder.mkdir(parents=True)
    shutil.copy(evil_zip, folder / "copied.zip")
    listed = nirs4all("library", "list", "--workspace", str(ws))
    assert listed.returncode == 0 and "copied" in listed.stdout and _clean(listed.stdout), listed.stdout


def test_column_names_from_a_data_file_are_printed_inert(trained, tmp_path):
    data = tmp_path / "new.csv"
    text = trained.csv.read_text()
    data.write_text(text.replace(text.split(",")[0], EVIL.replace("\u202e", ""), 1))
    done = nirs4all(
        "predict",
        "--model",
        str(trained.zips["filtered"]),
        "--data",
        str(data),
        "-o",
        "o.csv",
        "--workspace",
        str(tmp_path / "ws"),
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "evil\\x1b" in done.stderr and _clean(done.stderr), done.stderr
    assert not (tmp_path / "o.csv").exists()


def _with_pickled_array(skops_bytes: bytes, canary) -> bytes:
    """The skops file with its first array replaced by an object array (a pickle, in .npy form)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(skops_bytes)) as source, zipfile.ZipFile(out, "w") as target:
        replaced = False
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith(".npy") and not replaced:
                buffer = io.BytesIO()
                np.save(buffer, np.array([WriteCanary(canary)], dtype=object), allow_pickle=True)
                data, replaced = buffer.getvalue(), True
            target.writestr(info, data)
    return out.getvalue()


def test_a_skops_file_holding_a_pickled_array_is_refused_by_show_and_import(trained, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("untouched")
    manifest, members = read(trained.zips["filtered"])
    model = model_member(manifest)
    path = tmp_path / "pickled-array.zip"
    path.write_bytes(
        build(manifest, replace(members, model, _with_pickled_array(dict(members)[model], canary)))
    )
    layout = Workspace.open(tmp_path / "ws").layout
    for attempt in (lambda: show_trained(layout, str(path)), lambda: import_trained(layout, path)):
        with pytest.raises(ArchiveRefused, match=r"holds a pickled object array .*; refused"):
            attempt()
    assert canary.read_text() == "untouched"
    assert not list((tmp_path / "ws" / "library").rglob("*.zip"))
