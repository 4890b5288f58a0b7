"""Trading strategies: vectorised functions from bars to a signal per bar.

A strategy returns ``(signal, confidence)``: ``signal`` is int8 in {-1, 0, 1}
(short, flat, long), decided at the close of each bar from that bar and the
ones before it only; ``confidence`` (float32 in [0, 1]) is a heuristic
strength of the decision. Warm-up bars (indicator not yet defined) are flat.
Stateful rules ("long until the price is back to the middle band") are
computed with "index of the last bar where ..." arrays, never a per-bar loop.

An optional ``stop_loss`` (percent) flattens a position whose close has moved
``stop_loss`` % against the close of the bar that opened it; the strategy stays
flat until its rule changes its signal again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import ConfigError
from .bars import Bars
from .families import Family, Param, format_value
from .rolling import last_index, rolling_max, rolling_mean, rolling_min, rolling_std, shift, wilder_rsi

Signal = tuple[np.ndarray, np.ndarray]


def _finish(long: np.ndarray, short: np.ndarray, confidence: np.ndarray) -> Signal:
    signal = long.astype(np.int8) - short.astype(np.int8)
    confidence = np.nan_to_num(np.clip(confidence, 0.0, 1.0), nan=0.0).astype(np.float32)
    return signal, confidence


def ma_crossover(bars: Bars, fast: int, slow: int) -> Signal:
    """Long while the fast moving average is above the slow one, short while below."""
    close = bars.close
    spread = rolling_mean(close, fast) / rolling_mean(close, slow) - 1.0
    with np.errstate(invalid="ignore"):
        return _finish(spread > 0, spread < 0, np.abs(spread) / 0.005)


def rsi_momentum(bars: Bars, period: int, lower: float, upper: float) -> Signal:
    """Long once RSI rises above ``upper`` until it falls below 50; short below ``lower`` until above 50."""
    rsi = wilder_rsi(bars.close, period)
    with np.errstate(invalid="ignore"):
        went_up, went_down = last_index(rsi > upper), last_index(rsi < lower)
        below_mid, above_mid = last_index(rsi < 50), last_index(rsi > 50)
    long = (went_up > went_down) & (went_up > below_mid)
    short = (went_down > went_up) & (went_down > above_mid)
    return _finish(long, short, np.abs(rsi - 50.0) / 50.0)


def bollinger_reversion(bars: Bars, window: int, num_std: float) -> Signal:
    """Long below the lower band until the close is back at the middle; short above the upper band."""
    close = bars.close
    middle = rolling_mean(close, window)
    width = num_std * rolling_std(close, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        below, above = last_index(close < middle - width), last_index(close > middle + width)
        back_up, back_down = last_index(close >= middle), last_index(close <= middle)
        confidence = np.abs(close - middle) / width
    return _finish(below > back_up, above > back_down, confidence)


def breakout(bars: Bars, window: int) -> Signal:
    """Long after a close above the previous ``window``-bar high; short after a close below the low."""
    highest = shift(rolling_max(bars.high, window))
    lowest = shift(rolling_min(bars.low, window))
    with np.errstate(invalid="ignore", divide="ignore"):
        up, down = last_index(bars.close > highest), last_index(bars.close < lowest)
        confidence = np.abs(bars.close - (highest + lowest) / 2.0) / (highest - lowest)
    return _finish(up > down, down > up, confidence)


def apply_stop_loss(signal: np.ndarray, confidence: np.ndarray, close: np.ndarray, percent: float) -> Signal:
    """Flatten each run of the signal from the first close ``percent`` % against its opening close."""
    n = len(signal)
    bars = np.arange(n)
    starts = np.flatnonzero(np.diff(signal, prepend=np.int8(0)) != 0)
    run_start = np.zeros(n, dtype=np.int64)
    run_start[starts] = starts
    run_start = np.maximum.accumulate(run_start)
    adverse = (signal != 0) & (signal * (close / close[run_start] - 1.0) <= -percent / 100.0)
    last_hit = np.maximum.accumulate(np.where(adverse, bars, -1))
    stopped = (signal != 0) & (last_hit >= run_start)
    return np.where(stopped, 0, signal).astype(np.int8), np.where(stopped, 0.0, confidence).astype(np.float32)


def _check_ma(params: dict[str, Any], where: str) -> None:
    if params["fast"] >= params["slow"]:
        raise ConfigError(
            f"{where}: ma_crossover needs fast < slow, got fast={params['fast']} slow={params['slow']}"
        )


STRATEGIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "ma_crossover",
            "ma",
            (Param("fast", 10, True, 1), Param("slow", 50, True, 2)),
            ma_crossover,
            _check_ma,
            description="moving-average crossover",
        ),
        Family(
            "rsi_momentum",
            "rsi",
            (
                Param("period", 14, True, 2),
                Param("lower", 30, True, 0, True, 50),
                Param("upper", 70, True, 50, True, 100),
            ),
            rsi_momentum,
            description="RSI momentum",
        ),
        Family(
            "bollinger_reversion",
            "bb",
            (Param("window", 20, True, 2), Param("num_std", 2.0, False, 0, True)),
            bollinger_reversion,
            description="Bollinger-band mean reversion",
        ),
        Family(
            "breakout",
            "bo",
            (Param("window", 20, True, 1),),
            breakout,
            description="channel breakout",
        ),
    )
}


@dataclass(frozen=True)
class Strategy:
    """A concrete strategy variant; the engine stores it as the pipeline's fitted step.

    ``signals(bars)`` recomputes its signal on any bars (new data included).
    """

    family: str
    params: dict[str, Any] = field(default_factory=dict)
    stop_loss: float | None = None

    @property
    def name(self) -> str:
        """``ma_5_20``, ``bb_20_2.0_sl_0.5``: the variant's readable name."""
        base = STRATEGIES[self.family].variant_name(self.params)
        return base if self.stop_loss is None else f"{base}_sl_{format_value(self.stop_loss)}"

    def signals(self, bars: Bars) -> Signal:
        """(signal int8, confidence float32), one per bar."""
        signal, confidence = STRATEGIES[self.family].compute(bars, **self.params)
        if self.stop_loss is not None:
            signal, confidence = apply_stop_loss(signal, confidence, bars.close, self.stop_loss)
        return signal, confidence

    def to_config(self) -> dict[str, Any]:
        return {"class": self.family, "params": dict(self.params), "stop_loss": self.stop_loss}
