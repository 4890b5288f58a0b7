"""Preprocessing computed once: fitted prefixes of a pipeline and the data they produced, per fold.

Variants that share a preprocessing prefix (``snv`` before ``snv > sg1`` and
``snv > sg2``...) need the same fitted objects and the same transformed spectra
in every fold and in the refit. :class:`PrefixCache` keeps them, keyed by the
data's fingerprint, the fold and the canonical JSON of the prefix's steps, in
least-recently-used order within a byte cap (``NIRS4ALL_PREPROCESS_CACHE_MB``,
default :data:`DEFAULT_CAP_MB`): past the cap the oldest entries are evicted
and recomputed when needed again, and an entry larger than the cap is computed
and used but never kept. ``peak_bytes`` records the most it ever held.

Each step is applied as scikit-learn's ``Pipeline`` applies it (``fit_transform``
on the training rows, ``transform`` on the others), so cached or not, the
numbers are those of a separate pipeline.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone

DEFAULT_CAP_MB = 512
CAP_ENV = "NIRS4ALL_PREPROCESS_CACHE_MB"

_Entry = tuple[list[Any], np.ndarray, list[np.ndarray]]


def default_cap_bytes() -> int:
    """The cap from ``$NIRS4ALL_PREPROCESS_CACHE_MB`` (0 disables the cache), else 512 MB."""
    raw = os.environ.get(CAP_ENV, "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_CAP_MB
    except ValueError:
        megabytes = DEFAULT_CAP_MB
    return max(0, int(megabytes * 1024 * 1024))


class PrefixCache:
    """Fitted preprocessing prefixes and their outputs, least recently used first out, within a cap."""

    def __init__(self, cap_bytes: int | None = None) -> None:
        self.cap_bytes = default_cap_bytes() if cap_bytes is None else cap_bytes
        self._entries: OrderedDict[Hashable, tuple[_Entry, int]] = OrderedDict()
        self.bytes = 0
        self.peak_bytes = 0
        self.hits = 0
        self.misses = 0

    @staticmethod
    def fingerprint(*arrays: np.ndarray) -> str:
        """A digest of the data, so entries of one dataset are never used for another."""
        digest = hashlib.blake2b(digest_size=16)
        for raw in arrays:
            array = np.ascontiguousarray(raw)
            digest.update(f"{array.dtype}{array.shape}".encode())
            digest.update(array.tobytes() if array.dtype != object else repr(array.tolist()).encode())
        return digest.hexdigest()

    def apply(
        self,
        where: Hashable,
        steps: Sequence[str],
        prefix: Sequence[Any],
        X: np.ndarray,
        y: np.ndarray,
        others: Sequence[np.ndarray],
    ) -> tuple[list[Any], np.ndarray, list[np.ndarray]]:
        """Fit ``prefix`` (unfitted estimators, described by ``steps``) on ``X, y`` and apply it.

        Returns the fitted objects, the transformed ``X`` and each of ``others``
        transformed. ``where`` names the rows (data fingerprint and fold).
        """
        if len(steps) != len(prefix):
            raise ValueError("one canonical step description is needed per prefix object")
        fitted: list[Any] = []
        Xt, rest = X, list(others)
        start = 0
        for length in range(len(steps), 0, -1):
            entry = self._get((where, len(others), tuple(steps[:length])))
            if entry is not None:
                fitted, Xt, rest = list(entry[0]), entry[1], list(entry[2])
                start = length
                break
        for j in range(start, len(steps)):
            obj = clone(prefix[j])
            Xt = obj.fit_transform(Xt, y)
            rest = [obj.transform(o) for o in rest]
            fitted.append(obj)
            for array in (Xt, *rest):  # shared by later variants: an in-place change must fail, not spread
                if isinstance(array, np.ndarray):
                    array.flags.writeable = False
            self._put((where, len(others), tuple(steps[: j + 1])), (list(fitted), Xt, list(rest)))
        return fitted, Xt, rest

    def _get(self, key: Hashable) -> _Entry | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return found[0]

    def _put(self, key: Hashable, entry: _Entry) -> None:
        size = int(np.asarray(entry[1]).nbytes + sum(np.asarray(o).nbytes for o in entry[2]))
        if size > self.cap_bytes or key in self._entries:
            return
        while self._entries and self.bytes + size > self.cap_bytes:
            _, (_, old) = self._entries.popitem(last=False)
            self.bytes -= old
        self._entries[key] = (entry, size)
        self.bytes += size
        self.peak_bytes = max(self.peak_bytes, self.bytes)

    def clear(self) -> None:
        """Forget every entry (the peak is kept)."""
        self._entries.clear()
        self.bytes = 0
