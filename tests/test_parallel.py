"""``-j N`` starts worker processes only when the grid pays for them, and never changes a score."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nirs4all_workspace import Workspace, parallel
from nirs4all_workspace.errors import InputError
from nirs4all_workspace.experiment import run_experiment
from tests.fakes import FakeDataset, FakeEngine

GRID = {"scales": [0.5, 0.8, 1.0, 1.3, 2.0], "offsets": [0.0, 0.5], "fail_on": [2.0]}


class PidEngine(FakeEngine):
    """The fake engine, leaving ``<index>-<pid>`` in ``folder`` for each pipeline it executes.

    Each pipeline sleeps ``pause`` seconds, or ``first_pause`` for the first one.
    """

    def __init__(self, folder: Path, pause: float = 0.0, first_pause: float | None = None) -> None:
        self.folder = str(folder)
        self.pause = pause
        self.first_pause = pause if first_pause is None else first_pause

    def execute(self, spec, dataset):
        Path(self.folder, f"{spec.index}-{os.getpid()}").touch()
        time.sleep(self.first_pause if spec.index == 0 else self.pause)
        return super().execute(spec, dataset)


def _pids(folder: Path) -> dict[int, int]:
    """Pipeline index -> the process that executed it."""
    return {int(p.name.split("-")[0]): int(p.name.split("-")[1]) for p in folder.iterdir()}


def _scores(ws: Workspace) -> list[tuple]:
    frame = ws.predictions.frame().sort("prediction_id")
    columns = ("pipeline_folder", "partition", "fold", "rmse", "r2", "status")
    columns = [c for c in columns if c in frame.columns]
    return sorted(frame.select(columns).fill_null(-1).rows())


def _run(tmp_path: Path, tag: str, jobs: int, pause: float = 0.0, first_pause=None, grid=GRID):
    marks = tmp_path / f"marks-{tag}"
    marks.mkdir()
    ws = Workspace.open(tmp_path / tag)
    engine = PidEngine(marks, pause, first_pause)
    report = run_experiment(ws, engine, FakeDataset(), grid, session="s", n_jobs=jobs, plots="none")
    return ws, report, _pids(marks)


def test_a_tiny_grid_runs_in_this_process_and_run_log_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv(parallel.WORKERS_ENV, raising=False)
    monkeypatch.setattr(parallel, "busy_factor", lambda: 1.0)  # a quiet machine
    ws, report, pids = _run(tmp_path, "j2", jobs=2)
    assert set(pids.values()) == {os.getpid()}  # no worker was started for 10 pipelines of 1 ms
    log = ws.layout.run_log("fake").read_text()
    assert "session s: -j 2: ran in this process" in log and "too little to pay" in log
    assert "ran in this process" in report.execution
    one, _, _ = _run(tmp_path, "j1", jobs=1)
    assert _scores(ws) == _scores(one)


def test_forced_workers_run_the_pipelines_elsewhere_with_identical_scores(tmp_path, monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "always")
    ws, report, pids = _run(tmp_path, "j2", jobs=2)
    assert os.getpid() not in set(pids.values())
    assert "started 2 worker processes (NIRS4ALL_WORKERS=always)" in ws.layout.run_log("fake").read_text()
    monkeypatch.setenv(parallel.WORKERS_ENV, "never")
    one, report_one, pids_one = _run(tmp_path, "never", jobs=2)
    assert set(pids_one.values()) == {os.getpid()}
    assert _scores(ws) == _scores(one)
    assert [s.handle.folder for s in report.saved] == [s.handle.folder for s in report_one.saved]


def test_a_costly_grid_starts_workers_after_timing_its_first_pipeline(tmp_path, monkeypatch):
    """0.3 s a pipeline, 10 pipelines: ~2.7 s left after the first, worth a worker starting in 0.1 s."""
    monkeypatch.delenv(parallel.WORKERS_ENV, raising=False)
    monkeypatch.setattr(parallel, "WORKER_START_S", 0.1)
    monkeypatch.setattr(parallel, "busy_factor", lambda: 1.0)  # a quiet machine
    monkeypatch.setitem(parallel._POOL, "last_use", -1e9)  # a cold pool: its start-up counts
    ws, _, pids = _run(tmp_path, "j2", jobs=2, pause=0.3)
    assert pids[0] == os.getpid()  # timed here
    assert {pids[i] for i in range(1, 10)} - {os.getpid()}, "some of the rest ran in a worker"
    log = ws.layout.run_log("fake").read_text()
    assert re.search(r"-j 2: started 1 worker process (while group 1|after 1) of 10", log), log
    monkeypatch.setenv(parallel.WORKERS_ENV, "never")
    one, _, _ = _run(tmp_path, "j1", jobs=1)
    assert _scores(ws) == _scores(one)


def test_a_long_first_group_starts_the_worker_before_it_ends_and_this_process_keeps_working(
    tmp_path, monkeypatch
):
    """With ``-j 2`` the calling process is one of the two: it does not wait for the first group
    to end before starting the other, and it goes on running groups once the worker runs.

    The first group takes 3 s, the four others 1 s: the estimate passes the worker's start-up
    after about 0.4 s of the first group, so the worker takes group 1 at once; it cannot
    finish three groups of 1 s before the first group ends (3 s), so a group is still free
    then, and this process takes it.
    """
    monkeypatch.delenv(parallel.WORKERS_ENV, raising=False)
    monkeypatch.setattr(parallel, "WORKER_START_S", 0.1)
    monkeypatch.setattr(parallel, "busy_factor", lambda: 1.0)
    monkeypatch.setitem(parallel._POOL, "last_use", -1e9)
    grid = {"scales": [0.5, 0.8, 1.0, 1.3, 1.6], "offsets": [0.0]}
    ws, report, pids = _run(tmp_path, "j2", jobs=2, pause=1.0, first_pause=3.0, grid=grid)
    here = os.getpid()
    assert pids[0] == here and pids[1] != here, pids
    assert here in {pids[2], pids[3], pids[4]}, "this process ran a group after the worker started"
    log = ws.layout.run_log("fake").read_text()
    assert "-j 2: started 1 worker process while group 1 of 5 ran" in log, log
    assert "this process runs groups too" in report.execution
    monkeypatch.setenv(parallel.WORKERS_ENV, "never")
    one, report_one, _ = _run(tmp_path, "j1", jobs=1, grid=grid)
    assert _scores(ws) == _scores(one)
    assert [s.handle.folder for s in report.saved] == [s.handle.folder for s in report_one.saved]


def test_a_warm_pool_is_reused_without_counting_a_start_up(tmp_path, monkeypatch):
    """The second dataset of one command (or a later workflow phase) finds the workers running."""
    monkeypatch.delenv(parallel.WORKERS_ENV, raising=False)
    monkeypatch.setattr(parallel, "busy_factor", lambda: 1.0)
    monkeypatch.setattr(parallel, "WORKER_START_S", 100.0)  # a cold pool would never pay
    monkeypatch.setitem(parallel._POOL, "last_use", time.monotonic())
    monkeypatch.setitem(parallel._POOL, "workers", 2)  # e.g. a NIRS4ALL_WORKERS=always run before
    ws, _, pids = _run(tmp_path, "j2", jobs=2, pause=0.3)
    assert {pids[i] for i in range(1, 10)} - {os.getpid()}
    log = ws.layout.run_log("fake").read_text()
    assert re.search(r"-j 2: reused the warm 1 worker process (while group 1|after 1) of 10", log), log
    assert parallel.pool_is_warm()


def test_on_a_busy_machine_the_same_grid_stays_in_this_process(tmp_path, monkeypatch):
    """Cores already busy twice over: two more processes would only compete for them."""
    monkeypatch.delenv(parallel.WORKERS_ENV, raising=False)
    monkeypatch.setattr(parallel, "WORKER_START_S", 0.1)
    monkeypatch.setattr(parallel, "busy_factor", lambda: 2.0)
    ws, _, pids = _run(tmp_path, "j2", jobs=2, pause=0.3)
    assert set(pids.values()) == {os.getpid()}
    log = ws.layout.run_log("fake").read_text()
    assert re.search(r"-j 2: ran in this process: \d+\.\d s of fits, the cores are busy 2\.0 times over", log)


def test_the_estimate_takes_the_lower_of_per_pipeline_and_per_group():
    # a sweep of 10 PLS sizes fitted once (1 s), then three single pipelines left
    assert parallel.seconds_left([(10, 1.0)], [["a"], ["b"], ["c"]]) == pytest.approx(0.3)
    # three groups of one pipeline: a slow first one (imports) is left out
    assert parallel.seconds_left([(1, 5.0), (1, 1.0), (1, 1.0)], [["d"]] * 4) == pytest.approx(4.0)


def test_workers_start_only_when_they_save_more_than_twice_their_start():
    start = parallel.WORKER_START_S
    assert not parallel.worth_starting(2 * start, workers=2, warm=False)
    assert parallel.worth_starting(8 * start, workers=2, warm=False)
    assert parallel.worth_starting(2 * start, workers=2, warm=True)  # a warm pool costs no start-up
    assert not parallel.worth_starting(0.5, workers=2, warm=True)
    assert not parallel.worth_starting(1000.0, workers=2, warm=True, busy=2.0)  # saturated
    assert parallel.worth_starting(1000.0, workers=4, warm=False, busy=2.0)


def test_a_bad_workers_setting_is_refused(monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "sometimes")
    with pytest.raises(InputError, match="NIRS4ALL_WORKERS must be one of auto, always, never"):
        parallel.workers_mode()


def test_minus_one_means_every_core():
    assert parallel.effective_jobs(-1, 1000) == parallel.usable_cores()
    assert parallel.effective_jobs(8, 1) == 1


def test_a_worker_imports_neither_the_catalog_nor_polars():
    """What a worker unpickles first (the function it runs) stays light: it starts faster."""
    code = (
        "import sys, nirs4all_workspace.parallel as p; p.execute_group_and_serialize;"
        "print(sorted(m for m in ('polars', 'pyarrow', 'nirs4all_workspace.catalog', "
        "'nirs4all_workspace.facade', 'typer', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_fitted_objects_are_byte_identical_in_this_process_and_in_workers(monkeypatch):
    """A worker's dataset is unpickled: its arrays carry fresh dtype objects, which pickle
    memoizes otherwise than numpy's own. The worker puts them back on numpy's, so the same
    fit gives the same bytes, the same digest and the same stored file whatever ``-j``."""
    import numpy as np

    from nirs4all_workspace.engines.base import PipelineSpec

    class MeanEngine(FakeEngine):
        def execute(self, spec, dataset):
            result = super().execute(spec, dataset)
            result.fitted[0].obj = {"zeros": np.zeros(2), "y": dataset.y[:3].copy()}  # two dtypes
            return result

    spec = PipelineSpec(config={"scale": 1.0, "offset": 0.0, "fail": False}, name="s", index=0)
    engine, data = MeanEngine(), FakeDataset(y=np.linspace(0.0, 10.0, 20))
    here = parallel.execute_group_and_serialize(engine, [spec], data)
    monkeypatch.setenv(parallel.WORKERS_ENV, "always")
    there = list(parallel.run_groups(engine, [spec, spec], data, n_jobs=2))
    assert [a.digest for a in there[0][1][1]] == [a.digest for a in here[0][1]]


class ArrayPidEngine(PidEngine):
    """A :class:`PidEngine` whose fitted object holds arrays of two dtypes, one from the dataset."""

    def execute(self, spec, dataset):
        import numpy as np

        result = super().execute(spec, dataset)
        result.fitted[0].obj = {"zeros": np.zeros(2), "y": dataset.y[:3].copy() * spec.config["scale"]}
        return result


def test_a_large_dataset_goes_to_the_workers_once_as_a_file_with_byte_identical_results(
    tmp_path, monkeypatch
):
    """Above SHIP_INLINE_BYTES the workers map one file instead of receiving the arrays with
    each group; the fitted objects are the same bytes, and the file is gone after the grid."""
    import tempfile

    import numpy as np

    monkeypatch.delenv(parallel.WORKERS_ENV, raising=False)
    monkeypatch.setattr(parallel, "SHIP_INLINE_BYTES", 0)  # every dataset is "large"
    monkeypatch.setattr(parallel, "WORKER_START_S", 0.1)
    monkeypatch.setattr(parallel, "busy_factor", lambda: 1.0)
    monkeypatch.setitem(parallel._POOL, "last_use", -1e9)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    marks = tmp_path / "marks"
    marks.mkdir()
    engine = ArrayPidEngine(marks, pause=0.3)
    specs = engine.expand({"scales": [0.5, 0.8, 1.0, 1.3, 1.6, 2.0, 2.5, 3.0]})
    data = FakeDataset(y=np.linspace(0.0, 10.0, 20))
    there = list(parallel.run_groups(engine, specs, data, n_jobs=2))
    assert set(_pids(marks).values()) - {os.getpid()}, "some groups ran in a worker"
    assert list(temp.iterdir()) == [], "the dataset file of the workers is removed"
    for spec, (result, artifacts) in there:
        ((_, here),) = parallel.execute_group_and_serialize(engine, [spec], data)
        assert [a.digest for a in artifacts] == [a.digest for a in here], spec.name
        assert result.status == "completed"
    # A joblib.Parallel of this process (ours with NIRS4ALL_WORKERS=always, or a library's)
    # can take the same loky pool afterwards (it failed when the pool was loky's bare executor).
    from joblib import Parallel, delayed

    assert Parallel(n_jobs=2, backend="loky")(delayed(abs)(-i) for i in range(3)) == [0, 1, 2]


def test_ship_keeps_a_small_dataset_and_writes_a_large_one(tmp_path):
    import numpy as np

    small = FakeDataset(y=np.zeros(10))
    assert parallel.ship(small, tmp_path) is small
    large = FakeDataset(y=np.arange(parallel.SHIP_INLINE_BYTES // 8 + 1, dtype=float))
    shipped = parallel.ship(large, tmp_path)
    assert isinstance(shipped, parallel.DatasetFile)
    loaded = parallel._loaded(shipped)
    assert np.array_equal(loaded.y, large.y) and not loaded.y.flags.writeable  # mapped, read-only
    assert parallel._loaded(shipped) is loaded  # mapped once per worker


class DyingWorkerEngine(FakeEngine):
    """The fake engine, whose worker processes die (exit code 3) at their first pipeline."""

    def __init__(self) -> None:
        self.parent = os.getpid()

    def execute(self, spec, dataset):
        time.sleep(0.3)
        if os.getpid() != self.parent:
            os._exit(3)
        return super().execute(spec, dataset)


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_a_dying_worker_fails_its_pipelines_with_a_reason_and_the_grid_goes_on_here(
    tmp_path, monkeypatch, mode
):
    """Killed for memory or crashed in native code: the pipelines it held are failed (with
    why, and how to run them again), every other one is run in this process and saved."""
    monkeypatch.setenv(parallel.WORKERS_ENV, mode)
    monkeypatch.setattr(parallel, "WORKER_START_S", 0.1)
    monkeypatch.setattr(parallel, "busy_factor", lambda: 1.0)
    monkeypatch.setitem(parallel._POOL, "last_use", -1e9)
    ws = Workspace.open(tmp_path / "ws")
    grid = {"scales": [0.5, 0.8, 1.0, 1.3, 1.6, 2.5, 3.0, 3.5]}
    report = run_experiment(ws, DyingWorkerEngine(), FakeDataset(), grid, session="s", n_jobs=2, plots="none")
    failed = [s for s in report.saved if s.status == "failed"]
    assert 1 <= len(failed) <= 2 and len(report.saved) == 8  # one group per worker at most
    log = ws.layout.run_log("fake").read_text()
    assert re.search(r"a worker process died \(exit code 3\): the \d pipeline\(s\) it held", log), log
    assert "the worker process running it died (exit code 3); 'nirs4all run ... --resume'" in log
    assert sum(s.status == "completed" for s in report.saved) == 8 - len(failed)
    assert not parallel.pool_is_warm()  # the next grid counts a new pool's start-up


def test_predictions_csv_is_rendered_where_the_pipeline_ran_and_written_as_rendered(tmp_path, monkeypatch):
    """The text of predictions.csv is made in the worker (the writing process's own time is
    what -j cannot share), and the files are byte for byte those of -j 1."""
    from nirs4all_workspace.workspace.predictions_csv import predictions_csv_text

    monkeypatch.setenv(parallel.WORKERS_ENV, "always")
    engine, data = FakeEngine(), FakeDataset()
    specs = engine.expand(GRID)
    outcomes = list(parallel.run_groups(engine, specs, data, n_jobs=2))
    completed = [result for _, (result, _) in outcomes if result.status == "completed"]
    assert completed and all(r.predictions_csv == predictions_csv_text(r.predictions) for r in completed)
    ws, _, _ = _run(tmp_path, "j2", jobs=2)
    monkeypatch.setenv(parallel.WORKERS_ENV, "never")
    one, _, _ = _run(tmp_path, "j1", jobs=1)

    def files(workspace):
        return {
            p.parent.name: p.read_bytes()
            for p in workspace.layout.dataset_dir("fake").glob("*/predictions.csv")
        }

    assert files(ws) == files(one) and len(files(ws)) == 8
