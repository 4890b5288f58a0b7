"""Purging the trash for good: tombstones, refused restores, binaries collected, interruptions."""

from __future__ import annotations

import pytest

from nirs4all_workspace.errors import InputError
from nirs4all_workspace.maintenance import purge, trash
from nirs4all_workspace.maintenance.gc import collect_garbage
from nirs4all_workspace.maintenance.retention import plan_deletion
from nirs4all_workspace.maintenance.verify import verify
from nirs4all_workspace.workspace.numbering import known_numbers
from tests.maintenance.test_trash import _delete_session
from tests.snapshots import snapshot


def test_binaries_stay_while_in_the_trash_and_go_with_the_purge(filled):
    _delete_session(filled, "b")
    binaries = snapshot(filled.layout.binaries_dir("fake"))
    assert collect_garbage(filled, min_age_s=0).counts()["binary"] == 0
    assert snapshot(filled.layout.binaries_dir("fake")) == binaries
    plan = purge.plan_purge(filled)
    assert len(plan.pipelines) == 10 and plan.size_bytes > 0
    report = purge.purge(filled, plan, binaries_min_age_s=0)
    assert report.pipelines == 10
    left = snapshot(filled.layout.binaries_dir("fake"))
    # Session b repeats session a's configurations: its binaries are a's too, so only what
    # nothing references goes; everything left is referenced.
    assert collect_garbage(filled, min_age_s=0, dry_run=True).counts()["binary"] == 0
    assert set(left) <= set(binaries)
    with pytest.raises(InputError, match=r"purged on \d{4}-\d\d-\d\d"):
        trash.plan_restore(filled, "fake", session="b")
    with pytest.raises(InputError, match="purged on"):
        trash.plan_restore(filled, "fake", ref="15")
    assert known_numbers(filled.layout, "fake")["trash"] == 20  # purged numbers stay remembered
    assert verify(filled).ok


def test_purge_older_than_keeps_recent_deletions(filled):
    from datetime import timedelta

    _delete_session(filled, "b")
    assert purge.plan_purge(filled, older_than=timedelta(days=1)).pipelines == []
    assert len(purge.plan_purge(filled, older_than=timedelta(0)).pipelines) == 10


def test_an_interrupted_purge_refuses_restores_and_repair_finishes_it(filled, monkeypatch):
    import shutil

    _delete_session(filled, "b")
    plan = purge.plan_purge(filled)
    monkeypatch.setattr(shutil, "rmtree", _raise)
    with pytest.raises(KeyboardInterrupt):
        purge.purge(filled, plan, binaries_min_age_s=0)
    monkeypatch.undo()
    with pytest.raises(InputError, match="purged on"):
        trash.plan_restore(filled, "fake", session="b")
    assert any("purge interrupted" in p.message for p in verify(filled).problems)
    assert verify(filled, repair=True).ok
    [entry] = trash.trash_entries(filled, "fake")
    assert [p.name for p in filled.layout.trash_entry("fake", entry).iterdir()] == ["trash.json"]


def _raise(*_args, **_kwargs):
    raise KeyboardInterrupt


def test_purge_collects_the_binaries_only_the_trash_referenced(filled):
    pipelines = plan_deletion(filled, "fake").pipelines
    trash.move_to_trash(filled, "fake", pipelines, "all")
    assert any(filled.layout.binaries_dir("fake").iterdir())  # kept while in the trash
    young = purge.purge(filled, purge.plan_purge(filled))  # default grace: fresh binaries spared
    assert young.binaries_removed == 0 and young.spared.files > 0 and young.spared.size > 0
    assert collect_garbage(filled, min_age_s=0).counts()["binary"] == young.spared.files
    assert not any(filled.layout.binaries_dir("fake").iterdir())
    assert verify(filled).ok
