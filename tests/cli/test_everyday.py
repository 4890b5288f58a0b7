"""Everyday friction of issue 15: --workspace before the subcommand, whole help lines, ..."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nirs4all_workspace.cli import main
from tests.cli.test_runs_show import ran  # noqa: F401 - the fixture: dataset fake, pipelines 1-6


def test_workspace_before_the_subcommand_gives_the_same_output(ran, cli, capsys):  # noqa: F811
    for args in (
        ["catalog", "best", "fake"],
        ["catalog", "best", "fake", "--json"],
        ["runs", "show", "fake/3"],
    ):
        after = cli(*args)
        assert after[0] == 0, after
        before = main(["--workspace", str(ran), *args])
        captured = capsys.readouterr()
        assert (before, captured.out, captured.err) == after
    assert main(["-w", str(ran), "catalog", "best", "fake"]) == 0
    assert "fake" in capsys.readouterr().out


def test_workspace_after_the_subcommand_wins(ran, cli, tmp_path, capsys):  # noqa: F811
    status = main(
        ["--workspace", str(tmp_path / "nowhere"), "catalog", "best", "fake", "--workspace", str(ran)]
    )
    assert status == 0 and "fake" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args", [["--help"], ["runs", "--help"], ["library", "--help"], ["workspace", "--help"]]
)
def test_help_prints_whole_descriptions(args, capsys):
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "…" not in out and not re.search(r"[^\]]\.\.\.", out)  # "[ARGS]..." is usage, not a cut
    if args == ["--help"]:
        assert (
            "Compare 2 to 10 pipelines: the params that differ and the scores side by side, the best marked."
            in " ".join(out.split())
        )


def test_report_open_without_a_browser_says_so(ran, cli, monkeypatch):  # noqa: F811
    import webbrowser

    monkeypatch.setattr(webbrowser, "open", lambda *a, **k: False)
    status, out, err = cli("report", "fake", "--open")
    assert status == 0
    path = ran / "exports" / "session_reports" / "fake.html"
    assert str(path) in out and path.is_file()
    assert "could not open a browser" in err and str(path) in err


def test_a_pipeline_name_keeps_its_underscores(cli, fake_registered, tmp_path):
    from nirs4all_workspace.workspace.layout import parse_pipeline_folder, pipeline_folder_name

    assert pipeline_folder_name(1, "baseline_pls", "abc123") == "0001_baseline_pls_abc123"
    for folder, name in [
        ("0001_baseline_pls_abc123", "baseline_pls"),
        ("0042_snv-pls-6_69916e", "snv-pls-6"),
    ]:
        parsed = parse_pipeline_folder(folder)
        assert (parsed.number, parsed.name, parsed.folder.rsplit("_", 1)[1]) == (
            int(folder[:4]),
            name,
            parsed.short_hash,
        )
    assert parse_pipeline_folder("0007_a_b_c_0123456789").short_hash == "0123456789"


def test_library_save_says_what_it_packed(ran, cli):  # noqa: F811
    status, out, err = cli("library", "save", "fake/3", "--name", "all", "--type", "pipeline")
    assert status == 0, err
    assert re.search(r"saved pipeline all \(4 pipeline\(s\), \d+(\.\d)? KB\)", " ".join(out.split())), out


def test_run_keeps_the_underscores_of_a_pipeline_name(cli, tmp_path):
    pipeline = tmp_path / "baseline.yaml"
    pipeline.write_text("name: baseline_pls\npipeline:\n  - model: {class: pls, params: {n_components: 2}}\n")
    data = Path(__file__).resolve().parents[1] / "data" / "tiny_nirs"
    status, _, err = cli("run", "--dataset", str(data), "--pipeline", str(pipeline), "--plots", "none")
    assert status == 0, err
    folders = [p.name for p in (cli.root / "runs" / "tiny_nirs").iterdir() if p.name[0].isdigit()]
    assert len(folders) == 1 and re.fullmatch(r"0001_baseline_pls_[0-9a-f]{6}", folders[0])
    assert cli.json("runs", "show", f"tiny_nirs/{folders[0]}")["identity"]["name"] == "baseline_pls"


@pytest.mark.parametrize("command", ["delete", "archive"])
def test_delete_and_archive_plans_summarise_and_verbose_lists(ran, cli, command):  # noqa: F811
    status, out, err = (
        cli("runs", command, "fake", "--dry-run", "--force")
        if command == "delete"
        else cli("runs", command, "fake", "--dry-run")
    )
    assert status == 0, err
    text = " ".join(out.split())
    assert "6 pipelines of fake" in text and "4 completed, 2 failed" in text
    assert "sessions: s1 (6)" in text and "the best, 0003_" in text
    assert "0001_" not in out  # not one line per pipeline
    args = ["runs", command, "fake", "--dry-run", "--verbose"] + (["--force"] if command == "delete" else [])
    status, out, _ = cli(*args)
    assert status == 0 and all(f"000{n}_" in out for n in range(1, 7))


def test_failed_pipelines_are_summarised_and_all_in_run_log(cli, fake_registered, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("scales: [0.5, 1.0, 2.0, 3.0]\noffsets: [0.0, 0.5]\nfail_on: [2.0, 3.0]\n")
    status, out, err = cli("run", "--engine", "fake", "--pipeline", str(grid), "--plots", "none")
    assert status == 0, err
    text = " ".join(out.split())
    assert "4 of 8 pipelines failed" in text and "and 1 more" in text
    assert text.count("is not allowed") == 3
    log = (cli.root / "runs" / "fake" / "run.log").read_text().splitlines()
    failed = [line for line in log if " failed: " in line]
    assert len(failed) == 4 and all("is not allowed" in line for line in failed)
    assert {line.split(" failed: ")[0].rsplit(" ", 1)[1][:4] for line in failed} == {
        "0005",
        "0006",
        "0007",
        "0008",
    }


def test_export_include_data_holds_that_pipeline_only(cli, tmp_path):
    import json
    import zipfile

    from tests.library.helpers import SMALL_GRID_YAML, write_tiny_csv

    csv = write_tiny_csv(tmp_path / "tiny.csv")
    grid = tmp_path / "grid.yaml"
    grid.write_text(SMALL_GRID_YAML)
    assert cli("run", "--dataset", str(csv), "--pipeline", str(grid), "--plots", "none")[0] == 0
    full = tmp_path / "full.zip"
    status, out, err = cli("export", "tiny/2", "--output", str(full), "--include-data")
    assert status == 0, err
    with zipfile.ZipFile(full) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = archive.namelist()
    assert [p["folder"] for p in manifest["pipelines"]] == [manifest["source"]["pipeline"]]
    assert manifest["source"]["pipeline"].startswith("0002_") and {"data/Xcal.csv", "data/Ycal.csv"} <= set(
        names
    )
    assert "1 pipeline" in out
