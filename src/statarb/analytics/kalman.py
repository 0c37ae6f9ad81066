"""Dynamic hedge ratio by Kalman filter, in batch (compiled) and incremental (live) form.

Model: state ``[beta_t, alpha_t]`` follows a random walk with transition covariance
``Q = delta / (1 - delta) * I``; the observation is ``y_t = beta_t * x_t + alpha_t + e_t`` with
``Var(e_t) = obs_var``. The filter starts from ``[beta0, alpha0]`` with covariance ``p0 * I``.

The default ``obs_var="auto"`` is scale-aware and causal. The first ``warmup`` bars (default
:data:`DEFAULT_WARMUP`) give the initial state, its covariance and the observation variance by
OLS, and the units: x is divided by its root mean square, y by the fit's residual standard
deviation. The filter runs on the scaled legs after them, so ``delta`` is a signal-to-noise ratio
that means the same on any price level, and the warm-up bars are NaN in every output (kept out
of charts, tests and signals). Multiplying ``y`` by ``c`` multiplies beta by ``c``; multiplying
both legs by ``c`` leaves it unchanged.

At each ``t`` the **prior** state (estimated from data before ``y_t``) forecasts ``y_t``; the
forecast error and its variance give a Kalman z-score. Signals must use the prior (``beta``,
``alpha``), never the posterior that has already absorbed ``y_t``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from statarb._typing import Float64Array
from statarb.analytics._validate import pair_arrays
from statarb.errors import InputError

#: Transition parameter shared by every Kalman path (scaled units with ``obs_var="auto"``).
DEFAULT_DELTA = 1e-4
DEFAULT_P0 = 1.0
#: Warm-up bars of ``obs_var="auto"`` (the backtest uses ``hedge_window`` when it is set).
DEFAULT_WARMUP = 60


@dataclass(frozen=True)
class KalmanResult:
    """Output of :func:`kalman_hedge` (arrays aligned with the input; ``observed`` is y)."""

    beta: Float64Array
    alpha: Float64Array
    forecast_error: Float64Array = field(repr=False)
    forecast_var: Float64Array = field(repr=False)
    beta_last: float = float("nan")
    alpha_last: float = float("nan")
    delta: float = DEFAULT_DELTA
    obs_var: float = 1.0
    observed: Float64Array = field(repr=False, default_factory=lambda: np.empty(0))
    warmup: int = 0

    @property
    def forecast(self) -> Float64Array:
        """One-step forecast of y from the prior: ``beta * x + alpha``."""
        return self.observed - self.forecast_error

    @property
    def beta_post(self) -> Float64Array:
        """Posterior beta after each observation (the next bar's prior)."""
        return np.r_[self.beta[1:], self.beta_last]

    @property
    def alpha_post(self) -> Float64Array:
        """Posterior alpha after each observation (the next bar's prior)."""
        return np.r_[self.alpha[1:], self.alpha_last]

    @property
    def zscore(self) -> Float64Array:
        """Standardised one-step forecast error ``e_t / sqrt(Q_t)``."""
        return self.forecast_error / np.sqrt(self.forecast_var)

    def to_dict(self) -> dict[str, Any]:
        """Last values (JSON-safe)."""
        if not len(self.beta):
            return {"n": 0}
        return {
            "n": len(self.beta),
            "beta": float(self.beta_last),
            "alpha": float(self.alpha_last),
            "last_forecast_error": float(self.forecast_error[-1]),
            "last_zscore": float(self.zscore[-1]),
            "delta": self.delta,
            "obs_var": self.obs_var,
            "warmup": self.warmup,
        }


@dataclass(frozen=True, slots=True)
class KalmanStep:
    """One incremental update: prior state, forecast, error, variance and posterior state."""

    beta: float
    alpha: float
    forecast: float
    error: float
    variance: float
    beta_post: float
    alpha_post: float

    @property
    def zscore(self) -> float:
        """``error / sqrt(variance)``."""
        return self.error / math.sqrt(self.variance)


def _q(delta: float) -> float:
    if not 0.0 < delta < 1.0:
        raise InputError(f"delta must be in (0, 1), got {delta!r} (typical: 1e-5 .. 1e-3)")
    return delta / (1.0 - delta)


@dataclass(frozen=True, slots=True)
class _Units:
    """Warm-up scales: the filter runs on ``y / sy`` and ``x / sx``."""

    sx: float
    sy: float
    r: float  # observation variance in scaled units
    beta: float  # warm-up OLS fit in scaled units (the initial state)
    alpha: float
    cov: tuple[float, float, float]  # its covariance (beta, cross, alpha), the initial one

    def to_original(self, b: Any, a: Any) -> tuple[Any, Any]:
        return self.sy / self.sx * b, self.sy * a

    def to_scaled(self, beta: float, alpha: float) -> tuple[float, float]:
        return beta * self.sx / self.sy, alpha / self.sy


def _warmup_units(y: Float64Array, x: Float64Array) -> _Units:
    """Scales and OLS fit of the warm-up bars (nothing after them is read).

    ``x`` is divided by its root mean square and ``y`` by the warm-up fit's residual standard
    deviation, so the scaled observation noise is 1 and ``delta`` is a signal-to-noise ratio:
    per bar, each state's random walk adds ``delta`` times the observation variance to the
    forecast variance.
    """
    m = len(y)
    if m < 3:
        raise InputError(f"obs_var='auto' needs a warm-up of at least 3 bars, got {m}")
    dx = x - x.mean()
    sxx = float(dx @ dx)
    if not sxx > 0:
        raise InputError(f"x is constant over the {m}-bar Kalman warm-up; a hedge needs variation")
    b = float(dx @ (y - y.mean())) / sxx
    a = float(y.mean() - b * x.mean())
    resid = y - (b * x + a)
    sd = math.sqrt(float(resid @ resid) / (m - 2))
    sy = sd if sd > 0 else (float(y.std()) or abs(float(y.mean())) or 1.0)
    sx = math.sqrt(float(x @ x) / m)
    r = (sd / sy) ** 2 if sd > 0 else 1e-12
    sxx_s, mean_s = sxx / (sx * sx), float(x.mean()) / sx
    cov = (r / sxx_s, -mean_s * r / sxx_s, r * (1.0 / m + mean_s * mean_s / sxx_s))
    return _Units(sx, sy, r, b * sx / sy, a / sy, cov)


def _check(delta: float, obs_var: Any, p0: float, warmup: int) -> float:
    q = _q(delta)
    if obs_var != "auto" and not (isinstance(obs_var, int | float) and obs_var > 0):
        raise InputError(f"obs_var must be 'auto' or a positive number, got {obs_var!r}")
    if not p0 > 0:
        raise InputError(f"p0 must be positive, got {p0!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise InputError(f"warmup must be a non-negative integer of bars, got {warmup!r}")
    if obs_var == "auto" and warmup < 3:
        raise InputError(f"obs_var='auto' needs a warm-up of at least 3 bars, got {warmup}")
    return q


def kalman_hedge(
    y: Any,
    x: Any,
    *,
    delta: float = DEFAULT_DELTA,
    obs_var: float | Literal["auto"] = "auto",
    beta0: float | None = None,
    alpha0: float | None = None,
    p0: float = DEFAULT_P0,
    warmup: int = DEFAULT_WARMUP,
    transform: Literal["price", "log"] = "price",
) -> KalmanResult:
    """Kalman-filter hedge ratio over a whole history (compiled scalar loop).

    Parameters
    ----------
    y, x
        Aligned prices of the leg to hedge and the hedge leg.
    delta
        Transition parameter: ``Q = delta / (1 - delta) * I``. Larger adapts faster.
    obs_var
        ``"auto"`` (default, scale-aware): the first ``warmup`` bars are a warm-up. An OLS fit
        on them gives the initial state, its covariance and the observation variance and sets
        the units (x over its root mean square, y over the residual standard deviation); the
        filter runs on the scaled legs from bar ``warmup`` on, ``delta`` then being a
        signal-to-noise ratio; results are mapped back to price units. The warm-up bars are NaN in
        every output, and no value uses data after the bar it feeds. A number is the
        observation variance in price units: the filter then runs on raw prices from bar 0
        (``delta`` and ``p0`` in price units, no warm-up).
    beta0, alpha0
        Initial state (default: the warm-up OLS fit with ``"auto"``, else 0).
    p0
        Initial state covariance: ``p0`` times the warm-up OLS fit's covariance with
        ``"auto"`` (the filter starts from what the warm-up taught it, so it equals recursive
        least squares when ``delta`` is tiny); ``p0 * I`` with a fixed ``obs_var``.
    warmup
        Warm-up bars of ``obs_var="auto"``.
    transform
        ``"price"`` or ``"log"``.

    Returns
    -------
    KalmanResult
        ``beta``/``alpha`` are the prior (pre-observation) estimates at each ``t``.
    """
    ya, xa = pair_arrays(y, x, min_length=1, transform=transform)
    q = _check(delta, obs_var, p0, warmup)
    from statarb.analytics._kernels import kalman_filter

    if obs_var != "auto":
        b0 = 0.0 if beta0 is None else float(beta0)
        a0 = 0.0 if alpha0 is None else float(alpha0)
        p = float(p0)
        b, a, e, v, b_last, a_last = kalman_filter(ya, xa, q, float(obs_var), b0, a0, p, 0.0, p)
        return KalmanResult(b, a, e, v, float(b_last), float(a_last), delta, float(obs_var), ya, 0)
    n = len(ya)
    nan = np.full(n, np.nan)
    if n <= warmup:
        return KalmanResult(nan, nan.copy(), nan.copy(), nan.copy(), math.nan, math.nan,
                            delta, math.nan, ya, warmup)  # fmt: skip
    u = _warmup_units(ya[:warmup], xa[:warmup])
    b0s, a0s = (u.beta, u.alpha) if beta0 is None else u.to_scaled(beta0, alpha0 or 0.0)
    ys, xs = ya[warmup:] / u.sy, xa[warmup:] / u.sx
    c00, c01, c11 = (p0 * c for c in u.cov)
    b, a, e, v, b_last, a_last = kalman_filter(ys, xs, q, u.r, b0s, a0s, c00, c01, c11)
    beta, alpha, err, var = nan, nan.copy(), nan.copy(), nan.copy()
    beta[warmup:], alpha[warmup:] = u.to_original(b, a)
    err[warmup:] = ya[warmup:] - (beta[warmup:] * xa[warmup:] + alpha[warmup:])
    var[warmup:] = u.sy * u.sy * v
    bl, al = u.to_original(b_last, a_last)
    return KalmanResult(beta, alpha, err, var, float(bl), float(al), delta,
                        u.r * u.sy * u.sy, ya, warmup)  # fmt: skip


class KalmanHedge:
    """Incremental Kalman hedge ratio for the live path; same numbers as :func:`kalman_hedge`.

    With ``obs_var="auto"`` (default) the first ``warmup`` updates are buffered and return a
    step of NaNs; the filter then starts from the warm-up fit, as the batch function does.

    Examples
    --------
    >>> kf = KalmanHedge(obs_var=0.5)
    >>> step = kf.update(150.0, 100.0)
    >>> kf.ready
    False
    """

    def __init__(
        self,
        *,
        delta: float = DEFAULT_DELTA,
        obs_var: float | Literal["auto"] = "auto",
        beta0: float | None = None,
        alpha0: float | None = None,
        p0: float = DEFAULT_P0,
        warmup: int = DEFAULT_WARMUP,
    ) -> None:
        self._q = _check(delta, obs_var, p0, warmup)
        self._auto = obs_var == "auto"
        self._units: _Units | None = None
        self._buf: list[tuple[float, float]] = []
        self._r = 1.0 if self._auto else float(obs_var)
        self._b = 0.0 if beta0 is None else float(beta0)
        self._a = 0.0 if alpha0 is None else float(alpha0)
        self._init = (beta0, alpha0)
        self._p00, self._p01, self._p11 = float(p0), 0.0, float(p0)
        self._p0 = float(p0)
        self._warmup = warmup
        self.count = 0
        self.value: KalmanStep | None = None

    @property
    def ready(self) -> bool:
        """True once ``warmup`` observations have been absorbed."""
        return self.count >= self._warmup

    @property
    def state(self) -> dict[str, float]:
        """Snapshot of the posterior state (filter units) and covariance."""
        return {
            "beta": self._b,
            "alpha": self._a,
            "p00": self._p00,
            "p01": self._p01,
            "p11": self._p11,
        }

    def _start(self) -> None:
        arr = np.array(self._buf, dtype=np.float64)
        u = _warmup_units(arr[:, 0], arr[:, 1])
        self._units, self._r = u, u.r
        b0, a0 = self._init
        self._b, self._a = (u.beta, u.alpha) if b0 is None else u.to_scaled(b0, a0 or 0.0)
        self._p00, self._p01, self._p11 = (self._p0 * c for c in u.cov)
        self._buf = []

    def update(self, y: float, x: float) -> KalmanStep:
        """Absorb one observation (``y`` the leg to hedge, ``x`` the hedge leg, as everywhere).

        Returns the prior-based forecast and the new posterior, in price units.
        """
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InputError(f"Kalman update needs finite prices, got y={y!r}, x={x!r}")
        u = self._units
        if self._auto and u is None:
            self._buf.append((float(y), float(x)))
            self.count += 1
            if self.count >= self._warmup:
                self._start()
            nan = math.nan
            self.value = KalmanStep(nan, nan, nan, nan, nan, nan, nan)
            return self.value
        xs, ys = (x, y) if u is None else (x / u.sx, y / u.sy)
        b, a = self._b, self._a
        p00 = self._p00 + self._q
        p01 = self._p01
        p11 = self._p11 + self._q
        e = ys - (b * xs + a)
        ph0 = p00 * xs + p01
        ph1 = p01 * xs + p11
        s = xs * ph0 + ph1 + self._r
        k0, k1 = ph0 / s, ph1 / s
        self._b = b + k0 * e
        self._a = a + k1 * e
        self._p00 = p00 - k0 * ph0
        self._p01 = p01 - k0 * ph1
        self._p11 = p11 - k1 * ph1
        self.count += 1
        if u is None:
            self.value = KalmanStep(b, a, b * x + a, e, s, self._b, self._a)
        else:
            bo, ao = u.to_original(b, a)
            bp, ap = u.to_original(self._b, self._a)
            f = bo * x + ao
            self.value = KalmanStep(bo, ao, f, y - f, u.sy * u.sy * s, bp, ap)
        return self.value


__all__ = [
    "DEFAULT_DELTA",
    "DEFAULT_P0",
    "DEFAULT_WARMUP",
    "KalmanHedge",
    "KalmanResult",
    "KalmanStep",
    "kalman_hedge",
]
