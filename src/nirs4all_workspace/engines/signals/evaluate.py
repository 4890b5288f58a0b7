"""Trading metrics computed from the change points of a signal, never bar by bar.

Conventions (``docs/signals.md`` states them for users):

- ``r[k] = close[k] / close[k-1] - 1`` (close to close; ``r[0] = 0``).
- A signal decided at the close of bar ``t`` is executed at the close of bar
  ``t + 1``; the new position earns ``r[t + 2]`` onwards. Nothing uses a later bar.
- Exposure ``x`` (+1 long, -1 short, fractions for combined signals) is held at
  a constant fraction of equity: a bar multiplies equity by ``1 + x r[k]``.
- A change of exposure by ``u`` units at a bar's close multiplies equity by
  ``(1 - fee) ** u`` (the fee is a fraction of the traded value): fees are
  always subtracted, and a flip from +1 to -1 pays two units (close, then open).
- A *trade* is a maximal run of constant non-zero exposure, from its entry
  bar to its exit bar (or the last bar: an open trade is marked to market, no
  exit fee). Its return includes its own fees. Between the two sides of a
  flip, each trade pays its own side. ``win_rate`` counts trades whose net
  return is above 1e-12 (a trade back at its entry price is a scratch);
  ``profit_factor`` is the sum of the trades' gains over the sum of their losses.
- Per-bar net returns ``n[k] = E[k] / E[k-1] - 1`` (one per bar, ``n[0] = 0``)
  give ``sharpe = mean(n) / std(n, ddof=1) * sqrt(bars_per_year)`` and
  ``sortino = mean(n) / sqrt(mean(min(n, 0)^2)) * sqrt(bars_per_year)``;
  ``max_drawdown`` is the largest fall of ``E`` from a previous peak (a fraction).

How: inside a trade every bar is ``x r[k]``, so sums over a trade come from
prefix sums of ``r``, ``r^2``, ``log(1 + x r)`` and ``min(x r, 0)^2``
(computed once per data set); only the bars where the exposure changes are
looked at one by one. The running peak within a trade comes from a range
tree over the log-equity path (O(log n) per trade). Grouped evaluation
(trades kept by regime) reuses the per-trade pieces for every group at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .ranges import RangeTree

# A trade whose net return is within this of zero is a scratch, neither won nor lost: prices that
# come back to the entry price must not be counted as wins or losses by rounding noise.
SCRATCH = 1e-12
METRICS = (
    "total_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "win_rate",
    "profit_factor",
    "n_trades",
    "avg_trade_bars",
)


@dataclass
class ExposurePath:
    """Prefix sums of one exposure level ``x`` over the bars."""

    log: np.ndarray  # sum of log(1 + x r) up to each bar
    downside: np.ndarray  # sum of min(x r, 0)^2 up to each bar
    tree: RangeTree


@dataclass
class BarContext:
    """What every evaluation on one data set shares: returns and their prefix sums."""

    returns: np.ndarray
    bars_per_year: float
    sum1: np.ndarray = field(init=False)
    sum2: np.ndarray = field(init=False)
    _paths: dict[float, ExposurePath] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.sum1 = np.cumsum(self.returns)
        self.sum2 = np.cumsum(self.returns * self.returns)

    @classmethod
    def from_close(cls, close: np.ndarray, bars_per_year: float) -> BarContext:
        close = np.asarray(close, dtype=np.float64)
        returns = np.zeros(len(close))
        returns[1:] = close[1:] / close[:-1] - 1.0
        return cls(returns, float(bars_per_year))

    @property
    def n(self) -> int:
        return len(self.returns)

    def path(self, x: float) -> ExposurePath:
        """Prefix sums for exposure ``x`` (computed once per level, then cached)."""
        found = self._paths.get(x)
        if found is None:
            step = x * self.returns
            with np.errstate(invalid="ignore", divide="ignore"):
                log = np.cumsum(np.log1p(step))
            found = ExposurePath(log, np.cumsum(np.minimum(step, 0.0) ** 2), RangeTree(log))
            self._paths[x] = found
        return found


@dataclass
class Trades:
    """Maximal runs of constant non-zero exposure, in time order.

    ``start``: the bar at whose close the position is taken (it earns from the
    next bar); ``end``: the bar at whose close it is left, or the last bar for a
    trade still open.
    """

    start: np.ndarray
    end: np.ndarray
    exposure: np.ndarray
    is_open: np.ndarray
    n_bars: int

    def __len__(self) -> int:
        return len(self.start)

    @property
    def signal_bar(self) -> np.ndarray:
        """The bar whose close decided each trade (one before its execution)."""
        return self.start - 1

    @property
    def duration(self) -> np.ndarray:
        """Bars each trade is held (end - start)."""
        return self.end - self.start


def trades_from_changes(bar_idx: np.ndarray, values: np.ndarray, n_bars: int) -> Trades:
    """Trades of a signal given by its change points (executed one bar later)."""
    execute = np.asarray(bar_idx, dtype=np.int64) + 1
    value = np.asarray(values, dtype=np.float64)
    inside = execute < n_bars  # a change at the last bar is never executed
    execute, value = execute[inside], value[inside]
    changed = value != np.concatenate([[0.0], value[:-1]])
    execute, value = execute[changed], value[changed]
    following = np.concatenate([execute[1:], [n_bars]])
    held = value != 0
    end = following[held]
    is_open = end >= n_bars
    return Trades(execute[held], np.where(is_open, n_bars - 1, end), value[held], is_open, n_bars)


def grouped_metrics(ctx: BarContext, trades: Trades, fee: float, keep: np.ndarray) -> dict[str, np.ndarray]:
    """The metrics of each group of trades: ``keep[g, i]`` says whether group ``g`` takes trade ``i``.

    A group is the strategy restricted to some of its trades (e.g. those opened
    in one regime); trades it skips are flat time. Returns one array of
    ``len(keep)`` values per name of :data:`METRICS`.
    """
    keep = np.asarray(keep, dtype=bool)
    group, index = np.nonzero(keep)  # by group, then by time
    return _grouped(ctx, trades, fee, group, index, len(keep))[0]


def _segment_starts(group: np.ndarray) -> np.ndarray:
    """Positions where a new group begins in an array sorted by group."""
    starts = np.ones(len(group), dtype=bool)
    starts[1:] = group[1:] != group[:-1]
    return starts


@dataclass
class _TradePieces:
    """What each trade contributes, whatever the group it is in (arrays over the trades)."""

    last: np.ndarray  # last bar strictly inside the trade (start+1 .. last), or start if none
    log_start: np.ndarray  # log-equity path of its exposure at its entry bar...
    inside_log: np.ndarray  # ...its change over the inside bars
    top: np.ndarray  # max, min and largest drop of that path over the inside bars
    bottom: np.ndarray
    drop: np.ndarray
    down: np.ndarray  # sum of min(x r, 0)^2 over the inside bars
    inside_sum: np.ndarray  # sum of x r and of (x r)^2 over the inside bars
    inside_sq: np.ndarray
    exit_gross: np.ndarray  # log(1 + x r) of the exit bar (0 for an open trade)
    touches_prev: np.ndarray  # starts at the bar where the previous trade ended
    same_side: np.ndarray  # same sign as the previous trade
    step_prev: np.ndarray  # |x - x of the previous trade|


def _trade_pieces(ctx: BarContext, trades: Trades) -> _TradePieces:
    start, end, x, is_open = trades.start, trades.end, trades.exposure, trades.is_open
    count = len(trades)
    last = np.where(is_open, ctx.n - 1, end - 1)
    log_start, log_last = np.empty(count), np.empty(count)
    top, bottom, drop, down = np.empty(count), np.empty(count), np.empty(count), np.empty(count)
    exit_gross = np.zeros(count)
    for level in np.unique(x):
        at = x == level
        path = ctx.path(float(level))
        log_start[at], log_last[at] = path.log[start[at]], path.log[last[at]]
        down[at] = path.downside[last[at]] - path.downside[start[at]]
        top[at], bottom[at], drop[at] = path.tree.query(start[at] + 1, last[at])
        closed = at & ~is_open
        exit_gross[closed] = path.log[end[closed]] - path.log[end[closed] - 1]
    touches_prev = np.zeros(count, dtype=bool)
    touches_prev[1:] = (start[1:] == end[:-1]) & ~is_open[:-1]
    same_side = np.zeros(count, dtype=bool)
    same_side[1:] = np.sign(x[1:]) == np.sign(x[:-1])
    return _TradePieces(
        last=last,
        log_start=log_start,
        inside_log=log_last - log_start,
        top=top,
        bottom=bottom,
        drop=drop,
        down=down,
        inside_sum=x * (ctx.sum1[last] - ctx.sum1[start]),
        inside_sq=x * x * (ctx.sum2[last] - ctx.sum2[start]),
        exit_gross=exit_gross,
        touches_prev=touches_prev,
        same_side=same_side,
        step_prev=np.abs(x - np.concatenate([[0.0], x[:-1]])),
    )


def _grouped(
    ctx: BarContext, trades: Trades, fee: float, group: np.ndarray, index: np.ndarray, groups: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Metrics of ``groups`` groups given as (group, trade index) pairs sorted by group then time.

    Also returns the net log return of each pair's trade (its fees as paid in that group).
    """
    n = ctx.n
    if not len(index):
        return _empty_metrics(groups), np.zeros(0)
    pieces = _trade_pieces(ctx, trades)
    lf = np.log1p(-fee)

    # Per (group, trade): neighbours share a bar only if both are in the group.
    first = _segment_starts(group)
    adj_prev = np.zeros(len(index), dtype=bool)
    adj_prev[1:] = ~first[1:] & (index[1:] == index[:-1] + 1) & pieces.touches_prev[index[1:]]
    adj_next = np.concatenate([adj_prev[1:], [False]])
    scaled = adj_prev & pieces.same_side[index]  # a same-side resize: the change is paid by the new trade
    size = np.abs(trades.exposure[index])
    shut = trades.is_open[index]
    d_entry = np.where(scaled, pieces.step_prev[index], size) * lf
    exit_units = np.where(shut | np.concatenate([scaled[1:], [False]]), 0.0, size)
    d_exit = np.where(shut, 0.0, pieces.exit_gross[index]) + exit_units * lf
    trade_log = d_entry + pieces.inside_log[index] + d_exit

    # Per-bar net returns at the bars where the exposure changes (a shared bar counts once).
    n_entry = np.where(adj_prev, 0.0, np.expm1(d_entry))
    following = np.where(adj_next, np.concatenate([d_entry[1:], [0.0]]), 0.0)
    n_exit = np.where(shut, 0.0, np.expm1(d_exit + following))

    def per_group(weights: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=weights, minlength=groups)

    sum_n = per_group(pieces.inside_sum[index] + n_entry + n_exit)
    sum_sq = per_group(pieces.inside_sq[index] + n_entry**2 + n_exit**2)
    sum_down = per_group(pieces.down[index] + np.minimum(n_entry, 0.0) ** 2 + np.minimum(n_exit, 0.0) ** 2)
    inner = (pieces.last > trades.start)[index]
    worst = _worst_drawdowns(
        group,
        first,
        groups,
        np.stack([d_entry, pieces.inside_log[index], d_exit], axis=1),
        np.where(inner, pieces.top[index] - pieces.log_start[index], -np.inf),
        np.where(inner, pieces.bottom[index] - pieces.log_start[index], np.inf),
        np.where(inner, pieces.drop[index], 0.0),
        ~shut & ~adj_next,
    )

    n_trades = np.bincount(group, minlength=groups).astype(np.float64)
    trade_return = np.expm1(trade_log)
    durations = np.where(trades.is_open, n - 1 - trades.start, trades.end - trades.start)[index]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sum_n / n
        std = np.sqrt(np.maximum(sum_sq - n * mean * mean, 0.0) / (n - 1)) if n > 1 else np.zeros(groups)
        scale = np.sqrt(ctx.bars_per_year)
        metrics = {
            "total_return": np.expm1(per_group(trade_log)),
            "sharpe": np.where(std > 0, mean / std * scale, np.nan),
            "sortino": mean / np.sqrt(sum_down / n) * scale,
            "max_drawdown": -np.expm1(-worst),
            "win_rate": per_group((trade_return > SCRATCH).astype(np.float64)) / n_trades,
            "profit_factor": per_group(np.maximum(trade_return, 0.0))
            / per_group(np.maximum(-trade_return, 0.0)),
            "n_trades": n_trades,
            "avg_trade_bars": per_group(durations.astype(np.float64)) / n_trades,
        }
    return metrics, trade_log


def _worst_drawdowns(
    group: np.ndarray,
    first: np.ndarray,
    groups: int,
    delta: np.ndarray,
    inside_high: np.ndarray,
    inside_low: np.ndarray,
    inside_drop: np.ndarray,
    exit_seen: np.ndarray,
) -> np.ndarray:
    """Largest fall of log equity from a previous peak, per group (0 if it never falls).

    Each trade is three pieces in time order: its entry bar (``delta[:, 0]``,
    after the fees of that bar), its inside bars (range given by
    ``inside_high``/``inside_low``/``inside_drop`` relative to the entry), and its
    exit bar; an exit bar shared with the next trade of the group is seen once,
    at that trade's entry. Flat time between trades changes nothing.
    """
    d_entry, d_exit = delta[:, 0], delta[:, 2]
    high = np.stack([d_entry, inside_high, np.where(exit_seen, d_exit, -np.inf)], axis=1).ravel()
    low = np.stack([d_entry, inside_low, np.where(exit_seen, d_exit, np.inf)], axis=1).ravel()
    piece_drop = np.stack([np.zeros(len(group)), inside_drop, np.zeros(len(group))], axis=1).ravel()
    flat = delta.ravel()
    group3 = np.repeat(group, 3)
    first3 = np.repeat(first, 3) & (np.arange(3 * len(group)) % 3 == 0)
    starts3 = np.flatnonzero(first3)
    before = np.cumsum(flat) - flat
    base = before - before[starts3][np.cumsum(first3) - 1]  # log equity before each piece, per group
    level = base + high
    finite = np.isfinite(level)
    bound = float(np.abs(level[finite]).max()) + 1.0 if finite.any() else 1.0
    # Running maximum within each group: groups are lifted apart so that none carries into the next.
    lift = group3 * (2.0 * bound + 2.0)
    running = np.maximum.accumulate(np.where(finite, level, -bound - 1.0) + lift) - lift
    peak = np.concatenate([[0.0], running[:-1]])
    peak = np.maximum(np.where(first3, 0.0, peak), 0.0)  # the equity before the first trade is a peak
    worst = np.zeros(groups)
    worst[group3[starts3]] = np.maximum.reduceat(np.maximum(piece_drop, peak - (base + low)), starts3)
    return np.maximum(worst, 0.0)


def _empty_metrics(groups: int) -> dict[str, np.ndarray]:
    values = {name: np.full(groups, np.nan) for name in METRICS}
    values.update(total_return=np.zeros(groups), max_drawdown=np.zeros(groups), n_trades=np.zeros(groups))
    return values


@dataclass
class Evaluation:
    """The metrics of one signal, its trades and each trade's net return."""

    metrics: dict[str, float]
    trades: Trades
    trade_returns: np.ndarray


def evaluate(ctx: BarContext, trades: Trades, fee: float = 0.0) -> Evaluation:
    """Metrics of all the trades of one signal (see the module docstring for the conventions)."""
    everything = np.arange(len(trades))
    values, trade_log = _grouped(ctx, trades, fee, np.zeros(len(trades), dtype=np.int64), everything, 1)
    metrics = {name: float(values[name][0]) for name in METRICS}
    return Evaluation(metrics, trades, np.expm1(trade_log))


def bar_returns(ctx: BarContext, trades: Trades, fee: float = 0.0) -> np.ndarray:
    """Dense per-bar net returns of a signal (for correlations and plots, not for the metrics)."""
    n = ctx.n
    exposure = np.zeros(n + 1)
    np.add.at(exposure, trades.start + 1, trades.exposure)
    np.add.at(exposure, np.where(trades.is_open, n, trades.end + 1), -trades.exposure)
    held = np.cumsum(exposure)[:n]
    after = np.concatenate([held[1:], held[-1:]]) if n else held
    units = np.abs(after - held)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.expm1(np.log1p(held * ctx.returns) + units * np.log1p(-fee))
