"""Random sequences of run / archive / delete / gc / compact / library save keep every guarantee.

After every step: every archived prediction is readable, every library zip
still opens, every catalog row (and every SQL answer) has its arrays, numbers
are never reused, and ``workspace verify`` finds nothing. (``predict`` is left
out: it needs the scikit-learn engine's fitted objects, not the FakeEngine's.)
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from nirs4all_workspace import Workspace
from nirs4all_workspace.catalog.archive_registry import entries
from nirs4all_workspace.errors import DeletionRefused
from nirs4all_workspace.experiment import run_experiment
from nirs4all_workspace.library.contents import open_trained
from nirs4all_workspace.library.trained import save_trained
from nirs4all_workspace.maintenance.archive_pipeline import archive_pipeline
from nirs4all_workspace.maintenance.archive_runs import archive_runs, plan_runs_archive
from nirs4all_workspace.maintenance.gc import collect_garbage
from nirs4all_workspace.maintenance.retention import delete_pipelines, finished_pipelines, plan_deletion
from nirs4all_workspace.maintenance.verify import verify
from nirs4all_workspace.workspace.predictions_csv import read_predictions_csv
from tests.fakes import FakeDataset, FakeEngine

DATASETS = ("corn", "wheat")
SCALES = (0.5, 0.9, 1.0, 1.2, 2.0)


class WorkspaceLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="nirs4all-machine-"))
        self.ws = Workspace.open(self.tmp / "ws")
        self.engine = FakeEngine()
        self.high_water: dict[str, int] = {}
        self.sessions: dict[str, list[str]] = {d: [] for d in DATASETS}
        self.runs = 0
        self.saved = 0

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _pipeline_ids(self) -> set[str]:
        frame = self.ws.predictions.collect(self.ws.predictions.scan().select("pipeline_id"))
        return set(frame["pipeline_id"].to_list())

    @initialize()
    def first_runs(self) -> None:
        for dataset in DATASETS:
            self.run(dataset, [0.9, 1.0, 2.0], fail=True)

    @rule(
        dataset=st.sampled_from(DATASETS),
        scales=st.lists(st.sampled_from(SCALES), min_size=1, max_size=3, unique=True),
        fail=st.booleans(),
    )
    def run(self, dataset: str, scales: list[float], fail: bool) -> None:
        self.runs += 1
        session = f"s{self.runs}"
        config = {"scales": scales, "fail_on": scales[:1] if fail else []}
        report = run_experiment(
            self.ws, self.engine, FakeDataset(name=dataset), config, session=session, plots="none"
        )
        assert report.summary.first_number == self.high_water.get(dataset, 0) + 1  # never reused
        self.high_water[dataset] = report.summary.last_number
        self.sessions[dataset].append(session)

    @rule(data=st.data())
    def catalog_archive(self, data: st.DataObject) -> None:
        choices = [(d, p.folder) for d in self.ws.datasets() for p in finished_pipelines(self.ws, d)[0]]
        if not choices:
            return
        dataset, folder = data.draw(st.sampled_from(choices))
        report = archive_pipeline(self.ws, f"{dataset}/{folder}")
        rows = self.ws.predictions.frame(fold=None).filter(pl.col("pipeline_id") == report.pipeline_id)
        assert rows.height >= 1 and rows["archived"].all()

    @rule(data=st.data())
    def library_save(self, data: st.DataObject) -> None:
        choices = [
            (d, p.folder)
            for d in self.ws.datasets()
            for p in finished_pipelines(self.ws, d)[0]
            if p.status == "completed"
        ]
        if not choices:
            return
        dataset, folder = data.draw(st.sampled_from(choices))
        self.saved += 1
        entry = save_trained(self.ws, f"{dataset}/{folder}", name=f"model{self.saved}", kind="filtered")
        assert (entry.dataset, entry.pipeline) == (dataset, folder) and entry.path.is_file()

    @rule(dataset=st.sampled_from(DATASETS), by_session=st.booleans(), data=st.data())
    def runs_archive(self, dataset: str, by_session: bool, data: st.DataObject) -> None:
        if dataset not in self.ws.datasets():
            return
        session = data.draw(st.sampled_from(self.sessions[dataset])) if by_session else None
        plan = plan_runs_archive(self.ws, dataset, session=session)
        if not plan.pipelines:
            return
        ids_before = self._pipeline_ids()
        archive_runs(self.ws, plan, binaries_min_age_s=0)
        assert not any(self.ws.layout.pipeline(dataset, p.folder).dir.exists() for p in plan.pipelines)
        rows = self.ws.predictions.frame(fold=None)
        archived = rows.filter(pl.col("pipeline_id").is_in([p.pipeline_id for p in plan.pipelines]))
        assert archived["archived"].all()
        assert self._pipeline_ids() == ids_before  # the catalog survives deletion of runs

    @rule(dataset=st.sampled_from(DATASETS), by_session=st.booleans(), force=st.booleans(), data=st.data())
    def runs_delete(self, dataset: str, by_session: bool, force: bool, data: st.DataObject) -> None:
        if dataset not in self.ws.datasets():
            return
        session = data.draw(st.sampled_from(self.sessions[dataset])) if by_session else None
        plan = plan_deletion(self.ws, dataset, session=session)
        ids_before = self._pipeline_ids()
        if plan.refusal and not force:
            with pytest.raises(DeletionRefused):
                delete_pipelines(self.ws, plan)
            assert all(self.ws.layout.pipeline(dataset, p.folder).dir.is_dir() for p in plan.pipelines)
            return
        delete_pipelines(self.ws, plan, force=force, binaries_min_age_s=0)
        assert not any(self.ws.layout.pipeline(dataset, p.folder).dir.exists() for p in plan.pipelines)
        assert self._pipeline_ids() == ids_before

    @rule()
    def gc(self) -> None:
        report = collect_garbage(self.ws, min_age_s=0)
        assert not collect_garbage(self.ws, dry_run=True, min_age_s=0).items or report.items

    @rule()
    def compact(self) -> None:
        count = self.ws.predictions.count()
        self.ws.predictions.compact()
        assert self.ws.predictions.count() == count

    @invariant()
    def archived_predictions_are_readable(self) -> None:
        layout = self.ws.layout
        for entry in entries(layout):
            assert layout.absolute(entry.archive).is_file()
            if entry.predictions:
                groups = read_predictions_csv(layout.absolute(entry.predictions))
                assert any(len(g["y_pred"]) for g in groups.values())

    @invariant()
    def library_zips_survive_deleted_runs(self) -> None:
        for path in sorted((self.ws.layout.library_dir / "trained").rglob("*.zip")):
            assert open_trained(path).manifest["type"] == "filtered"  # a copy, not a link: still whole

    @invariant()
    def every_catalog_row_has_its_arrays(self) -> None:
        predictions = self.ws.predictions
        ids = predictions.query("SELECT prediction_id FROM predictions")["prediction_id"].to_list()
        assert len(ids) == len(set(ids))
        assert predictions.arrays(ids).height == len(ids)

    @invariant()
    def verify_finds_nothing(self) -> None:
        report = verify(self.ws)
        assert report.ok, [p.to_dict() for p in report.problems]


WorkspaceLifecycle.TestCase.settings = settings(
    max_examples=15, stateful_step_count=8, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestWorkspaceLifecycle = WorkspaceLifecycle.TestCase
