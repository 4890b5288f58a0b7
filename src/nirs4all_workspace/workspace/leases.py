"""Writer leases: which processes are writing pipelines into a dataset right now.

A process that allocates a pipeline folder takes a lease on the dataset first
(under the dataset's lock): it creates ``_state/leases/<token>`` and holds an
exclusive ``flock`` on it until it releases the lease or dies (the OS then drops
the lock). Between allocating a folder and writing its ``pipeline.json``, a
writer stores binaries that no ``pipeline.json`` references yet, or refreshes
old ones it reuses; whoever removes unreferenced binaries (``workspace gc``,
``runs delete``, ``runs archive``) does so under the dataset's lock and only
when no live lease exists, so it never removes a binary a pipeline being
written refers to, whatever its age limit.

Leases rely on ``flock``: where it does nothing (some NFS mounts) a writer's
binaries are protected only by gc's age limit (``--min-age``, ten minutes by
default).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from .layout import WorkspaceLayout

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def leases_dir(layout: WorkspaceLayout, dataset: str) -> Path:
    return layout.state_dir(dataset) / "leases"


class WriterLeases:
    """The leases this process holds, one per dataset it writes into."""

    def __init__(self, layout: WorkspaceLayout) -> None:
        self.layout = layout
        self._held: dict[str, tuple[int, Path]] = {}

    def take(self, dataset: str) -> None:
        """Hold a lease on ``dataset`` (call under the dataset's lock; no-op if already held)."""
        if dataset in self._held:
            return
        folder = leases_dir(self.layout, dataset)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{os.getpid()}-{secrets.token_hex(6)}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        _try_lock(fd)  # a fresh file: nobody else holds it
        self._held[dataset] = (fd, path)

    def release(self, dataset: str | None = None) -> None:
        """Drop the lease on ``dataset`` (every lease if None)."""
        for name in [dataset] if dataset is not None else list(self._held):
            held = self._held.pop(name, None)
            if held is not None:
                fd, path = held
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()  # first: a reader never finds a released, unlocked file
                os.close(fd)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.release()


def live_writers(layout: WorkspaceLayout, dataset: str) -> int:
    """Number of processes holding a lease on ``dataset``; removes leases of dead ones.

    Call under the dataset's lock (writers take leases under it).
    """
    folder = leases_dir(layout, dataset)
    if not folder.is_dir():
        return 0
    live = 0
    for path in folder.iterdir():
        try:
            fd = os.open(path, os.O_RDWR)
        except (FileNotFoundError, IsADirectoryError):
            continue
        try:
            if _try_lock(fd):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()  # its writer died without releasing it
            else:
                live += 1
        finally:
            os.close(fd)
    return live
