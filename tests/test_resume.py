"""``resume.run_resumed``: reused pipelines whose catalog rows a kill lost are restored, and said so."""

from __future__ import annotations

import json
import shutil

from nirs4all_workspace.cli import main


def test_a_resumed_run_says_it_restored_the_rows_a_kill_lost(tmp_path, capsys):
    grid = tmp_path / "grid.yaml"
    grid.write_text("scales: [0.5, 1.0, 2.0]\noffsets: [0.0, 1.0]\n")
    args = ["run", "--engine", "fake", "--pipeline", str(grid), "--plots", "none", "-w", str(tmp_path / "ws")]
    assert main([*args, "--session", "s"]) == 0
    # What a SIGKILL between two catalog batches leaves: finished folders, no catalog rows.
    shutil.rmtree(tmp_path / "ws" / "catalog")
    capsys.readouterr()
    assert main([*args, "--session", "s", "--resume", "--json"]) == 0
    out = capsys.readouterr().out
    (run,) = json.loads(out)["runs"]
    assert run["restored"] == 6, run
