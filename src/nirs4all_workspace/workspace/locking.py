"""A cross-process lock on a file, for the few places where processes race.

Numbering, the best-result file and the session files of a dataset are updated
under the dataset's lock; catalog compaction under the catalog's lock. The lock
is an advisory ``flock`` (``msvcrt.locking`` on Windows), released by the OS if
the holder dies, so a killed process never leaves a workspace locked.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType

from ..errors import WorkspaceError

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int, blocking: bool, shared: bool = False) -> bool:  # noqa: ARG001 - always exclusive
        mode = msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK
        try:
            msvcrt.locking(fd, mode, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int, blocking: bool, shared: bool = False) -> bool:
        flags = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        flags = flags if blocking else flags | fcntl.LOCK_NB
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """Exclusive lock held while inside ``with FileLock(path):``.

    Waits up to ``timeout`` seconds, then raises :class:`WorkspaceError` naming
    the lock file. Not re-entrant: do not nest the same lock in one process.
    With ``shared``, any number of holders may share it, and an exclusive holder
    excludes them all (a run's lease on its dataset against a repair).
    """

    def __init__(self, path: Path, timeout: float = 120.0, shared: bool = False) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.shared = shared
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        while not _lock(fd, blocking=False, shared=self.shared):
            if time.monotonic() >= deadline:
                os.close(fd)
                raise WorkspaceError(
                    f"could not lock {self.path} within {self.timeout:.0f} s; "
                    "another nirs4all process is holding it"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
