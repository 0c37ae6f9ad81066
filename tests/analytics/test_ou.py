"""OU fit: parameter recovery on simulated series, agreement with statsmodels, time stop."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from statarb.analytics.ou import (
    fit_ou,
    rolling_half_life,
    simulate_ou,
    time_stop_bars,
    time_stop_hit,
)
from statarb.errors import InputError

CASES = [  # theta per bar, mu, sigma, dt, seed
    (0.05, 10.0, 0.3, 1.0, 1),
    (0.2, -2.0, 1.5, 1.0, 2),
    (2.0, 0.5, 0.8, 1 / 24, 3),
]


@pytest.mark.parametrize(("theta", "mu", "sigma", "dt", "seed"), CASES)
def test_recovers_parameters_within_10pct(theta, mu, sigma, dt, seed):
    x = simulate_ou(5000, theta=theta, mu=mu, sigma=sigma, dt=dt, seed=seed)
    fit = fit_ou(x, dt=dt)
    assert fit.theta == pytest.approx(theta, rel=0.10)
    assert fit.sigma == pytest.approx(sigma, rel=0.10)
    assert fit.half_life == pytest.approx(math.log(2) / theta, rel=0.10)
    # mu is a level: within 10% of the stationary spread around it
    assert abs(fit.mu - mu) < 0.10 * (sigma / math.sqrt(2 * theta)) + 0.1 * abs(mu)
    # the error bars are honest: truth inside 4 standard errors
    assert abs(fit.theta - theta) < 4 * fit.se_theta
    assert abs(fit.sigma - sigma) < 4 * fit.se_sigma


@pytest.mark.parametrize("as_series", [False, True])
def test_matches_statsmodels_autoreg(as_series):
    from statsmodels.tsa.ar_model import AutoReg

    x = simulate_ou(3000, theta=0.1, mu=3.0, sigma=0.5, seed=7)
    fit = fit_ou(pd.Series(x) if as_series else x)
    ar = AutoReg(x, lags=1, trend="c").fit()
    const, phi = ar.params
    assert_allclose([fit.const, fit.phi], [const, phi], rtol=1e-6, atol=1e-9)
    assert_allclose(fit.resid_var, ar.sigma2, rtol=1e-6)
    assert_allclose(fit.loglik, ar.llf, rtol=1e-6)
    # AutoReg's standard errors of (const, phi) are the same Fisher information inverse
    se_phi = ar.bse[1]
    assert_allclose(fit.se_theta, se_phi / phi, rtol=1e-6)  # d theta / d phi = -1 / phi
    assert_allclose(fit.theta, -math.log(phi), rtol=1e-6)
    assert_allclose(fit.mu, const / (1 - phi), rtol=1e-6)


def test_delta_method_matches_numerical_jacobian():
    from statsmodels.tsa.ar_model import AutoReg

    x = simulate_ou(2000, theta=0.3, mu=1.0, sigma=2.0, seed=11)
    fit = fit_ou(x)
    ar = AutoReg(x, lags=1, trend="c").fit()
    c, phi = ar.params
    s2, n = ar.sigma2, fit.n
    cov = np.zeros((3, 3))
    cov[:2, :2] = ar.cov_params()
    cov[2, 2] = 2 * s2 * s2 / n

    def ou(p):
        c_, phi_, s2_ = p
        th = -math.log(phi_)
        return np.array(
            [th, c_ / (1 - phi_), math.sqrt(s2_ * 2 * th / (1 - phi_**2)), math.log(2) / th]
        )

    p0 = np.array([c, phi, s2])
    jac = np.empty((4, 3))
    for j in range(3):
        h = 1e-6 * max(abs(p0[j]), 1e-3)
        up, dn = p0.copy(), p0.copy()
        up[j] += h
        dn[j] -= h
        jac[:, j] = (ou(up) - ou(dn)) / (2 * h)
    se = np.sqrt(np.diag(jac @ cov @ jac.T))
    assert_allclose([fit.se_theta, fit.se_mu, fit.se_sigma, fit.se_half_life], se, rtol=1e-5)


def test_rejects_bad_input():
    with pytest.raises(InputError, match="at least 10"):
        fit_ou([1.0, 2.0])
    with pytest.raises(InputError, match="index 3"):
        fit_ou([1.0, 2.0, 3.0, np.nan] + [1.0] * 10)
    with pytest.raises(InputError, match="does not mean-revert"):
        fit_ou(1.02 ** np.arange(200) + np.random.default_rng(0).normal(0, 0.01, 200))


def test_result_is_frozen_and_serialisable():
    fit = fit_ou(simulate_ou(500, theta=0.1, mu=0.0, sigma=1.0, seed=1))
    d = fit.to_dict()
    assert d["sigma_eq"] == pytest.approx(fit.sigma / math.sqrt(2 * fit.theta))
    assert "half-life" in fit.summary()
    with pytest.raises(AttributeError):
        fit.theta = 1.0  # type: ignore[misc]


def test_rolling_half_life_matches_fit_on_each_window():
    x = simulate_ou(400, theta=0.1, mu=0.0, sigma=1.0, seed=5)
    x[:30] = np.nan  # warm-up of a spread
    w = 120
    roll = rolling_half_life(x, window=w)
    assert np.isnan(roll[: 30 + w]).all()
    for t in (200, 311, 399):
        # transitions t-w .. t, i.e. points t-w .. t, data up to t only
        assert roll[t] == pytest.approx(fit_ou(x[t - w : t + 1]).half_life, rel=1e-9)
    # a long series far from zero with a gap: running sums stay exact
    y = 5000 + simulate_ou(20_000, theta=0.05, mu=0.0, sigma=1.0, seed=6)
    y[9000] = np.nan
    roll = rolling_half_life(y, window=300)
    assert np.isnan(roll[9000 : 9000 + 301]).all() and np.isfinite(roll[9302])
    for t in np.random.default_rng(0).integers(301, 20_000, 40):
        if 9000 <= t <= 9301:
            continue
        assert roll[t] == pytest.approx(fit_ou(y[t - 300 : t + 1]).half_life, rel=1e-8)


def test_time_stop():
    assert time_stop_bars(10.0, 2.0) == 20
    assert time_stop_bars(10.2, 1.5) == 16
    assert time_stop_bars(math.inf, 2.0) is None
    assert time_stop_bars(0.1, 1.0) == 1
    assert not time_stop_hit(19, 10.0, 2.0)
    assert time_stop_hit(20, 10.0, 2.0)
    with pytest.raises(InputError):
        time_stop_bars(10.0, 0.0)
