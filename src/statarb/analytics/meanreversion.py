"""Speed of mean reversion: half-life (AR(1)/OU regression) and the Hurst exponent."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from statarb.analytics._validate import as_float_array, check_finite, check_min_length
from statarb.errors import InputError


@dataclass(frozen=True)
class HalfLifeResult:
    """Half-life from ``Δs_t = a + b * s_{t-1} + e_t`` (Ornstein-Uhlenbeck in discrete time).

    ``half_life`` is in bars: ``-ln 2 / ln(1 + b)``; infinite when ``b >= 0`` (no reversion).
    ``theta`` is the reversion speed per bar, ``mu`` the long-run mean, ``sigma`` the OU
    diffusion per bar.
    """

    half_life: float
    b: float
    a: float
    theta: float
    mu: float
    sigma: float
    n: int

    @property
    def mean_reverting(self) -> bool:
        """True when the AR(1) coefficient implies reversion."""
        return math.isfinite(self.half_life)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields (infinite half-life as None)."""
        d = dict(self.__dict__)
        for k, v in d.items():
            if isinstance(v, float) and not math.isfinite(v):
                d[k] = None
        return d

    def summary(self) -> str:
        """One line of text."""
        if not self.mean_reverting:
            return f"no mean reversion (b={self.b:.4g} >= 0)"
        return f"half-life {self.half_life:.1f} bars (theta {self.theta:.4g}/bar, mu {self.mu:.6g})"


def half_life(spread: Any) -> HalfLifeResult:
    """Half-life of mean reversion of a spread, in bars.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125])
    >>> round(half_life(s).half_life, 6)
    1.0
    """
    s = as_float_array(spread, "spread")
    check_finite(s, "spread")
    check_min_length(s, 4, "spread", "half-life regression")
    lag = s[:-1]
    ds = np.diff(s)
    dl = lag - lag.mean()
    sxx = float(dl @ dl)
    if sxx == 0:
        raise InputError("spread is constant; half-life is undefined")
    b = float(dl @ (ds - ds.mean())) / sxx
    a = float(ds.mean() - b * lag.mean())
    resid = ds - (a + b * lag)
    n = len(ds)
    sd = float(np.sqrt(resid @ resid / max(n - 2, 1)))
    phi = 1.0 + b
    if b >= 0 or phi <= 0:
        hl = math.inf if b >= 0 else math.nan
        return HalfLifeResult(hl, b, a, math.nan, math.nan, math.nan, n + 1)
    theta = -math.log(phi)
    mu = -a / b
    sigma = sd * math.sqrt(2 * theta / (1 - phi * phi))
    return HalfLifeResult(math.log(2) / theta, b, a, theta, mu, sigma, n + 1)


@dataclass(frozen=True)
class HurstResult:
    """Hurst exponent: ~0.5 random walk, < 0.5 mean reverting, > 0.5 trending."""

    hurst: float
    max_lag: int
    n: int

    @property
    def verdict(self) -> str:
        """Plain words."""
        if self.hurst < 0.45:
            return "mean reverting"
        if self.hurst > 0.55:
            return "trending"
        return "random walk"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields."""
        return {"hurst": self.hurst, "max_lag": self.max_lag, "n": self.n, "verdict": self.verdict}

    def summary(self) -> str:
        """One line of text."""
        return f"Hurst {self.hurst:.3f} ({self.verdict})"


def hurst(series: Any, *, max_lag: int = 100) -> HurstResult:
    """Hurst exponent from the scaling of lagged differences.

    ``std(x[t+k] - x[t])`` grows like ``k ** H``; H is the slope of ``log std`` on ``log k`` over
    lags ``2..max_lag`` (a least-squares fit).
    """
    x = as_float_array(series, "series")
    check_finite(x, "series")
    max_lag = min(max_lag, len(x) // 2)
    if max_lag < 4:
        raise InputError(f"series of {len(x)} points is too short for a Hurst estimate (need >= 8)")
    lags = np.arange(2, max_lag + 1)
    tau = np.array([np.std(x[k:] - x[:-k]) for k in lags])
    if (tau <= 0).any():
        raise InputError("series has no variation at some lag; Hurst is undefined")
    slope = float(np.polyfit(np.log(lags), np.log(tau), 1)[0])
    return HurstResult(slope, int(max_lag), len(x))


__all__ = ["HalfLifeResult", "HurstResult", "half_life", "hurst"]
