"""Range queries over a path: highest value, lowest value and largest drop between two bars.

The metrics need, for each trade, the peak and the worst fall of the equity
path inside it. A segment tree over the log-equity path of an exposure answers
them for all trades at once in O(log n) vectorised steps, instead of walking
the bars of every trade.
"""

from __future__ import annotations

import numpy as np


class RangeTree:
    """Max, min and largest drop (``max over i <= j of v[i] - v[j]``) over any range of an array."""

    def __init__(self, values: np.ndarray) -> None:
        n = len(values)
        size = 1 << max(0, int(np.ceil(np.log2(max(n, 1)))))
        self.size = size
        self.max = np.full(2 * size, -np.inf)
        self.min = np.full(2 * size, np.inf)
        self.drop = np.zeros(2 * size)
        self.max[size : size + n] = values
        self.min[size : size + n] = values
        width = size // 2
        while width >= 1:
            nodes = np.arange(width, 2 * width)
            left, right = 2 * nodes, 2 * nodes + 1
            self.max[nodes] = np.maximum(self.max[left], self.max[right])
            self.min[nodes] = np.minimum(self.min[left], self.min[right])
            self.drop[nodes] = np.maximum(
                np.maximum(self.drop[left], self.drop[right]), self.max[left] - self.min[right]
            )
            width //= 2

    def query(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(max, min, drop) over ``values[lo..hi]`` (inclusive), for arrays of ranges.

        An empty range (``lo > hi``) gives (-inf, inf, 0).
        """
        left = np.asarray(lo, dtype=np.int64) + self.size
        right = np.asarray(hi, dtype=np.int64) + 1 + self.size
        count = len(left)
        lmax, lmin, ldrop = np.full(count, -np.inf), np.full(count, np.inf), np.zeros(count)
        rmax, rmin, rdrop = np.full(count, -np.inf), np.full(count, np.inf), np.zeros(count)
        while True:
            active = left < right
            if not active.any():
                break
            take = active & (left & 1 == 1)
            node = left[take]
            ldrop[take] = np.maximum(np.maximum(ldrop[take], self.drop[node]), lmax[take] - self.min[node])
            lmax[take] = np.maximum(lmax[take], self.max[node])
            lmin[take] = np.minimum(lmin[take], self.min[node])
            left[take] += 1
            take = active & (right & 1 == 1)
            right[take] -= 1
            node = right[take]
            rdrop[take] = np.maximum(np.maximum(self.drop[node], rdrop[take]), self.max[node] - rmin[take])
            rmax[take] = np.maximum(rmax[take], self.max[node])
            rmin[take] = np.minimum(rmin[take], self.min[node])
            left >>= 1
            right >>= 1
        drop = np.maximum(np.maximum(ldrop, rdrop), lmax - rmin)
        return np.maximum(lmax, rmax), np.minimum(lmin, rmin), drop
