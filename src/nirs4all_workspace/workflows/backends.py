"""Where the pipelines of a workflow execute: loky (local processes), dask or ray.

Only execution moves: workers run ``execute`` and return results and serialized
fitted objects; the calling process writes every file (docs/design.md), so
numbering, the catalog and checkpoints stay correct on any backend.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..errors import InputError

BACKENDS = ("loky", "dask", "ray")


def check_backend(backend: str, scheduler: str | None) -> None:
    """InputError for an unknown backend or a scheduler address without dask."""
    if backend not in BACKENDS:
        raise InputError(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if scheduler and backend != "dask":
        raise InputError("--scheduler is the address of a dask scheduler: use it with --backend dask")


@contextlib.contextmanager
def execution_backend(backend: str, scheduler: str | None = None) -> Iterator[str]:
    """Set up the backend's client for the duration; yields the joblib backend name.

    ``dask``: a ``distributed.Client`` connected to ``scheduler`` (e.g.
    ``tcp://10.0.0.5:8786``), or to a local cluster started here when no address
    is given. ``ray``: ray's joblib backend. InputError if the package is missing.
    """
    from joblib import parallel_config

    check_backend(backend, scheduler)
    if backend == "loky":
        yield backend
        return
    if backend == "ray":
        try:
            from ray.util.joblib import register_ray
        except ImportError:
            raise InputError("--backend ray needs ray: pip install 'ray[default]'") from None
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
            except OSError as exc:
                raise InputError(f"cannot reach the dask scheduler at {scheduler!r} ({exc})") from None
        else:
            cluster = stack.enter_context(LocalCluster(processes=True, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        with parallel_config(backend="dask", client=client):
            yield backend
