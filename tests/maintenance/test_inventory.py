"""runs list / runs show figures: statuses from the catalog, sizes exact or estimated (and said so)."""

from __future__ import annotations

import json
import shutil

from nirs4all_workspace.cli import main
from nirs4all_workspace.maintenance import inventory


def test_a_folder_with_many_entries_is_sized_from_a_sample_and_says_so(tmp_path, monkeypatch):
    for i in range(400):
        folder = tmp_path / f"{i:04d}_p_abcdef"
        folder.mkdir()
        (folder / "predictions.csv").write_bytes(b"x" * (1000 + i % 7))
        (folder / "pipeline.json").write_bytes(b"y" * 200)
    exact = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert inventory.estimated_size(tmp_path) == (exact, False)
    monkeypatch.setattr(inventory, "EXACT_SIZE_ENTRIES", 100)
    monkeypatch.setattr(inventory, "SIZE_SAMPLE", 50)
    size, estimated = inventory.estimated_size(tmp_path)
    assert estimated and abs(size - exact) < 0.02 * exact


def test_runs_list_marks_an_estimated_size(filled, monkeypatch, capsys):
    monkeypatch.setattr(inventory, "EXACT_SIZE_ENTRIES", 5)
    monkeypatch.setattr(inventory, "SIZE_SAMPLE", 4)
    assert main(["runs", "list", "--json", "--workspace", str(filled.root)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["size_estimated"] is True and row["size_bytes"] > 0
    assert main(["runs", "list", "--workspace", str(filled.root)]) == 0
    assert "~" in capsys.readouterr().out


def test_counts_come_from_the_folders_that_exist_listed_or_not(filled):
    """Catalog rows outlive deleted folders; folders the catalog lacks (incomplete) are read.

    A listed pipeline counts by its catalog status (no read of its pipeline.json); a
    pipeline.json lost afterwards is for ``workspace verify`` to find."""
    before = inventory.dataset_overview(filled, "fake")
    assert (before.pipelines, before.completed, before.failed) == (20, 16, 4)
    folders = filled.manifests.list_folders("fake")
    shutil.rmtree(filled.layout.pipeline("fake", folders[0].folder).dir)  # rows stay in the catalog
    incomplete = filled.manifests.allocate("fake", "e" * 64, "new", "c", "fake")  # not in the catalog
    after = inventory.dataset_overview(filled, "fake")
    assert after.pipelines == 20  # 19 left + the new incomplete one
    assert after.completed + after.failed == 19
    assert incomplete.paths.dir.is_dir()
