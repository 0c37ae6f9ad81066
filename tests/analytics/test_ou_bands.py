"""Bertram's bands against first-passage moments integrated numerically and direct optimisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import cumulative_trapezoid, quad
from scipy.optimize import minimize_scalar

from statarb.analytics.ou import OUFit
from statarb.analytics.ou_bands import (
    cycle_time_variance,
    expected_cycle_time,
    optimal_bands,
    sharpe_rate,
)
from statarb.errors import InputError


def _fit(theta: float, sigma: float, mu: float = 0.0) -> OUFit:
    phi = math.exp(-theta)
    nan = math.nan
    return OUFit(
        theta, mu, sigma, math.log(2) / theta, nan, nan, nan, nan, phi, nan, nan, nan, 1, 1.0
    )


def _passage_up(x: float, b: float, theta: float, sigma: float) -> float:
    """E[first time X hits b > x] for dX = -theta X dt + sigma dW, by the scale/speed integral."""
    k = theta / sigma**2

    def inner(y: float) -> float:
        return quad(lambda z: 2 / sigma**2 * math.exp(-k * (z * z - y * y)), -np.inf, y)[0]

    return quad(inner, x, b)[0]


def _passage_moments(x: float, b: float, theta: float, sigma: float) -> tuple[float, float]:
    """(E[T], E[T^2]) of the upward first passage x -> b, on a fine grid (cumulative trapezoid)."""
    k = theta / sigma**2
    eq = sigma / math.sqrt(2 * theta)
    y = np.linspace(-10 * eq, b, 200_001)
    speed = 2 / sigma**2 * np.exp(-k * y * y)
    scale = np.exp(k * y * y)
    g1 = cumulative_trapezoid(scale * cumulative_trapezoid(speed, y, initial=0), y, initial=0)
    t1 = g1[-1] - g1
    g2 = cumulative_trapezoid(scale * cumulative_trapezoid(speed * t1, y, initial=0), y, initial=0)
    t2 = 2 * (g2[-1] - g2)
    return float(np.interp(x, y, t1)), float(np.interp(x, y, t2))


def _numeric_cycle(a: float, m: float, theta: float, sigma: float) -> tuple[float, float]:
    """(E[T], V[T]) of a -> m -> a: two independent passages (the second mirrored)."""
    e1, s1 = _passage_moments(a, m, theta, sigma)
    e2, s2 = _passage_moments(-m, -a, theta, sigma)
    return e1 + e2, (s1 - e1 * e1) + (s2 - e2 * e2)


@pytest.mark.parametrize(
    ("theta", "sigma", "a", "m"),
    [(0.05, 0.3, -0.5, 0.8), (0.2, 1.7, -1.3, 0.2), (1.0, 1.0, -0.4, 0.4)],
)
def test_cycle_moments_match_numerical_integration(theta, sigma, a, m):
    eq = sigma / math.sqrt(2 * theta)
    a, m = a * eq, m * eq
    exact = _passage_up(a, m, theta, sigma) + _passage_up(-m, -a, theta, sigma)
    assert expected_cycle_time(a, m, theta, sigma) == pytest.approx(exact, rel=1e-8)
    et, vt = _numeric_cycle(a, m, theta, sigma)
    assert expected_cycle_time(a, m, theta, sigma) == pytest.approx(et, rel=1e-6)
    assert cycle_time_variance(a, m, theta, sigma) == pytest.approx(vt, rel=1e-5)


@pytest.mark.parametrize(
    ("theta", "sigma", "cost"), [(0.05, 0.3, 0.05), (0.2, 1.7, 0.8), (1.0, 1.0, 0.01)]
)
def test_return_optimal_band_maximises_numerical_rate(theta, sigma, cost):
    bands = optimal_bands(_fit(theta, sigma, mu=5.0), cost=cost)

    def neg(m: float) -> float:
        return -(2 * m - cost) / (_passage_up(-m, m, theta, sigma) * 2)

    eq = sigma / math.sqrt(2 * theta)
    res = minimize_scalar(neg, bounds=(cost / 2, cost / 2 + 3 * eq), method="bounded",
                          options={"xatol": 1e-9 * eq})  # fmt: skip
    assert bands.half_width == pytest.approx(res.x, rel=1e-4)
    assert bands.expected_return == pytest.approx(-res.fun, rel=1e-7)
    assert bands.lower == pytest.approx(5.0 - bands.half_width)
    assert bands.upper == pytest.approx(5.0 + bands.half_width)
    assert bands.entry_z == pytest.approx(bands.half_width / eq)


def test_sharpe_optimal_band_maximises_numerical_sharpe():
    theta, sigma, cost = 0.2, 1.7, 0.38
    ret = optimal_bands(_fit(theta, sigma), cost=cost)
    rf = 0.1 * ret.expected_return
    bands = optimal_bands(_fit(theta, sigma), cost=cost, objective="sharpe", risk_free=rf)

    def neg(m: float) -> float:
        et, vt = _numeric_cycle(-m, m, theta, sigma)
        gain = 2 * m - cost
        return -(gain / et - rf) / (gain * math.sqrt(vt / et**3))

    eq = sigma / math.sqrt(2 * theta)
    res = minimize_scalar(neg, bounds=(cost / 2 + 0.01 * eq, 2 * eq), method="bounded",
                          options={"xatol": 1e-6 * eq})  # fmt: skip
    assert bands.half_width == pytest.approx(res.x, rel=2e-3)
    assert bands.sharpe == pytest.approx(-res.fun, rel=1e-4)
    assert bands.sharpe == pytest.approx(
        sharpe_rate(-bands.half_width, bands.half_width, theta, sigma, cost, rf)
    )
    # the Sharpe-optimal band is not the return-optimal one
    assert bands.half_width != pytest.approx(ret.half_width, rel=0.05)


def test_costs_widen_the_band_and_bad_options_are_refused():
    f = _fit(0.1, 1.0)
    widths = [optimal_bands(f, cost=c).half_width for c in (0.01, 0.1, 1.0)]
    assert widths == sorted(widths)
    with pytest.raises(InputError, match="positive cost"):
        optimal_bands(f, cost=0.0)
    with pytest.raises(InputError, match="risk_free > 0"):
        optimal_bands(f, cost=0.1, objective="sharpe")
    with pytest.raises(InputError, match="objective"):
        optimal_bands(f, cost=0.1, objective="sortino")  # type: ignore[arg-type]
    d = optimal_bands(f, cost=0.1).to_dict()
    assert d["objective"] == "return" and d["lower"] < d["upper"]
