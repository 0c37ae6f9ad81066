"""Spread and z-scores (rolling and exponentially weighted), batch and incremental.

Every z-score at ``t`` uses values up to and including ``t`` only: no look-ahead.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from statarb._typing import Float64Array
from statarb.analytics._validate import as_float_array, check_window
from statarb.errors import InputError


def spread(y: Any, x: Any, beta: Any, alpha: Any = 0.0) -> Float64Array:
    """``y - (beta * x + alpha)``; ``beta``/``alpha`` may be scalars or aligned arrays."""
    ya, xa = as_float_array(y, "y"), as_float_array(x, "x")
    if len(ya) != len(xa):
        raise InputError(f"y and x must have the same length, got {len(ya)} and {len(xa)}")
    b = np.asarray(beta.to_numpy() if hasattr(beta, "to_numpy") else beta, dtype=np.float64)
    a = np.asarray(alpha.to_numpy() if hasattr(alpha, "to_numpy") else alpha, dtype=np.float64)
    return ya - (b * xa + a)


def _values(values: Any) -> Float64Array:
    v = as_float_array(values, "values")
    return v


#: series up to this length take the numpy twin of the compiled kernel (bit-identical, a few ms):
#: a short command such as ``statarb pair`` then does not pay the compiler runtime's start-up
NUMPY_MAX = 250_000


def _rolling_mean_std(v: Float64Array, window: int, ddof: int) -> Any:
    if len(v) <= NUMPY_MAX:
        from statarb.analytics._window import rolling_mean_std
    else:
        from statarb.analytics._kernels import rolling_mean_std  # compiled
    return rolling_mean_std(v, window, ddof)


def zscore(values: Any, *, window: int, ddof: int = 1) -> Float64Array:
    """Rolling z-score over the ``window`` values ending at ``t`` (inclusive).

    Equal to ``(s - s.rolling(window).mean()) / s.rolling(window).std(ddof)`` in pandas (sample
    standard deviation, ``ddof=1``, by default); NaN before index ``window - 1``, where a value
    is NaN or where the window is constant. Leading NaNs (a warm-up) are skipped by the compiled
    kernel (or its numpy twin, up to :data:`NUMPY_MAX` values); only NaNs after the first finite
    value take the pandas path.
    """
    v = _values(values)
    window = check_window(window, len(v))
    finite = np.isfinite(v)
    first = int(np.argmax(finite)) if finite.any() else len(v)
    mean = np.full(len(v), np.nan)
    std = np.full(len(v), np.nan)
    if finite[first:].all():
        if len(v) - first >= window:
            mean[first:], std[first:] = _rolling_mean_std(v[first:], window, ddof)
    else:
        # NaN anywhere in a window makes that window's z NaN, as in pandas
        import pandas as pd

        s = pd.Series(v)
        mean = s.rolling(window).mean().to_numpy()
        std = s.rolling(window).std(ddof=ddof).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (v - mean) / std
    z[~np.isfinite(z)] = np.nan
    return z


def _ewm_alpha(halflife: float) -> float:
    if not halflife > 0:
        raise InputError(f"halflife must be positive, got {halflife!r}")
    return 1.0 - math.exp(-math.log(2.0) / halflife)


def ewm_zscore(values: Any, *, halflife: float) -> Float64Array:
    """Exponentially weighted z-score.

    Mean and variance follow pandas ``ewm(halflife=h, adjust=False)``: ``mean`` and
    ``var(bias=True)``, the biased (population) variance, because an exponentially weighted
    window has no fixed sample size to correct for; the rolling :func:`zscore` uses the sample
    standard deviation (``ddof=1``). z is NaN at the first value (zero variance).
    """
    v = _values(values)
    a = _ewm_alpha(halflife)
    out = np.full(len(v), np.nan)
    z = EwmZScore(halflife)
    z._a = a
    for i, val in enumerate(v.tolist()):
        out[i] = z.update(val)
    return out


class RollingZScore:
    """Incremental twin of :func:`zscore`."""

    def __init__(self, window: int, ddof: int = 1) -> None:
        if window < 2:
            raise InputError(f"window must be at least 2, got {window}")
        self.window = window
        self.ddof = ddof
        self._buf: deque[float] = deque(maxlen=window)
        self.value = float("nan")

    @property
    def ready(self) -> bool:
        """True once the window is full."""
        return len(self._buf) == self.window

    def update(self, v: float) -> float:
        """Add a value and return the z-score at it (NaN until the window is full)."""
        self._buf.append(float(v))
        if not self.ready:
            self.value = float("nan")
            return self.value
        arr = np.fromiter(self._buf, np.float64, self.window)
        m = arr.mean()
        sd = math.sqrt(((arr - m) ** 2).sum() / (self.window - self.ddof))
        self.value = (v - m) / sd if sd > 0 else float("nan")
        return self.value


class EwmZScore:
    """Incremental twin of :func:`ewm_zscore`."""

    def __init__(self, halflife: float) -> None:
        self._a = _ewm_alpha(halflife)
        self._mean: float | None = None
        self._var = 0.0
        self.count = 0
        self.value = float("nan")

    @property
    def ready(self) -> bool:
        """True after the first two values."""
        return self.count >= 2

    def update(self, v: float) -> float:
        """Add a value; return its z-score against the weighted mean and variance including it."""
        self.count += 1
        if self._mean is None:
            self._mean = float(v)
            self._var = 0.0
        else:
            d = v - self._mean
            self._mean += self._a * d
            self._var = (1.0 - self._a) * (self._var + self._a * d * d)
        sd = math.sqrt(self._var)
        self.value = (v - self._mean) / sd if sd > 0 else float("nan")
        return self.value


class RollingOLS:
    """Incremental twin of the rolling OLS hedge ratio: ``update(y, x) -> (beta, alpha)``."""

    def __init__(self, window: int) -> None:
        if window < 2:
            raise InputError(f"window must be at least 2, got {window}")
        self.window = window
        self._x: deque[float] = deque(maxlen=window)
        self._y: deque[float] = deque(maxlen=window)
        self.value: tuple[float, float] = (float("nan"), float("nan"))

    @property
    def ready(self) -> bool:
        """True once the window is full."""
        return len(self._x) == self.window

    def update(self, y: float, x: float) -> tuple[float, float]:
        """Add one pair (``y`` the leg to hedge, ``x`` the hedge leg, as in every batch function);
        the fit over the last ``window`` pairs (NaN until full)."""
        self._x.append(float(x))
        self._y.append(float(y))
        if not self.ready:
            return self.value
        xa = np.fromiter(self._x, np.float64, self.window)
        ya = np.fromiter(self._y, np.float64, self.window)
        dx = xa - xa.mean()
        sxx = float(dx @ dx)
        if sxx <= 0:
            self.value = (float("nan"), float("nan"))
        else:
            b = float(dx @ (ya - ya.mean())) / sxx
            self.value = (b, float(ya.mean() - b * xa.mean()))
        return self.value


__all__ = ["EwmZScore", "RollingOLS", "RollingZScore", "ewm_zscore", "spread", "zscore"]
