"""Dynamic hedge ratio by Kalman filter, in batch (compiled) and incremental (live) form.

Model: state ``[beta_t, alpha_t]`` follows a random walk with transition covariance
``Q = delta / (1 - delta) * I``; the observation is ``y_t = beta_t * x_t + alpha_t + e_t`` with
``Var(e_t) = obs_var``. The filter starts from ``[beta0, alpha0]`` with covariance ``p0 * I``.

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

DEFAULT_DELTA = 1e-4
DEFAULT_P0 = 1.0


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


def _auto_obs_var(y: Float64Array, x: Float64Array, warmup: int) -> float:
    """Observation variance from an OLS fit on the first ``warmup`` points only (no look-ahead)."""
    from statarb.analytics.regression import hedge_ratio

    m = min(warmup, len(y))
    if m < 3:
        raise InputError(f"obs_var='auto' needs at least 3 warm-up points, got {m}")
    fit = hedge_ratio(y[:m], x[:m])
    var = float(np.var(fit.residuals, ddof=2))
    return var if var > 0 else 1e-12


def kalman_hedge(
    y: Any,
    x: Any,
    *,
    delta: float = DEFAULT_DELTA,
    obs_var: float | Literal["auto"] = 1.0,
    beta0: float = 0.0,
    alpha0: float = 0.0,
    p0: float = DEFAULT_P0,
    warmup: int = 100,
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
        Observation noise variance ``R``; ``"auto"`` estimates it from an OLS fit on the first
        ``warmup`` points only. A good value is near the variance of the spread's residuals.
    beta0, alpha0, p0
        Initial state and its covariance ``p0 * I``.
    warmup
        Points used by ``obs_var="auto"``.
    transform
        ``"price"`` or ``"log"``.

    Returns
    -------
    KalmanResult
        ``beta``/``alpha`` are the prior (pre-observation) estimates at each ``t``.
    """
    ya, xa = pair_arrays(y, x, min_length=1, transform=transform)
    q = _q(delta)
    r = _auto_obs_var(ya, xa, warmup) if obs_var == "auto" else float(obs_var)
    if not r > 0:
        raise InputError(f"obs_var must be positive, got {obs_var!r}")
    if not p0 > 0:
        raise InputError(f"p0 must be positive, got {p0!r}")
    from statarb.analytics._kernels import kalman_filter

    b, a, e, v, b_last, a_last = kalman_filter(ya, xa, q, r, float(beta0), float(alpha0), float(p0))
    return KalmanResult(b, a, e, v, float(b_last), float(a_last), delta, r, ya)


class KalmanHedge:
    """Incremental Kalman hedge ratio for the live path; same numbers as :func:`kalman_hedge`.

    Examples
    --------
    >>> kf = KalmanHedge(obs_var=0.5)
    >>> step = kf.update(100.0, 150.0)
    >>> kf.ready
    False
    """

    def __init__(
        self,
        *,
        delta: float = DEFAULT_DELTA,
        obs_var: float = 1.0,
        beta0: float = 0.0,
        alpha0: float = 0.0,
        p0: float = DEFAULT_P0,
        warmup: int = 30,
    ) -> None:
        if not obs_var > 0:
            raise InputError(f"obs_var must be positive, got {obs_var!r}")
        self._q = _q(delta)
        self._r = float(obs_var)
        self._b, self._a = float(beta0), float(alpha0)
        self._p00, self._p01, self._p11 = float(p0), 0.0, float(p0)
        self._warmup = warmup
        self.count = 0
        self.value: KalmanStep | None = None

    @property
    def ready(self) -> bool:
        """True once ``warmup`` observations have been absorbed."""
        return self.count >= self._warmup

    @property
    def state(self) -> dict[str, float]:
        """Snapshot of the posterior state and covariance."""
        return {
            "beta": self._b,
            "alpha": self._a,
            "p00": self._p00,
            "p01": self._p01,
            "p11": self._p11,
        }

    def update(self, x: float, y: float) -> KalmanStep:
        """Absorb one observation; returns the prior-based forecast and the new posterior."""
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InputError(f"Kalman update needs finite prices, got x={x!r}, y={y!r}")
        p00 = self._p00 + self._q
        p01 = self._p01
        p11 = self._p11 + self._q
        b, a = self._b, self._a
        f = b * x + a
        e = y - f
        ph0 = p00 * x + p01
        ph1 = p01 * x + p11
        s = x * ph0 + ph1 + self._r
        k0, k1 = ph0 / s, ph1 / s
        self._b = b + k0 * e
        self._a = a + k1 * e
        self._p00 = p00 - k0 * ph0
        self._p01 = p01 - k0 * ph1
        self._p11 = p11 - k1 * ph1
        self.count += 1
        self.value = KalmanStep(b, a, f, e, s, self._b, self._a)
        return self.value


__all__ = [
    "DEFAULT_DELTA",
    "DEFAULT_P0",
    "KalmanHedge",
    "KalmanResult",
    "KalmanStep",
    "kalman_hedge",
]
