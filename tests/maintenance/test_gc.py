import os
import time

from nirs4all_workspace.maintenance.gc import collect_garbage
from nirs4all_workspace.maintenance.retention import remove_pipeline_folders
from nirs4all_workspace.workspace.artifacts import ArtifactRef


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def _keep_only_the_first_pipeline(workspace):
    """Delete every pipeline but the first: their own binaries become garbage. Returns its artifacts."""
    folders = [f.folder for f in workspace.manifests.list_folders("fake")]
    remove_pipeline_folders(workspace, "fake", folders[1:])
    return workspace.manifests.read_pipeline("fake", folders[0])["artifacts"]


def test_unreferenced_old_binaries_go_and_referenced_ones_stay(filled):
    kept = _keep_only_the_first_pipeline(filled)
    binaries = filled.layout.binaries_dir("fake")
    for path in binaries.iterdir():
        _age(path, 3600)
    before = {p.name for p in binaries.iterdir()}
    report = collect_garbage(filled, dry_run=True)
    assert {p.name for p in binaries.iterdir()} == before  # a dry run removes nothing
    collected = collect_garbage(filled)
    assert collected.bytes_freed == report.bytes_freed > 0
    assert {p.name for p in binaries.iterdir()} == {a["file"] for a in kept}
    for artifact in kept:
        assert filled.artifacts.load("fake", ArtifactRef.from_dict(artifact)) is not None


def test_recent_binaries_are_spared_for_runs_in_progress(filled):
    _keep_only_the_first_pipeline(filled)
    report = collect_garbage(filled)  # default: spare what is younger than ten minutes
    assert report.counts()["binary"] == 0
    assert collect_garbage(filled, min_age_s=0).counts()["binary"] > 0


def test_compacted_fragments_temporaries_and_trash(filled):
    predictions = filled.predictions
    count = predictions.count()
    predictions._fold("data")  # a compaction that stopped before removing its fragments
    predictions._fold("meta")
    fragments = set(filled.layout.catalog_fragments_dir.iterdir())
    assert fragments
    old = filled.layout.dataset_dir("fake") / ".run_summary.json.x1.partial"
    young = filled.layout.dataset_dir("fake") / ".run_summary.json.x2.partial"
    old.write_text("a")
    young.write_text("b")
    _age(old, 3600)
    trash = filled.layout.trash_dir("fake", "0001")
    trash.mkdir()
    (trash / "pipeline.json").write_text("{}")
    report = collect_garbage(filled)
    assert report.counts() == {"binary": 0, "fragment": len(fragments), "temporary": 1, "trash": 1}
    assert not any(filled.layout.catalog_fragments_dir.iterdir())
    assert not old.exists() and young.exists() and not trash.exists()
    assert predictions.count() == count


def test_an_unreadable_pipeline_json_keeps_every_binary(filled):
    _keep_only_the_first_pipeline(filled)
    first = filled.manifests.list_folders("fake")[0]
    filled.layout.pipeline("fake", first.folder).pipeline_json.write_text("{trunc")
    report = collect_garbage(filled, min_age_s=0)
    assert report.counts()["binary"] == 0
    assert any("unreadable" in reason for reason in report.skipped)


def test_what_the_grace_spares_is_counted_and_dated(filled):
    _keep_only_the_first_pipeline(filled)
    young = list(filled.layout.binaries_dir("fake").iterdir())
    report = collect_garbage(filled, dry_run=True)  # default grace: ten minutes
    assert report.counts()["binary"] == 0
    spared = report.spared
    assert spared.files > 0 and spared.size > 0 and spared.min_age_s == 600
    newest = max(p.stat().st_mtime for p in young)
    assert abs(spared.collectable_at - (newest + 600)) < 1
    assert report.to_dict()["spared"]["files"] == spared.files
    assert collect_garbage(filled, min_age_s=0, dry_run=True).spared.files == 0
