"""Sliding-window moments in O(1) per update (the live pair path), and the rolling mean and
standard deviation of one series in numpy (:func:`rolling_mean_std`).

Sums are kept of values shifted by the first value seen, so that prices near 1e5 do not lose their
digits to cancellation, and are recomputed exactly from the window once per ``window`` updates, so
rounding cannot accumulate.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statarb._typing import Float64Array


class WindowMoments:
    """Means, variances and covariance of ``(u, v)`` over the last ``window`` pairs.

    Examples
    --------
    >>> m = WindowMoments(3)
    >>> for u, v in [(1, 2), (2, 4), (3, 6), (4, 8)]:
    ...     m.push(u, v)
    >>> round(m.slope(), 12), m.full
    (2.0, True)
    """

    __slots__ = ("_pushes", "_su", "_suu", "_suv", "_sv", "_svv", "_u0", "_v0", "_win", "window")

    def __init__(self, window: int) -> None:
        if window < 2:
            raise ValueError(f"window must be at least 2, got {window}")
        self.window = window
        self._win: deque[tuple[float, float]] = deque()
        self._u0 = self._v0 = math.nan
        self._su = self._sv = self._suu = self._svv = self._suv = 0.0
        self._pushes = 0

    def __len__(self) -> int:
        return len(self._win)

    @property
    def full(self) -> bool:
        """True once ``window`` pairs are held."""
        return len(self._win) == self.window

    def push(self, u: float, v: float) -> None:
        """Add a pair, dropping the oldest once the window is full."""
        if math.isnan(self._u0):
            self._u0, self._v0 = u, v
        a, b = u - self._u0, v - self._v0
        self._win.append((a, b))
        self._su += a
        self._sv += b
        self._suu += a * a
        self._svv += b * b
        self._suv += a * b
        if len(self._win) > self.window:
            c, d = self._win.popleft()
            self._su -= c
            self._sv -= d
            self._suu -= c * c
            self._svv -= d * d
            self._suv -= c * d
        self._pushes += 1
        if self._pushes % self.window == 0:
            self._recompute()

    def _recompute(self) -> None:
        self._su = math.fsum(a for a, _ in self._win)
        self._sv = math.fsum(b for _, b in self._win)
        self._suu = math.fsum(a * a for a, _ in self._win)
        self._svv = math.fsum(b * b for _, b in self._win)
        self._suv = math.fsum(a * b for a, b in self._win)

    @property
    def mean_u(self) -> float:
        """Mean of ``u`` over the window."""
        n = len(self._win)
        return self._u0 + self._su / n if n else math.nan

    @property
    def mean_v(self) -> float:
        """Mean of ``v`` over the window."""
        n = len(self._win)
        return self._v0 + self._sv / n if n else math.nan

    def _centred(self) -> tuple[float, float, float]:
        n = len(self._win)
        mu, mv = self._su / n, self._sv / n
        return (
            max(self._suu - n * mu * mu, 0.0),
            max(self._svv - n * mv * mv, 0.0),
            self._suv - n * mu * mv,
        )

    def var_u(self, ddof: int = 1) -> float:
        """Variance of ``u`` (NaN with fewer than ``ddof + 1`` pairs)."""
        n = len(self._win)
        return self._centred()[0] / (n - ddof) if n > ddof else math.nan

    def var_v(self, ddof: int = 1) -> float:
        """Variance of ``v`` (NaN with fewer than ``ddof + 1`` pairs)."""
        n = len(self._win)
        return self._centred()[1] / (n - ddof) if n > ddof else math.nan

    def slope(self) -> float:
        """OLS slope of ``v`` on ``u`` with an intercept (NaN when ``u`` is constant)."""
        if len(self._win) < 2:
            return math.nan
        suu, _, suv = self._centred()
        return suv / suu if suu > 0 else math.nan

    def intercept(self) -> float:
        """OLS intercept of ``v`` on ``u``."""
        return self.mean_v - self.slope() * self.mean_u

    def correlation(self) -> float:
        """Pearson correlation of ``u`` and ``v`` (NaN when either is constant)."""
        if len(self._win) < 2:
            return math.nan
        suu, svv, suv = self._centred()
        den = math.sqrt(suu * svv)
        return max(-1.0, min(1.0, suv / den)) if den > 0 else math.nan

    def residual_var(self, ddof: int = 2) -> float:
        """Variance of the residuals of the OLS of ``v`` on ``u`` (``ddof`` 2: two parameters)."""
        n = len(self._win)
        if n <= ddof:
            return math.nan
        suu, svv, suv = self._centred()
        if suu <= 0:
            return math.nan
        return max(svv - suv * suv / suu, 0.0) / (n - ddof)


def rolling_mean_std(v: Float64Array, window: int, ddof: int) -> tuple[Float64Array, Float64Array]:
    """Rolling mean and standard deviation over the windows ending at each t, in numpy.

    The numpy twin of the compiled ``statarb.analytics._kernels.rolling_mean_std``, with the
    same scheme and the same operations in the same order, so the results are bit-identical:
    the sums are restarted every ``window`` steps around the block's last value ``c`` and
    updated by ``(v[t] - c) - (v[t - window] - c)`` in between; each block is one sequential
    ``cumsum``. NaN before ``window - 1``; a non-positive variance gives 0. For series of up to
    a few hundred thousand values it takes milliseconds, less than starting the compiler's
    runtime in a short process (``statarb pair``).
    """
    import numpy as np

    n, w = len(v), window
    mean = np.full(n, np.nan)
    std = np.full(n, np.nan)
    if n < w:
        return mean, std
    blocks_n = -(-(n - w + 1) // w)
    padded = np.full((blocks_n + 1) * w, np.nan)
    padded[:n] = v
    blocks = padded.reshape(blocks_n + 1, w)
    c = blocks[:-1, -1:]  # v at each block's first t (b * w + w - 1)
    first = blocks[:-1] - c  # the window ending at that t
    d, o = blocks[1:, : w - 1] - c, first[:, : w - 1]  # the value entering, the one leaving
    s = np.cumsum(np.concatenate([first, d - o], axis=1), axis=1)[:, w - 1 :]
    ss = np.cumsum(np.concatenate([first * first, d * d - o * o], axis=1), axis=1)[:, w - 1 :]
    m = s / w
    var = (ss - s * m) / (w - ddof)
    k = n - w + 1
    mean[w - 1 :] = (m + c).ravel()[:k]
    std[w - 1 :] = np.sqrt(np.maximum(var, 0.0)).ravel()[:k]
    return mean, std
