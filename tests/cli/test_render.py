"""What the CLI prints from names and files is shown as is: ``[b]`` in a name is not rich markup."""

from __future__ import annotations

from .test_run_outcomes import spectra_csv


def test_a_bracketed_dataset_name_is_printed_whole(cli, tmp_path):
    folder = tmp_path / "g"
    folder.mkdir()
    data = spectra_csv(folder / "a[b].csv", 20, 30)
    grid = tmp_path / "pls.yaml"
    grid.write_text("pipeline:\n  - model: {class: pls, params: {n_components: 2}}\n")
    code, out, err = cli("run", "--dataset", str(data), "--plots", "none", "--pipeline", str(grid))
    assert code == 0, err
    assert "runs/a[b]/best_" in out.replace("\n", ""), out
    assert "session best:" in out
    code, out, err = cli("catalog", "query", "SELECT DISTINCT dataset FROM predictions")
    assert code == 0, err
    assert "a[b]" in out, out
    code, out, err = cli("runs", "list")
    assert code == 0, err
    assert "a[b]" in out, out
    code, out, err = cli("catalog", "best", "a[bold]")
    assert code == 2
    assert "'a[bold]'" in err and "a[b]" in err, err
