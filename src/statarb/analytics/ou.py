"""Ornstein-Uhlenbeck fit of a spread: maximum likelihood on the exact discretisation.

The OU process ``dX = theta (mu - X) dt + sigma dW`` sampled every ``dt`` is exactly the AR(1)

``X[t+1] = mu + phi (X[t] - mu) + e[t]``,  ``phi = exp(-theta dt)``,
``Var e = sigma**2 (1 - phi**2) / (2 theta)``.

Conditional on the first point, the Gaussian likelihood of the AR(1) is maximised by least
squares of ``X[t+1]`` on ``(1, X[t])`` with ``s2 = RSS / n`` (statsmodels ``AutoReg`` computes
the same). The OU parameters are functions of ``(c, phi, s2)``; their standard errors follow by
the delta method from the AR(1) Fisher information: ``Cov(c, phi) = s2 (X'X)^-1`` and
``Var(s2) = 2 s2**2 / n``, independent of ``(c, phi)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from statarb._typing import Float64Array
from statarb.analytics._validate import as_float_array, check_finite, check_min_length
from statarb.errors import InputError


@dataclass(frozen=True)
class OUFit:
    """An Ornstein-Uhlenbeck model of a spread (time unit: ``dt``, default one bar).

    Attributes
    ----------
    theta, mu, sigma
        Reversion speed per unit time, long-run mean, diffusion per square-root unit time.
    half_life
        ``ln 2 / theta``, in the same time unit.
    se_theta, se_mu, se_sigma, se_half_life
        Asymptotic standard errors (delta method).
    phi, const, resid_var
        The AR(1) coefficients and the MLE innovation variance ``RSS / n``.
    loglik
        Conditional log-likelihood at the optimum.
    n, dt
        Transitions used and the sampling interval.
    """

    theta: float
    mu: float
    sigma: float
    half_life: float
    se_theta: float
    se_mu: float
    se_sigma: float
    se_half_life: float
    phi: float
    const: float
    resid_var: float
    loglik: float
    n: int
    dt: float

    @property
    def sigma_eq(self) -> float:
        """Stationary standard deviation ``sigma / sqrt(2 theta)``."""
        return self.sigma / math.sqrt(2.0 * self.theta)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields (non-finite as None), with ``sigma_eq``."""
        d: dict[str, Any] = {**asdict(self), "sigma_eq": self.sigma_eq}
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()
        }

    def summary(self) -> str:
        """One line of text."""
        return (
            f"OU theta {self.theta:.4g} ± {self.se_theta:.2g}, "
            f"mu {self.mu:.6g} ± {self.se_mu:.2g}, "
            f"sigma {self.sigma:.4g} ± {self.se_sigma:.2g}, half-life {self.half_life:.1f} "
            f"± {self.se_half_life:.2g} (n={self.n})"
        )


def _jacobian(c: float, phi: float, s2: float, dt: float) -> Float64Array:
    """d(theta, mu, sigma, half_life) / d(c, phi, s2)."""
    lp = math.log(phi)
    theta = -lp / dt
    one = 1.0 - phi * phi
    g = -2.0 * lp / (dt * one)  # sigma**2 = s2 * g(phi)
    dg = (-2.0 / dt) * (one / phi + 2.0 * phi * lp) / (one * one)
    sigma = math.sqrt(s2 * g)
    dtheta = -1.0 / (phi * dt)
    return np.array(
        [
            [0.0, dtheta, 0.0],
            [1.0 / (1.0 - phi), c / (1.0 - phi) ** 2, 0.0],
            [0.0, sigma * dg / (2.0 * g), sigma / (2.0 * s2)],
            [0.0, -math.log(2.0) / theta**2 * dtheta, 0.0],
        ]
    )


def fit_ou(spread: Any, *, dt: float = 1.0) -> OUFit:
    """Fit an Ornstein-Uhlenbeck process to a spread by maximum likelihood.

    Parameters
    ----------
    spread
        The spread, equally spaced in time (numpy or pandas).
    dt
        Sampling interval in the time unit wanted for ``theta`` and ``half_life`` (1: bars).

    Raises
    ------
    InputError
        Fewer than 10 points, non-finite values, a constant series, or no mean reversion
        (AR(1) coefficient outside ``(0, 1)``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros(5000)
    >>> for t in range(1, 5000):
    ...     x[t] = 0.9 * x[t - 1] + rng.normal()
    >>> round(fit_ou(x).phi, 2)
    0.9
    """
    s = as_float_array(spread, "spread")
    check_finite(s, "spread")
    check_min_length(s, 10, "spread", "OU fit")
    if not (math.isfinite(dt) and dt > 0):
        raise InputError(f"dt must be positive, got {dt!r}")
    lag, nxt = s[:-1], s[1:]
    n = len(nxt)
    lm = lag.mean()
    dl = lag - lm
    sxx = float(dl @ dl)
    if sxx == 0.0:
        raise InputError("spread is constant; an OU fit is undefined")
    phi = float(dl @ (nxt - nxt.mean())) / sxx
    c = float(nxt.mean() - phi * lm)
    resid = nxt - c - phi * lag
    s2 = float(resid @ resid) / n
    if not 0.0 < phi < 1.0:
        raise InputError(
            f"AR(1) coefficient {phi:.6g} is outside (0, 1): the spread does not mean-revert"
        )
    if s2 <= 0.0:
        raise InputError("spread fits an AR(1) exactly; the OU diffusion is zero")
    loglik = -0.5 * n * (math.log(2.0 * math.pi * s2) + 1.0)
    # Fisher information inverse of (c, phi) = s2 (X'X)^-1, and Var(s2) = 2 s2^2 / n
    xtx_inv = np.array([[1.0 / n + lm * lm / sxx, -lm / sxx], [-lm / sxx, 1.0 / sxx]])
    cov = np.zeros((3, 3))
    cov[:2, :2] = s2 * xtx_inv
    cov[2, 2] = 2.0 * s2 * s2 / n
    jac = _jacobian(c, phi, s2, dt)
    se = np.sqrt(np.diag(jac @ cov @ jac.T))
    theta = -math.log(phi) / dt
    sigma = math.sqrt(s2 * 2.0 * theta / (1.0 - phi * phi))
    return OUFit(
        theta=theta,
        mu=c / (1.0 - phi),
        sigma=sigma,
        half_life=math.log(2.0) / theta,
        se_theta=float(se[0]),
        se_mu=float(se[1]),
        se_sigma=float(se[2]),
        se_half_life=float(se[3]),
        phi=phi,
        const=c,
        resid_var=s2,
        loglik=loglik,
        n=n,
        dt=float(dt),
    )


def simulate_ou(
    n: int,
    *,
    theta: float,
    mu: float,
    sigma: float,
    dt: float = 1.0,
    x0: float | None = None,
    seed: int = 0,
) -> Float64Array:
    """Exact simulation of ``n`` points of an OU process (start at ``x0``, default ``mu``)."""
    if n < 1:
        raise InputError(f"n must be at least 1, got {n!r}")
    if not (theta > 0 and sigma > 0 and dt > 0):
        raise InputError("theta, sigma and dt must be positive")
    rng = np.random.default_rng(seed)
    phi = math.exp(-theta * dt)
    sd = sigma * math.sqrt((1.0 - phi * phi) / (2.0 * theta))
    eps = rng.normal(0.0, sd, n)
    out = np.empty(n)
    out[0] = mu if x0 is None else x0
    from scipy.signal import lfilter

    # x[t] - mu = phi (x[t-1] - mu) + e[t]
    dev, _ = lfilter([1.0], [1.0, -phi], eps[1:], zi=[phi * (out[0] - mu)])
    out[1:] = mu + dev
    return out


def rolling_half_life(spread: Any, *, window: int) -> Float64Array:
    """Half-life (bars) from the AR(1) fit over the ``window`` transitions ending at each bar.

    Uses data up to and including bar ``t`` only; NaN where the window holds a NaN or is
    incomplete, ``inf`` where the fit shows no reversion. Matches :func:`fit_ou` on each window.
    """
    s = as_float_array(spread, "spread")
    if isinstance(window, bool) or not isinstance(window, int) or window < 3:
        raise InputError(f"window must be an integer of at least 3 transitions, got {window!r}")
    from statarb.analytics._ou_kernels import rolling_half_life_kernel

    ok = np.isfinite(s)
    ref = float(np.median(s[ok])) if ok.any() else 0.0
    return np.asarray(rolling_half_life_kernel(s, window, ref))


def time_stop_bars(half_life: float, k: float) -> int | None:
    """Bars after which a position is closed by a time stop of ``k`` half-lives.

    ``None`` (no time stop) when the half-life is not finite and positive; at least one bar.
    The live signal and the backtest both call this.
    """
    if not (math.isfinite(k) and k > 0):
        raise InputError(f"time stop multiple k must be positive, got {k!r}")
    if not (math.isfinite(half_life) and half_life > 0):
        return None
    return max(1, math.ceil(k * half_life))


def time_stop_hit(bars_held: int, half_life: float, k: float) -> bool:
    """True when a position held ``bars_held`` bars has reached its time stop."""
    limit = time_stop_bars(half_life, k)
    return limit is not None and bars_held >= limit


__all__ = ["OUFit", "fit_ou", "rolling_half_life", "simulate_ou", "time_stop_bars", "time_stop_hit"]
