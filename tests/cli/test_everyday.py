"""Everyday friction of issue 15: --workspace before the subcommand, whole help lines, ..."""

from __future__ import annotations

import re

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
