"""Breakdown detection for a live pair: detectors and a health state with hysteresis.

A pair's relationship breaks in two ways that matter to a book: the hedge ratio jumps (the spread
shifts to a new level) or the spread stops reverting (it becomes a random walk). Each detector
below reads only data up to the bar it is given.

- :class:`Cusum`: Page's CUSUM of the spread's standardised AR(1) residuals, two-sided for level
  shifts, and signed by the side of the mean for a loss of reversion (a random walk's residuals
  under the fitted AR(1) lean away from the mean).
- the other indicators (rolling Engle-Granger p-value, hedge-ratio drift, half-life blow-out,
  return correlation) are computed by :class:`~statarb.analytics.tracker.PairTracker`; this module
  turns them into one state, ``holding``, ``weakening`` or ``broken``, with hysteresis.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

Health = Literal["warming", "holding", "weakening", "broken"]
HEALTH_LEVELS: tuple[Health, ...] = ("holding", "weakening", "broken")


class Cusum:
    """Page's CUSUM statistics of standardised residuals, in O(1) per update.

    ``update(g, side)`` takes a residual ``g`` in standard deviations and the sign of the spread's
    deviation from its mean at the previous bar. It keeps three one-sided sums with reference
    ``k``: upward and downward level shifts (:attr:`value`, the larger of the two), and residuals
    leaning away from the mean, a loss of mean reversion (:attr:`reversion`, with the smaller
    reference ``k_rev``). Small-sample AR(1) fits overstate reversion a little, so the
    reversion sum drifts slowly even while the pair holds: its thresholds are higher.
    """

    def __init__(self, *, k: float = 0.5, k_rev: float = 0.25) -> None:
        self.k, self.k_rev = k, k_rev
        self.up = self.down = self.rev = 0.0

    def update(self, g: float, side: float) -> float:
        """Absorb one standardised residual; return :attr:`value`."""
        if math.isfinite(g):
            g = max(-50.0, min(50.0, g))
            self.up = max(0.0, self.up + g - self.k)
            self.down = max(0.0, self.down - g - self.k)
            self.rev = max(0.0, self.rev + g * side - self.k_rev)
        return self.value

    def reset(self) -> None:
        """Start again from zero (after the pair is re-fitted)."""
        self.up = self.down = self.rev = 0.0

    @property
    def value(self) -> float:
        """The level-shift statistic: the larger of the upward and downward sums."""
        return max(self.up, self.down)

    @property
    def reversion(self) -> float:
        """The loss-of-reversion statistic."""
        return self.rev


@dataclass(frozen=True)
class HealthThresholds:
    """Levels at which an indicator makes a pair ``weakening`` and ``broken``.

    Attributes
    ----------
    coint_pvalue
        Rolling Engle-Granger p-value above which the pair weakens / breaks. On a window of a
        few hundred bars the test has little power, so by default this only weakens a pair.
    cusum
        Level-shift CUSUM (standardised units) for weakening / broken.
    reversion
        Loss-of-reversion CUSUM for weakening / broken.
    excursion
        Absolute distance of the spread from the anchored fit (the hedge fitted on the long
        window while the pair held), in that fit's residual standard deviations: a spread that
        stops reverting wanders away from it like a random walk.
    drift
        Absolute hedge-ratio drift over ``drift_bars``, in sigmas of its own history.
    half_life_ratio
        Current half-life over its history's typical value. Short-window half-lives are noisy,
        so by default this only weakens a pair.
    correlation
        Return correlation below which the pair weakens / breaks.
    confirm
        Bars an escalation must persist before the state moves up.
    release
        Bars the indicators must stay below a level before the state moves down.
    """

    coint_pvalue: tuple[float, float] = (0.5, math.inf)
    cusum: tuple[float, float] = (10.0, 14.0)
    reversion: tuple[float, float] = (22.0, 32.0)
    excursion: tuple[float, float] = (4.5, 6.0)
    drift: tuple[float, float] = (5.5, 8.0)
    half_life_ratio: tuple[float, float] = (8.0, math.inf)
    correlation: tuple[float, float] = (0.2, 0.0)
    confirm: int = 2
    release: int = 120

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-friendly)."""
        return asdict(self)


def _level_high(value: float | None, levels: tuple[float, float]) -> int:
    if value is None or not math.isfinite(value):
        return 0
    return 2 if value >= levels[1] else 1 if value >= levels[0] else 0


def _level_low(value: float | None, levels: tuple[float, float]) -> int:
    if value is None or not math.isfinite(value):
        return 0
    return 2 if value <= levels[1] else 1 if value <= levels[0] else 0


def indicator_levels(
    thresholds: HealthThresholds,
    *,
    coint_pvalue: float | None,
    cusum: float | None,
    reversion: float | None,
    excursion: float | None,
    drift: float | None,
    half_life_ratio: float | None,
    correlation: float | None,
) -> dict[str, int]:
    """Level (0 holding, 1 weakening, 2 broken) of each indicator."""
    t = thresholds
    return {
        "coint_pvalue": _level_high(coint_pvalue, t.coint_pvalue),
        "cusum": _level_high(cusum, t.cusum),
        "reversion": _level_high(reversion, t.reversion),
        "excursion": _level_high(None if excursion is None else abs(excursion), t.excursion),
        "drift": _level_high(None if drift is None else abs(drift), t.drift),
        "half_life_ratio": _level_high(half_life_ratio, t.half_life_ratio),
        "correlation": _level_low(correlation, t.correlation),
    }


class HealthMonitor:
    """The health state of one pair, from its indicators, with hysteresis.

    The state rises to a level once the indicators have stayed at or above it for ``confirm``
    bars, and falls once they have stayed below it for ``release`` bars. ``reasons`` names the
    indicators at the state's level.
    """

    def __init__(self, thresholds: HealthThresholds | None = None) -> None:
        self.thresholds = thresholds or HealthThresholds()
        self.level = 0
        self._above = 0
        self._below = 0
        self.reasons: tuple[str, ...] = ()
        self.alarms = 0

    @property
    def state(self) -> Health:
        """``holding``, ``weakening`` or ``broken``."""
        return HEALTH_LEVELS[self.level]

    def update(self, **indicators: float | None) -> Health:
        """Absorb this bar's indicators (see :func:`indicator_levels`); return the state."""
        levels = indicator_levels(self.thresholds, **indicators)
        raw = max(levels.values())
        t = self.thresholds
        self._above = self._above + 1 if raw > self.level else 0
        self._below = self._below + 1 if raw < self.level else 0
        if self._above >= t.confirm:
            self.level, self._above = raw, 0
            self.alarms += self.level == 2
        elif self._below >= t.release:
            self.level, self._below = raw, 0
        if self.level:
            self.reasons = tuple(k for k, v in levels.items() if v >= self.level) or self.reasons
        else:
            self.reasons = ()
        return self.state


__all__ = [
    "HEALTH_LEVELS",
    "Cusum",
    "Health",
    "HealthMonitor",
    "HealthThresholds",
    "indicator_levels",
]
