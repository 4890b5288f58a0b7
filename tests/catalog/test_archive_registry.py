from nirs4all_workspace.catalog.archive_registry import (
    ArchivedPipeline,
    ArchiveEntry,
    archived_datasets,
    archived_ids_in,
    entry_paths,
    register,
)


def test_the_registry_overlays_the_archived_column(filled):
    row = filled.predictions.frame().row(0, named=True)
    archive = filled.layout.catalog_archive_dir("runs") / "fake_x.tar.gz"
    entry = ArchiveEntry(
        "runs",
        filled.layout.relative(archive),
        "2024-01-01T00:00:00+00:00",
        [ArchivedPipeline(row["pipeline_id"], "fake", row["pipeline_folder"])],
    )
    register(filled.layout, entry)
    flagged = filled.predictions.frame(fold=None).filter(archived=True)
    assert set(flagged["pipeline_id"]) == {row["pipeline_id"]}
    assert archived_ids_in(filled.layout, [row["pipeline_id"]]) == set()  # the tar itself is missing
    assert archived_datasets(filled.layout) == set()
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"")
    assert archived_ids_in(filled.layout, [row["pipeline_id"]]) == {row["pipeline_id"]}
    assert archived_datasets(filled.layout) == {"fake"}
    entry_paths(filled.layout)[0].unlink()
    assert not filled.predictions.frame()["archived"].any()


def test_an_unreadable_entry_is_ignored_by_readers(filled):
    filled.layout.archive_registry_dir.mkdir(parents=True)
    (filled.layout.archive_registry_dir / "runs_bad.json").write_text("{not json")
    assert filled.predictions.count() > 0
    assert not filled.predictions.frame()["archived"].any()
