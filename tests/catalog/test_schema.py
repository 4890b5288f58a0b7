"""The catalog's columns: which are metrics, which are not."""

from nirs4all_workspace.catalog.schema import META_SCHEMA, metric_columns


def test_flags_added_when_reading_are_not_metrics():
    # archived is stored, trashed is worked out from the trash records when the catalog is read:
    # neither may be ranked, compared or shown as a score.
    columns = [*META_SCHEMA, "archived", "trashed", "rmse", "val_custom"]
    assert metric_columns(columns) == ["rmse", "val_custom"]
