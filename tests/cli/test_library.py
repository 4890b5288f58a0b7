import json
import zipfile

import pytest

from tests.library.helpers import SMALL_GRID_YAML, tree, write_tiny_csv


@pytest.fixture
def ran(cli, tmp_path):
    csv = write_tiny_csv(tmp_path / "tiny.csv")
    grid = tmp_path / "grid.yaml"
    grid.write_text(SMALL_GRID_YAML)
    status, _, err = cli("run", "--dataset", str(csv), "--pipeline", str(grid), "--session", "s1")
    assert status == 0, err
    return json.loads((cli.root / "runs" / "tiny" / "_state" / "best.json").read_text())["folder"]


def test_save_list_show_and_remove(cli, ran):
    for kind in ("filtered", "pipeline", "fullrun"):
        status, out, err = cli("library", "save", f"tiny/{ran}", "--name", kind, "--type", kind)
        assert status == 0, err
        assert f"saved {kind} {kind}" in out
    listing = cli.json("library", "list")
    assert {e["name"]: e["type"] for e in listing} == {
        "filtered": "filtered",
        "pipeline": "pipeline",
        "fullrun": "fullrun",
    }
    assert all(e["source"] == f"tiny/{ran}" and e["metric"] == "rmse" for e in listing)
    status, out, _ = cli("library", "list")
    assert status == 0 and "val rmse" in out
    shown = cli.json("library", "show", "fullrun")
    assert shown["manifest"]["type"] == "fullrun" and shown["trust_needs"] == {}
    status, out, _ = cli("library", "show", "filtered")
    assert (
        status == 0
        and "every SHA-256 checked" in out
        and "predicts moisture (regression) from 50 features" in out
    )
    status, _, err = cli("library", "remove", "pipeline")
    assert status == 2 and "pass --yes" in err  # no terminal to ask
    status, out, _ = cli("library", "remove", "pipeline", "--dry-run")
    assert (
        status == 0
        and "would remove" in out
        and (cli.root / "library/trained/pipeline/pipeline.zip").exists()
    )
    assert cli("library", "remove", "pipeline", "--yes")[0] == 0
    assert [e["name"] for e in cli.json("library", "list")] == ["fullrun", "filtered"]
    status, _, err = cli("library", "save", f"tiny/{ran}", "--name", "filtered")
    assert status == 2 and "already exists" in err
    assert cli("library", "save", f"tiny/{ran}", "--name", "filtered", "--force")[0] == 0


def test_import_of_a_sound_and_of_a_hostile_zip(cli, ran, tmp_path):
    assert cli("library", "save", f"tiny/{ran}", "--name", "mine")[0] == 0
    sent = cli.root / "library" / "trained" / "filtered" / "mine.zip"
    other = tmp_path / "other-ws"
    status, _, err = cli("library", "import", str(sent), "--workspace", str(other), workspace=False)
    assert status == 0, err
    assert (other / "library" / "trained" / "filtered" / "mine.zip").read_bytes() == sent.read_bytes()
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(sent) as source, zipfile.ZipFile(evil, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("../escape.txt", b"x")
    before = tree(tmp_path)
    status, _, err = cli("library", "import", str(evil), "--name", "evil")
    assert status == 2 and "has '..' in its path" in err and len(err.strip().splitlines()) == 1
    status, _, err = cli(
        "predict",
        "--model",
        str(evil),
        "--data",
        str(tmp_path / "tiny.csv"),
        "--output",
        str(tmp_path / "o.csv"),
    )
    assert status == 2 and "refused" in err
    assert tree(tmp_path) == before


def test_templates_save_list_run_and_remove(cli, ran, tmp_path):
    status, out, err = cli("library", "templates", "save", f"tiny/{ran}", "--name", "best-tiny")
    assert status == 0 and "nirs4all run --pipeline best-tiny" in " ".join(out.split()), err
    listing = cli.json("library", "templates", "list")
    assert [t["name"] for t in listing] == ["best-tiny"] and listing[0]["steps"] >= 2
    status, _, err = cli(
        "run", "--dataset", str(tmp_path / "tiny.csv"), "--pipeline", "best-tiny", "--session", "t"
    )
    assert status == 0, err
    folders = sorted(p.name for p in (cli.root / "runs" / "tiny").iterdir() if p.name[0].isdigit())
    assert folders[-1] == f"0005_best-tiny_{ran.rsplit('_', 1)[1]}"
    status, _, _ = cli("library", "templates", "remove", "best-tiny", "--yes")
    assert status == 0 and cli.json("library", "templates", "list") == []


def test_run_from_a_fullrun_zip_gets_the_same_scores(cli, ran, tmp_path):
    assert cli("library", "save", f"tiny/{ran}", "--name", "all", "--type", "fullrun")[0] == 0
    zip_path = cli.root / "library" / "trained" / "fullrun" / "all.zip"
    other = tmp_path / "reproduced"
    status, out, err = cli(
        "run", "--from-zip", str(zip_path), "--json", "--workspace", str(other), workspace=False
    )
    assert status == 0, err
    payload = json.loads(out)
    assert payload["same_data"] and payload["all_same"] and len(payload["pipelines"]) == 4
    assert all(p["recorded"] == p["rerun"] for p in payload["pipelines"])
    status, out, _ = cli("run", "--from-zip", str(zip_path), "--workspace", str(other), workspace=False)
    assert status == 0 and "every score is the same as recorded" in out
    status, _, err = cli("run", "--from-zip", str(zip_path), "--pipeline", "x.yaml")
    assert status == 2 and "--from-zip runs the zip's pipelines" in err
    filtered = cli("library", "save", f"tiny/{ran}", "--name", "f")
    assert filtered[0] == 0
    status, _, err = cli("run", "--from-zip", str(cli.root / "library/trained/filtered/f.zip"))
    assert status == 2 and "without training data; give --dataset" in err


def test_library_export_and_predict_commands_are_registered_with_help(capsys):
    import typer.main

    from nirs4all_workspace.cli import app, main
    from tests.cli.test_help import _commands

    seen = {" ".join(path): command for path, command in _commands(typer.main.get_command(app))}
    wanted = {
        "library save",
        "library list",
        "library show",
        "library remove",
        "library import",
        "library templates save",
        "library templates list",
        "library templates remove",
        "export",
        "predict",
    }
    assert wanted <= set(seen)
    for name in wanted:
        assert seen[name].help
        assert main([*name.split(), "--help"]) == 0
        assert "--workspace" in capsys.readouterr().out
    assert main(["run", "--help"]) == 0
    assert "--from-zip" in capsys.readouterr().out


def test_text_from_a_zip_is_shown_as_is_never_as_markup(cli, ran, tmp_path):
    from tests.library.hostile import build, read

    assert cli("library", "save", f"tiny/{ran}", "--name", "m")[0] == 0
    manifest, members = read(cli.root / "library" / "trained" / "filtered" / "m.zip")
    manifest["pipelines"][0]["model"] = "[/red]Evil"
    manifest["source"]["dataset"] = "[bold]x"
    path = tmp_path / "markup.zip"
    path.write_bytes(build(manifest, members))
    status, out, err = cli("library", "show", str(path))
    assert status == 0, err
    assert "[/red]Evil" in out and "[bold]x" in out
