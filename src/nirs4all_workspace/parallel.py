"""Where the pipelines of a grid execute, and whether worker processes are worth starting.

One module for ``nirs4all run`` and the workflow grid phases (docs/cluster.md):

- **backends**: ``loky`` (local processes), ``dask`` (a Dask cluster) or ``ray``;
  :func:`execution_backend` sets up the cluster's client for one command.
- **the decision** (loky): ``-j N`` starts worker processes only when the grid's
  expected cost pays for them. The first groups run in this process and are
  timed; the pool starts when the estimated fit time left, shared by ``N``
  workers, saves more than twice a worker's start-up (a Python process importing
  numpy and scikit-learn), both scaled by how busy the machine already is. A
  small grid never starts workers, so ``-j 2`` is never slower than ``-j 1`` on
  it. joblib keeps loky's pool warm (reusable executor) across the datasets and
  workflow phases of one command: a warm pool costs no start-up.
  ``NIRS4ALL_WORKERS=always|never`` overrides the decision.
- **the worker side**: :func:`execute_group_and_serialize` is what a worker
  runs; this module imports only what it needs (no catalog, no polars), so a
  worker starts as fast as the engine's own imports allow.

Only execution moves: workers return results, serialized fitted objects and the
text of each predictions.csv (rendering it is CPU work -j can share); the
calling process writes every file, in grid order, whatever the backend. Groups
(the engine's ``group_key``: e.g. PLS sizes sharing one fit) are scheduled whole,
and are the same whatever ``-j``: ``-j`` never changes a score.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .engines.base import PipelineResult, PipelineSpec, execute_group, group_specs
from .errors import InputError
from .workspace.artifacts import SerializedArtifact, serialize
from .workspace.predictions_csv import predictions_csv_text

BACKENDS = ("loky", "dask", "ray")
WORKERS_ENV = "NIRS4ALL_WORKERS"  # auto (default), always or never
WORKER_MODES = ("auto", "always", "never")
# A worker's start-up: a Python process importing numpy, scipy and scikit-learn, about
# 1 s on a quiet machine, 2-3 s on a loaded one. The pool starts only when the time it
# saves exceeds START_MARGIN times this: a wrong guess costs little either way.
WORKER_START_S = 1.5
START_MARGIN = 2.0
SHIP_INLINE_BYTES = 2**20  # a dataset with more bytes of arrays goes to the workers as a file
WATCH_S = 0.1  # how often a long group's elapsed time is weighed against the workers' start-up
WARM_S = 240.0  # loky's idle workers exit after 300 s: a pool used this recently is still warm

Outcome = tuple[PipelineResult, list[SerializedArtifact]]
_POOL: dict[str, float] = {}  # "last_use": when the loky pool last finished work; "workers": its size


def execute_and_serialize(engine: Any, spec: PipelineSpec, dataset: Any) -> Outcome:
    """Run one pipeline; a raising pipeline becomes a failed result (runs in workers)."""
    start = time.perf_counter()
    try:
        result = engine.execute(spec, dataset)
    except Exception as exc:  # any failure of a pipeline is recorded, the run goes on
        task = getattr(dataset, "task", "unknown")
        return PipelineResult.failure(exc, task=task, duration_s=time.perf_counter() - start), []
    artifacts = [serialize(f.step, f.operator, f.obj) for f in result.fitted]
    result.fitted = []  # only bytes travel back from a worker
    return rendered(result), artifacts


def rendered(result: PipelineResult) -> PipelineResult:
    """``result`` with its predictions.csv text, rendered here: in a worker, on the worker's
    core instead of the writing process's, whose own work is the part ``-j`` cannot share.
    The same function renders the same text in every process."""
    if result.predictions and result.predictions_csv is None:
        result.predictions_csv = predictions_csv_text(result.predictions)
    return result


def execute_group_and_serialize(engine: Any, specs: list[PipelineSpec], dataset: Any) -> list[Outcome]:
    """Run a group of pipelines the engine executes together (runs in workers).

    If the group raises, its pipelines run one at a time, so each failure is
    recorded against its own pipeline and the others still complete.
    """
    if len(specs) > 1:
        try:
            results = execute_group(engine, specs, dataset)
        except Exception:  # fall back to one at a time (below)
            results = []
        if len(results) == len(specs):
            # Variants of a group share fitted objects (their preprocessing): serialize each once.
            done: dict[tuple[int, str, int], SerializedArtifact] = {}
            out = []
            for result in results:
                artifacts = []
                for f in result.fitted:
                    key = (f.step, f.operator, id(f.obj))
                    if key not in done:
                        done[key] = serialize(f.step, f.operator, f.obj)
                    artifacts.append(done[key])
                result.fitted = []
                out.append((rendered(result), artifacts))
            return out
    return [execute_and_serialize(engine, spec, dataset) for spec in specs]


def execute_group_and_serialize_remote(engine: Any, specs: list[PipelineSpec], dataset: Any) -> list[Outcome]:
    """:func:`execute_group_and_serialize` in a worker, on a dataset it received pickled.

    An unpickled array carries a fresh dtype object where numpy's own arrays
    share one: pickle memoizes them otherwise, so a fitted object mixing both
    would pickle to other bytes (another digest, another stored file) than the
    same fit in the calling process. The dataset's arrays are put back on
    numpy's dtypes first (views, no copy): the same fit, the same bytes, whatever ``-j``.
    """
    return execute_group_and_serialize(engine, specs, native_arrays(_loaded(dataset)))


class DatasetFile:
    """A dataset written once to a file for the workers (:func:`ship`): each worker maps
    it into memory once and keeps it, instead of unpickling a copy with every group."""

    def __init__(self, path: str) -> None:
        self.path = path


_LOADED: dict[str, Any] = {}  # in a worker: the DatasetFile it mapped last


def _loaded(dataset: Any) -> Any:
    if not isinstance(dataset, DatasetFile):
        return dataset
    if dataset.path not in _LOADED:
        import joblib

        _LOADED.clear()  # one dataset at a time: the previous one of the command is done
        _LOADED[dataset.path] = joblib.load(dataset.path, mmap_mode="r")
    return _LOADED[dataset.path]


def ship(dataset: Any, folder: Path) -> Any:
    """What the workers receive for ``dataset``: itself when small, a :class:`DatasetFile`
    in ``folder`` when its arrays exceed :data:`SHIP_INLINE_BYTES` (read-only memory maps,
    shared by the workers through the page cache, as joblib does for its own)."""
    import numpy as np

    fields = getattr(dataset, "__dict__", None) or {}
    size = sum(v.nbytes for v in fields.values() if isinstance(v, np.ndarray))
    if size <= SHIP_INLINE_BYTES:
        return dataset
    import joblib

    path = folder / "dataset.pkl"
    joblib.dump(dataset, path)
    return DatasetFile(str(path))


def native_arrays(dataset: Any) -> Any:
    """A shallow copy of ``dataset`` whose array attributes are views on numpy's own dtypes.

    Loky's memory-mapped arrays become plain arrays too (same memory, read-only).
    Objects without attributes (``__slots__``) are returned as they are.
    """
    import copy

    import numpy as np

    def native(value: Any) -> Any:
        if isinstance(value, np.ndarray) and value.dtype.fields is None:
            return np.asarray(value).view(np.dtype(value.dtype.str))
        return value

    fields = getattr(dataset, "__dict__", None)
    if not fields or not any(isinstance(v, np.ndarray) for v in fields.values()):
        return dataset
    copied = copy.copy(dataset)
    for name, value in fields.items():
        if isinstance(value, np.ndarray):
            object.__setattr__(copied, name, native(value))
    return copied


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def effective_jobs(n_jobs: int, n_pipelines: int) -> int:
    """Worker processes that can help: ``n_jobs`` (-1: every core), at most one per core and pipeline."""
    wanted = usable_cores() if n_jobs == -1 else n_jobs
    return max(1, min(wanted, usable_cores(), n_pipelines))


def workers_mode() -> str:
    """``NIRS4ALL_WORKERS``: auto (start workers when they pay), always or never; InputError otherwise."""
    mode = os.environ.get(WORKERS_ENV, "auto").strip().lower() or "auto"
    if mode not in WORKER_MODES:
        raise InputError(f"{WORKERS_ENV} must be one of {', '.join(WORKER_MODES)}, not {mode!r}")
    return mode


def pool_is_warm(workers: int = 1) -> bool:
    """Whether this process ran ``workers`` loky workers recently enough that they still run (no start-up)."""
    last = _POOL.get("last_use")
    recent = last is not None and time.monotonic() - last < WARM_S
    return recent and _POOL.get("workers", 0) >= workers


def busy_factor() -> float:
    """How many times over the machine's cores are busy (1-minute load average / cores), at least 1.

    On a machine busy with other work a worker starts that many times slower, and
    ``N`` workers get about ``N / factor`` cores' worth of time.
    """
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows): assume a quiet machine
        return 1.0
    return max(1.0, load / usable_cores())


def worth_starting(seconds_left: float, workers: int, warm: bool, busy: float = 1.0) -> bool:
    """Whether ``workers`` processes save more than their start-up on ``seconds_left`` of fits.

    ``busy`` (:func:`busy_factor`) slows the start-up and shares the cores: on a
    machine already saturated, workers would only compete with each other.
    """
    start = 0.0 if warm else WORKER_START_S * busy
    useful = workers / busy
    if useful <= 1.0:
        return False
    saved = seconds_left * (1 - 1 / useful)
    return saved > START_MARGIN * start + 0.5  # +0.5 s: task shipping, result pickling


def seconds_left(timed: list[tuple[int, float]], groups_left: list[list[Any]]) -> float:
    """The fit time of ``groups_left``, from the ``(pipelines, seconds)`` of the groups timed so far.

    The lower of two estimates (per pipeline and per group), so that a group of
    many cheap variants (a PLS sweep) or a slow first fit (lazy imports) does not
    start workers for nothing; once three groups are timed, the first is left out.
    """
    sample = timed[1:] if len(timed) >= 3 else timed
    seconds = sum(s for _, s in sample)
    per_pipeline = seconds / max(1, sum(n for n, _ in sample))
    per_group = seconds / len(sample)
    pipelines = sum(len(g) for g in groups_left)
    return min(per_pipeline * pipelines, per_group * len(groups_left))


def run_groups(
    engine: Any,
    specs: list[PipelineSpec],
    dataset: Any,
    n_jobs: int,
    backend: str = "loky",
    say: Callable[[str], None] | None = None,
) -> Iterator[tuple[PipelineSpec, Outcome]]:
    """Execute ``specs`` group by group; yields ``(spec, (result, artifacts))`` in grid order.

    ``n_jobs`` is the number of processes (already :func:`effective_jobs` for
    loky). ``say`` receives one line saying where the pipelines ran (for run.log).
    """
    groups = group_specs(engine, specs)
    tell = say or (lambda _line: None)
    if backend != "loky":  # a cluster the user chose: every group goes to it
        tell(f"{len(groups)} groups of pipelines sent to the {backend} workers")
        yield from _in_pool(engine, groups, dataset, n_jobs, backend)
        return
    mode = workers_mode()
    if n_jobs == 1 or len(groups) == 1 or mode == "never":
        why = "-j 1" if n_jobs == 1 else "one group" if len(groups) == 1 else f"{WORKERS_ENV}=never"
        tell(f"ran in this process ({why})")
        yield from _in_process(engine, groups, dataset)
        return
    yield from _with_workers(engine, groups, dataset, n_jobs, tell, forced=mode == "always")


class _Schedule:
    """The groups of one grid handed out in order to this process and to the workers.

    Either side takes the next group not yet taken (:meth:`take`); finished groups
    are put back by index (:meth:`put`) and leave in grid order (:meth:`ready`,
    :meth:`wait_for_all`), so the files are written in the same order whatever ran
    where. A group the workers could not run is handed back (:meth:`give_back`).
    """

    def __init__(self, groups: list[list[PipelineSpec]]) -> None:
        self.groups = groups
        self.taken = 0
        self.given_back: list[int] = []  # taken by the workers, to be run here after all
        self.emitted = 0
        self.done: dict[int, list[Outcome]] = {}
        self.stopped = False
        self.workers_gone = False  # the pool broke: whatever is left runs here
        self.changed = threading.Condition()

    def take(self) -> int | None:
        with self.changed:
            if self.stopped:
                return None
            if self.given_back:
                return self.given_back.pop(0)
            if self.taken == len(self.groups):
                return None
            self.taken += 1
            return self.taken - 1

    def left(self) -> list[list[PipelineSpec]]:
        return self.groups[self.taken :]

    def put(self, index: int, outcomes: list[Outcome]) -> None:
        with self.changed:
            self.done[index] = outcomes
            self.changed.notify_all()

    def give_back(self, indexes: list[int]) -> None:
        with self.changed:
            self.given_back = sorted({*self.given_back, *indexes})
            self.changed.notify_all()

    def pool_broke(self) -> None:
        with self.changed:
            self.workers_gone = True
            self.changed.notify_all()

    def ready(self) -> Iterator[tuple[PipelineSpec, Outcome]]:
        """The finished groups next in grid order, without waiting."""
        while True:
            with self.changed:
                outcomes = self.done.pop(self.emitted, None)
                if outcomes is None:
                    return
                group = self.groups[self.emitted]
                self.emitted += 1
            yield from zip(group, outcomes, strict=True)

    def wait(self, until_workers_gone: bool = False) -> None:
        """Until the next group in grid order is finished (or the pool broke)."""
        with self.changed:
            while self.emitted < len(self.groups) and self.emitted not in self.done:
                if until_workers_gone and (self.workers_gone or self.given_back):
                    return
                self.changed.wait()

    def finished(self) -> bool:
        return self.emitted == len(self.groups)


class _Workers:
    """``count`` loky worker processes fed from a :class:`_Schedule` by a thread of this process.

    Each worker has one group at a time and takes the next one not taken when it
    finishes, so this process and the workers share the grid to its end. A large
    dataset reaches the workers once, as a file they map into memory (:func:`ship`).
    When a worker dies (killed for memory, a crash in native code), the groups the
    pool held are recorded as failed pipelines, saying so, and the rest of the grid
    runs in this process; when the pool fails otherwise (a task it cannot send), the
    groups go back to this process.
    """

    def __init__(self, engine: Any, dataset: Any, schedule: _Schedule, count: int) -> None:
        self.engine, self.dataset, self.schedule, self.count = engine, dataset, schedule, count
        self.thread: threading.Thread | None = None
        self.folder: Path | None = None  # where the dataset file for the workers is (ship)
        self.lines: list[str] = []  # what to say in run.log about the pool breaking

    def close(self) -> None:
        """Remove the dataset file (a worker still reading it keeps its mapping)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def started(self) -> bool:
        return self.thread is not None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._feed, name="nirs4all-workers", daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        import tempfile
        from concurrent.futures import FIRST_COMPLETED, wait

        from joblib.executor import get_memmapping_executor

        running: dict[Any, int] = {}
        try:
            self.folder = Path(tempfile.mkdtemp(prefix="nirs4all-workers-"))
            dataset = ship(self.dataset, self.folder)
            # joblib's executor (loky's reusable one, as joblib.Parallel gets it: a Parallel of the
            # same process, ours or a library's, can reuse it): the workers stay warm. Its own
            # memory-mapping is off (max_nbytes=None): the dataset is shipped once, by ship().
            executor = get_memmapping_executor(
                self.count, timeout=300, env=_thread_limits(self.count + 1), max_nbytes=None
            )
            run = execute_group_and_serialize_remote
            while True:
                while len(running) < self.count:
                    index = self.schedule.take()
                    if index is None:
                        break
                    group = self.schedule.groups[index]
                    running[executor.submit(run, self.engine, group, dataset)] = index
                if not running:
                    return
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    outcomes = future.result()
                    self.schedule.put(running.pop(future), outcomes)
        except BaseException as exc:
            self._broke(exc, sorted(running.values()))
        finally:
            if self.schedule.workers_gone:  # a broken pool is not warm: the next one starts anew
                _POOL.pop("last_use", None)
            else:
                _POOL["last_use"] = time.monotonic()
                _POOL["workers"] = self.count
            self.close()  # every group is done or dropped: the workers need the file no more

    def _broke(self, exc: BaseException, held: list[int]) -> None:
        """Record what the broken pool held (failed if a worker died, else given back)."""
        from concurrent.futures.process import BrokenProcessPool

        pipelines = sum(len(self.schedule.groups[i]) for i in held)
        if isinstance(exc, BrokenProcessPool):
            reason = worker_death(exc)
            error = RuntimeError(
                f"the worker process running it died ({reason}); 'nirs4all run ... --resume' runs it "
                "again, with -j 1 if it keeps happening"
            )
            for index in held:
                group = self.schedule.groups[index]
                task = getattr(self.dataset, "task", "unknown")
                self.schedule.put(index, [(PipelineResult.failure(error, task=task), []) for _ in group])
            self.lines.append(
                f"a worker process died ({reason}): the {pipelines} pipeline(s) it held are recorded as "
                "failed; "
                "the rest of the grid ran in this process"
            )
        else:
            self.schedule.give_back(held)
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            self.lines.append(
                f"the worker processes failed ({detail}): the rest of the grid ran in this process"
            )
        self.schedule.pool_broke()


def worker_death(exc: BaseException) -> str:
    """How a worker died, in words, from loky's message (its exit codes)."""
    text = str(exc)
    if "SIGKILL" in text or "EXIT(-9)" in text:
        return "killed by the system, most often for lack of memory"
    if "SIGSEGV" in text or "EXIT(-11)" in text:
        return "a crash in native code (segmentation fault)"
    codes = re.findall(r"EXIT\((-?\d+)\)", text)
    if codes:
        return f"exit code {', '.join(dict.fromkeys(codes))}"
    return type(exc).__name__


def _thread_limits(processes: int) -> dict[str, str]:
    """The BLAS/OpenMP thread counts a worker gets: the cores shared by ``processes``
    (what joblib gives its own workers; a variable the user set is kept)."""
    threads = str(max(1, usable_cores() // processes))
    names = (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "BLIS_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
    return {name: os.environ.get(name, threads) for name in names}


class _Decision:
    """Whether the workers of ``-j N`` pay for themselves, weighed after each group this
    process runs and, during a long one, every :data:`WATCH_S` by a watcher thread (the
    time a group has run so far is a floor on its cost). The workers start once."""

    def __init__(self, workers: _Workers, n_jobs: int, n_groups: int) -> None:
        self.workers, self.n_jobs, self.n_groups = workers, n_jobs, n_groups
        self.timed: list[tuple[int, float]] = []  # (pipelines, seconds) of the groups run here
        self.running: tuple[int, int, float] | None = None  # (index, size, start) of the group running
        self.lines: list[str] = []  # what to say in run.log (by the calling thread)
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.watcher = threading.Thread(target=self._watch, name="nirs4all-decision", daemon=True)

    def begin(self, index: int, size: int) -> None:
        with self.lock:
            self.running = (index, size, time.perf_counter())

    def end(self) -> None:
        with self.lock:
            if self.running is not None:
                _, size, start = self.running
                self.timed.append((size, time.perf_counter() - start))
                self.running = None
        self.weigh()

    def stop(self) -> None:
        self.finished.set()

    def _watch(self) -> None:
        while not self.finished.wait(WATCH_S) and not self.workers.started:
            self.weigh()

    def weigh(self) -> None:
        with self.lock:
            if self.workers.started:
                return
            sample = list(self.timed)
            if self.running is not None:
                index, size, start = self.running
                sample.append((size, time.perf_counter() - start))
            rest = self.workers.schedule.left()
            if not sample or not rest:
                return
            left = seconds_left(sample, rest)
            count = self.n_jobs - 1
            warm = pool_is_warm(count)
            if not worth_starting(left, self.n_jobs, warm, busy_factor()):
                return
            self.workers.start()
            when = (
                f"while group {index + 1} of {self.n_groups} ran"
                if self.running is not None
                else f"after {len(self.timed)} of {self.n_groups} groups"
            )
            self.lines.append(
                f"-j {self.n_jobs}: {'reused the warm' if warm else 'started'} {count} worker "
                f"process{'es' if count > 1 else ''} {when} (about {left:.1f} s of fits left); "
                "this process runs groups too"
            )

    def said(self) -> list[str]:
        with self.lock:
            lines, self.lines = self.lines, []
        if not self.workers.started and self.finished.is_set():
            total = sum(s for _, s in self.timed)
            busy = busy_factor()
            why = "too little to pay for starting workers"
            if busy > 1.25:
                why = f"the cores are busy {busy:.1f} times over"
            lines.append(
                f"-j {self.n_jobs}: ran in this process: {total:.1f} s of fits, {why} "
                f"(they take about {WORKER_START_S:g} s to start; {WORKERS_ENV}=always forces them)"
            )
        return lines


def _with_workers(
    engine: Any,
    groups: list[list[PipelineSpec]],
    dataset: Any,
    n_jobs: int,
    tell: Callable[[str], None],
    forced: bool,
) -> Iterator[tuple[PipelineSpec, Outcome]]:
    """``-j N`` with loky workers.

    Left to decide (:class:`_Decision`): this process runs groups, and once ``N - 1``
    workers start, both take groups from one queue (:class:`_Schedule`).
    ``forced`` (``NIRS4ALL_WORKERS=always``): ``N`` workers run every group and this
    process only writes. Either way, what a broken pool leaves runs here.
    """
    schedule = _Schedule(groups)
    workers = _Workers(engine, dataset, schedule, n_jobs if forced else n_jobs - 1)
    decision = _Decision(workers, n_jobs, len(groups))
    if forced:
        tell(f"started {n_jobs} worker processes ({WORKERS_ENV}=always)")
        workers.start()
    else:
        decision.watcher.start()
    try:
        while not schedule.finished():
            if forced and not schedule.workers_gone and not schedule.given_back:
                schedule.wait(until_workers_gone=True)  # this process only writes
                yield from schedule.ready()
                continue
            index = schedule.take()
            if index is None:  # every group is taken: wait for the workers' ones
                decision.stop()
                schedule.wait(until_workers_gone=True)
                yield from schedule.ready()
                continue
            decision.begin(index, len(groups[index]))
            outcomes = execute_group_and_serialize(engine, groups[index], dataset)
            decision.end()
            schedule.put(index, outcomes)
            for line in decision.said() + _drain(workers.lines):
                tell(line)
            yield from schedule.ready()
    finally:
        decision.stop()
        schedule.stopped = True  # a consumer that stopped early: the workers take nothing more
        workers.close()
    for line in ([] if forced else decision.said()) + _drain(workers.lines):
        tell(line)


def _drain(lines: list[str]) -> list[str]:
    taken = list(lines)
    del lines[: len(taken)]
    return taken


def _in_process(engine: Any, groups: list[list[PipelineSpec]], dataset: Any) -> Iterator[Any]:
    for group in groups:
        yield from zip(group, execute_group_and_serialize(engine, group, dataset), strict=True)


def _in_pool(
    engine: Any, groups: list[list[PipelineSpec]], dataset: Any, n_jobs: int, backend: str
) -> Iterator[Any]:
    from joblib import Parallel, delayed

    # Other backends (dask, ray) come from the caller's joblib.parallel_config, inside their
    # client (execution_backend): here they are only named. loky's executor is reused by
    # joblib from one Parallel to the next: the pool stays warm for the whole command.
    options = {"backend": "loky"} if backend == "loky" else {}
    parallel = Parallel(n_jobs=n_jobs, return_as="generator", **options)
    run = delayed(execute_group_and_serialize_remote)
    outputs = parallel(run(engine, group, dataset) for group in groups)
    try:
        for group, results in zip(groups, outputs, strict=True):
            yield from zip(group, results, strict=True)
    finally:
        if backend == "loky":
            _POOL["last_use"] = time.monotonic()
            _POOL["workers"] = n_jobs


def check_backend(backend: str, scheduler: str | None) -> None:
    """InputError for an unknown backend or a scheduler address without dask."""
    if backend not in BACKENDS:
        raise InputError(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if scheduler and backend != "dask":
        raise InputError("--scheduler is the address of a dask scheduler: use it with --backend dask")


def cluster_jobs(backend: str, n_jobs: int) -> int:
    """``-j`` on a cluster: the default (1) means every worker the cluster has (-1)."""
    return -1 if backend != "loky" and n_jobs == 1 else n_jobs


@contextlib.contextmanager
def execution_backend(backend: str, scheduler: str | None = None) -> Iterator[str]:
    """Set up the backend's client for the duration; yields the joblib backend name.

    ``dask``: a ``distributed.Client`` connected to ``scheduler`` (e.g.
    ``tcp://10.0.0.5:8786``), or to a local cluster started here when no address
    is given. ``ray``: ray's joblib backend. InputError if the package is missing
    or the scheduler cannot be reached (before anything is written).
    """
    check_backend(backend, scheduler)
    if backend == "loky":
        yield backend
        return
    from joblib import parallel_config

    if backend == "ray":
        try:
            from ray.util.joblib import register_ray
        except ImportError:
            raise InputError("--backend ray needs ray: pip install 'nirs4all-workspace[ray]'") from None
        register_ray()
        with parallel_config(backend="ray"):
            yield backend
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError(
            "--backend dask needs dask.distributed: pip install 'nirs4all-workspace[cluster]'"
        ) from None
    with contextlib.ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(Client(scheduler, timeout="10s"))
            except (OSError, ValueError, TypeError) as exc:
                reason = " ".join(str(exc).split())[:200]
                raise InputError(
                    f"cannot reach the dask scheduler at {scheduler!r} ({reason}); "
                    "check the address (tcp://HOST:8786) and that the scheduler runs"
                ) from None
        else:
            cluster = stack.enter_context(LocalCluster(processes=True, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        with parallel_config(backend="dask", client=client):
            yield backend
