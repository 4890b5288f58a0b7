"""Market-regime classifiers: vectorised functions from bars to a regime label per bar.

A classifier returns ``(codes, confidence)``: ``codes`` is int8, the index of
the bar's label in the family's ``labels`` (``-1`` during the warm-up, shown as
``warmup``), decided from the bar and the ones before it only; ``confidence``
(float32 in [0, 1]) says how far the measure is from the nearest threshold.

- ``volatility``: standard deviation of log returns over ``fast`` bars divided
  by the same over ``slow`` bars; ``low`` below 1/``threshold``, ``high`` above
  ``threshold``, else ``normal``.
- ``trend``: fast over slow moving average minus 1; ``up`` above ``band``,
  ``down`` below -``band``, else ``flat``.
- ``momentum``: return over the last ``window`` bars; ``bull`` above
  ``threshold``, ``bear`` below -``threshold``, else ``neutral``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import ConfigError
from .bars import Bars
from .families import Family, Param
from .rolling import rolling_mean, rolling_std, shift

WARMUP = "warmup"
Regimes = tuple[np.ndarray, np.ndarray]


def _three_way(measure: np.ndarray, low: float, high: float, confidence: np.ndarray) -> Regimes:
    """Codes 0 (below ``low``), 1 (between), 2 (above ``high``); -1 where ``measure`` is NaN."""
    codes = np.full(len(measure), -1, dtype=np.int8)
    valid = np.isfinite(measure)
    codes[valid] = 1
    codes[valid & (measure < low)] = 0
    codes[valid & (measure > high)] = 2
    confidence = np.where(valid, np.clip(np.nan_to_num(confidence, nan=0.0), 0.0, 1.0), 0.0)
    return codes, confidence.astype(np.float32)


def volatility(bars: Bars, fast: int, slow: int, threshold: float) -> Regimes:
    log_returns = np.diff(np.log(bars.close))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.concatenate([[np.nan], rolling_std(log_returns, fast) / rolling_std(log_returns, slow)])
        ratio[~np.isfinite(ratio)] = np.nan
        confidence = np.abs(np.log(ratio)) / np.log(threshold)
    return _three_way(ratio, 1.0 / threshold, threshold, confidence)


def trend(bars: Bars, fast: int, slow: int, band: float) -> Regimes:
    spread = rolling_mean(bars.close, fast) / rolling_mean(bars.close, slow) - 1.0
    return _three_way(spread, -band, band, np.abs(spread) / (2.0 * band if band > 0 else 1e-3))


def momentum(bars: Bars, window: int, threshold: float) -> Regimes:
    change = bars.close / shift(bars.close, window) - 1.0
    return _three_way(change, -threshold, threshold, np.abs(change) / (2.0 * threshold))


def _check_fast_slow(params: dict[str, Any], where: str) -> None:
    if params["fast"] >= params["slow"]:
        raise ConfigError(f"{where}: needs fast < slow, got fast={params['fast']} slow={params['slow']}")


CLASSIFIERS: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "volatility",
            "vol",
            (
                Param("fast", 30, True, 2),
                Param("slow", 390, True, 3),
                Param("threshold", 1.25, False, 1, True),
            ),
            volatility,
            _check_fast_slow,
            labels=("low", "normal", "high"),
            description="volatility regime",
        ),
        Family(
            "trend",
            "trend",
            (Param("fast", 50, True, 1), Param("slow", 200, True, 2), Param("band", 0.0005, False, 0)),
            trend,
            _check_fast_slow,
            labels=("down", "flat", "up"),
            description="trend regime",
        ),
        Family(
            "momentum",
            "mom",
            (Param("window", 60, True, 1), Param("threshold", 0.001, False, 0, True)),
            momentum,
            labels=("bear", "neutral", "bull"),
            description="momentum regime",
        ),
    )
}


@dataclass(frozen=True)
class Classifier:
    """A concrete classifier variant (``vol_30_390_1.25``)."""

    family: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return CLASSIFIERS[self.family].variant_name(self.params)

    @property
    def labels(self) -> tuple[str, ...]:
        return CLASSIFIERS[self.family].labels

    def classify(self, bars: Bars) -> Regimes:
        """(codes int8, confidence float32), one per bar; code -1 is the warm-up."""
        return CLASSIFIERS[self.family].compute(bars, **self.params)

    def to_config(self) -> dict[str, Any]:
        return {"class": self.family, "params": dict(self.params)}
