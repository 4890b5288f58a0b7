from nirs4all_workspace.maintenance.archive_pipeline import archive_pipeline
from nirs4all_workspace.maintenance.inventory import folder_size
from nirs4all_workspace.maintenance.usage import disk_usage


def test_sizes_add_up_per_dataset_and_per_kind(filled):
    archive_pipeline(filled, "fake/5")
    report = disk_usage(filled)
    [fake] = report.datasets
    assert fake.total == folder_size(filled.layout.dataset_dir("fake"))
    assert fake.binaries == folder_size(filled.layout.binaries_dir("fake")) > 0
    assert fake.pipelines > fake.other > 0
    assert report.total == folder_size(filled.root)
    assert report.kinds["archives"] == folder_size(filled.layout.catalog_archives_root) > 0
    assert report.kinds["catalog"] > 0 and report.kinds["library"] == 0
    assert report.to_dict()["datasets"][0]["dataset"] == "fake"
