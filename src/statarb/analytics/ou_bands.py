"""Optimal entry/exit bands of an OU spread with transaction costs (Bertram, 2010).

W. K. Bertram, "Analytic solutions for optimal statistical arbitrage trading", Physica A 389
(2010) 2234-2243. For the centred process ``dX = -theta X dt + sigma dW`` a trade is entered at
``X = a`` and closed at ``X = m > a``, paying ``c`` per round trip; the trade cycle time ``T``
(``a -> m -> a``) has

``E[T] = pi / theta * (erfi(m sqrt(theta) / sigma) - erfi(a sqrt(theta) / sigma))``

and a variance ``V[T] = (w1(z_m) - w1(z_a) + w2(z_m) - w2(z_a)) / theta**2``,
``z = level sqrt(2 theta) / sigma``, with Bertram's series ``w1`` and ``w2`` (``w2`` written with
``psi(x) - psi(1)``; the signs are those that agree with the first-passage moments integrated
numerically, see the tests). Per unit time the strategy earns
``mu = (m - a - c) / E[T]`` with variance ``(m - a - c)**2 V[T] / E[T]**3``. With symmetric bands
``a = -m`` (optimal for the expected return), the return-optimal ``m`` solves Bertram's first-order
condition ``exp(k^2 m^2) (2m - c) k = sqrt(pi) erfi(k m)`` with ``k = sqrt(theta) / sigma``; the
Sharpe-optimal ``m`` maximises ``(mu - r_f) / sd`` numerically; it needs ``r_f > 0``: with
``r_f = 0`` the ratio grows as the bands shrink towards ``c / 2``, where the profit per trade
vanishes. In a pairs book the same bands
are traded on both sides: long the spread at ``mu - m``, short at ``mu + m``, each closed at the
opposite band.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from statarb.analytics.ou import OUFit
from statarb.errors import InputError

BandObjective = Literal["return", "sharpe"]
_K = np.arange(1, 161)


def expected_cycle_time(a: float, m: float, theta: float, sigma: float) -> float:
    """Bertram's ``E[T]`` of the cycle ``a -> m -> a`` (levels relative to the mean)."""
    from scipy.special import erfi

    k = math.sqrt(theta) / sigma
    return float(math.pi / theta * (erfi(m * k) - erfi(a * k)))


def _w1(z: float) -> float:
    from scipy.special import gammaln

    u = math.sqrt(2.0) * abs(z)
    if u == 0.0:
        return 0.0
    terms = np.exp(gammaln(_K / 2.0) + _K * math.log(u) - gammaln(_K + 1.0))
    odd, even = terms[0::2].sum(), terms[1::2].sum()
    # (1/2 sum_k T_k)^2 - (1/2 sum_k (-1)^k T_k)^2 with the sign of z carried by odd powers
    return float(math.copysign(odd, z) * even)


def _w2(z: float) -> float:
    from scipy.special import digamma, gammaln

    u = math.sqrt(2.0) * abs(z)
    if u == 0.0:
        return 0.0
    j = 2.0 * _K - 1.0
    mag = np.exp(gammaln(j / 2.0) + j * math.log(u) - gammaln(j + 1.0))
    return float(math.copysign(float((mag * (digamma(j / 2.0) - digamma(1.0))).sum()), z))


def cycle_time_variance(a: float, m: float, theta: float, sigma: float) -> float:
    """Bertram's ``V[T]`` of the cycle ``a -> m -> a``."""
    s = math.sqrt(2.0 * theta) / sigma
    zm, za = m * s, a * s
    return (_w1(zm) - _w1(za) + _w2(zm) - _w2(za)) / theta**2


def expected_return_rate(a: float, m: float, theta: float, sigma: float, cost: float) -> float:
    """Expected profit per unit time, ``(m - a - c) / E[T]``."""
    return (m - a - cost) / expected_cycle_time(a, m, theta, sigma)


def sharpe_rate(
    a: float, m: float, theta: float, sigma: float, cost: float, risk_free: float = 0.0
) -> float:
    """``(mu - r_f) / sd`` per unit time, from ``E[T]`` and ``V[T]``."""
    et = expected_cycle_time(a, m, theta, sigma)
    vt = cycle_time_variance(a, m, theta, sigma)
    gain = m - a - cost
    mu = gain / et
    sd = abs(gain) * math.sqrt(max(vt, 0.0) / et**3)
    return (mu - risk_free) / sd if sd > 0 else math.nan


@dataclass(frozen=True)
class OUBands:
    """Optimal symmetric bands around the OU mean, in spread units and in stationary z.

    ``half_width`` is Bertram's ``m``: long the spread at ``lower = mu - m``, short at
    ``upper = mu + m``; each trade closes at the opposite band. ``entry_z`` is ``m / sigma_eq``.
    ``expected_return`` (spread units per unit time), ``cycle_time`` and ``sharpe`` (per square
    root unit time) are at the optimum.
    """

    objective: str
    half_width: float
    lower: float
    upper: float
    entry_z: float
    expected_return: float
    cycle_time: float
    sharpe: float
    cost: float
    risk_free: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields."""
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in asdict(self).items()
        }

    def summary(self) -> str:
        """One line of text."""
        return (
            f"{self.objective}-optimal bands {self.lower:.6g} / {self.upper:.6g} "
            f"(±{self.entry_z:.2f} sigma_eq), E[T] {self.cycle_time:.1f}, "
            f"return/time {self.expected_return:.4g}, Sharpe/time {self.sharpe:.4g}"
        )


def _return_optimal(theta: float, sigma: float, cost: float) -> float:
    from scipy.optimize import brentq
    from scipy.special import dawsn

    k = math.sqrt(theta) / sigma

    # the first-order condition divided by exp(k^2 m^2): 2 D(k m) - k (2 m - c) = 0 (D: Dawson)
    def foc(m: float) -> float:
        return 2.0 * float(dawsn(k * m)) - k * (2.0 * m - cost)

    lo = cost / 2.0
    hi = max(cost, 1.0 / k)
    while foc(hi) > 0:
        hi *= 2.0
    return float(brentq(foc, lo, hi, xtol=1e-14 * max(hi, 1.0), rtol=1e-13))


def _sharpe_optimal(theta: float, sigma: float, cost: float, risk_free: float) -> float:
    from scipy.optimize import minimize_scalar

    eq = sigma / math.sqrt(2.0 * theta)
    lo, hi = cost / 2.0 + 1e-9 * eq, cost / 2.0 + 4.0 * eq

    def neg(m: float) -> float:
        v = sharpe_rate(-m, m, theta, sigma, cost, risk_free)
        return -v if math.isfinite(v) else math.inf

    grid = np.linspace(lo, hi, 81)
    best = int(np.argmin([neg(m) for m in grid]))
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    res = minimize_scalar(neg, bounds=(a, b), method="bounded", options={"xatol": 1e-10 * eq})
    return float(res.x)


def optimal_bands(
    fit: OUFit, *, cost: float, objective: BandObjective = "return", risk_free: float = 0.0
) -> OUBands:
    """Bertram's optimal symmetric bands for a fitted OU spread.

    Parameters
    ----------
    fit
        The spread's :class:`~statarb.analytics.ou.OUFit` (its time unit is the bands' time unit).
    cost
        Round-trip transaction cost of one unit of spread, in spread units (> 0 for the return
        objective: without costs it is optimal to trade infinitely often at zero width).
    objective
        ``"return"``: maximise expected profit per unit time (closed-form first-order
        condition); ``"sharpe"``: maximise ``(mu - risk_free) / sd`` per unit time.
    risk_free
        Required return per unit time, in spread units (Sharpe objective only).
    """
    if not (math.isfinite(cost) and cost >= 0):
        raise InputError(f"cost must be a non-negative spread amount, got {cost!r}")
    if objective not in ("return", "sharpe"):
        raise InputError(f"objective must be 'return' or 'sharpe', got {objective!r}")
    theta, sigma = fit.theta, fit.sigma
    if objective == "return":
        if cost == 0:
            raise InputError("the return-optimal band needs a positive cost (else its width is 0)")
        m = _return_optimal(theta, sigma, cost)
    else:
        if not (math.isfinite(risk_free) and risk_free > 0):
            raise InputError(
                "the Sharpe-optimal band needs risk_free > 0 (a required return per unit time); "
                "with 0 the optimum degenerates to bands of zero profit"
            )
        m = _sharpe_optimal(theta, sigma, cost, risk_free)
    return OUBands(
        objective=objective,
        half_width=m,
        lower=fit.mu - m,
        upper=fit.mu + m,
        entry_z=m / fit.sigma_eq,
        expected_return=expected_return_rate(-m, m, theta, sigma, cost),
        cycle_time=expected_cycle_time(-m, m, theta, sigma),
        sharpe=sharpe_rate(-m, m, theta, sigma, cost, risk_free),
        cost=float(cost),
        risk_free=float(risk_free),
    )


__all__ = [
    "BandObjective",
    "OUBands",
    "cycle_time_variance",
    "expected_cycle_time",
    "expected_return_rate",
    "optimal_bands",
    "sharpe_rate",
]
