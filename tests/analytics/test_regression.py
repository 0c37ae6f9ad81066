import numpy as np
import pytest
import statsmodels.api as sm
from _data import coint_pair, kline_closes
from scipy.stats import theilslopes
from statsmodels.regression.rolling import RollingOLS

from statarb.analytics.regression import (
    basket_hedge_ratio,
    expanding_hedge_ratio,
    hedge_ratio,
    rolling_hedge_ratio,
    theil_sen_slope,
)
from statarb.errors import InputError


def test_ols_equals_statsmodels():
    y, x = coint_pair()
    fit = hedge_ratio(y, x)
    ref = sm.OLS(y, sm.add_constant(x)).fit()
    np.testing.assert_allclose([fit.intercept, fit.beta], ref.params, rtol=1e-10)
    np.testing.assert_allclose([fit.stderr_intercept, fit.stderr_beta], ref.bse, rtol=1e-8)
    assert fit.r2 == pytest.approx(ref.rsquared, rel=1e-12)
    np.testing.assert_allclose(fit.residuals, ref.resid, atol=1e-8)
    assert abs(fit.beta - 1.5) < 0.06  # ground truth (OU residuals are autocorrelated)


def test_ols_without_intercept_and_log():
    y, x = coint_pair()
    fit = hedge_ratio(y, x, intercept=False)
    ref = sm.OLS(y, x).fit()
    assert fit.beta == pytest.approx(ref.params[0], rel=1e-12)
    assert fit.r2 == pytest.approx(ref.rsquared, rel=1e-12)
    lg = hedge_ratio(y, x, transform="log")
    ref = sm.OLS(np.log(y), sm.add_constant(np.log(x))).fit()
    assert lg.beta == pytest.approx(ref.params[1], rel=1e-10)


def _rlm_huber(y, x):
    """statsmodels RLM with Huber's T (1.35): the unpenalised robust reference."""
    rlm = sm.RLM(y, sm.add_constant(x), M=sm.robust.norms.HuberT(1.35))
    return rlm.fit(maxiter=200, tol=1e-12).params


def test_huber_agrees_with_statsmodels_rlm_and_resists_outliers():
    y, x = coint_pair(n=1500)
    y = y.copy()
    y[::50] += 200.0  # outliers
    fit = hedge_ratio(y, x, method="huber")
    ref = _rlm_huber(y, x)
    assert fit.beta == pytest.approx(ref[1], rel=1e-7)
    assert fit.intercept == pytest.approx(ref[0], rel=1e-6)
    assert abs(fit.beta - 1.5) < abs(hedge_ratio(y, x).beta - 1.5)


def test_huber_at_btc_level_is_not_pulled_to_zero():
    """x near 84,000, true beta 1.5, fat-tailed noise: the penalised fit on rescaled x gave 0.667;
    statsmodels RLM gives 1.490."""
    rng = np.random.default_rng(1)
    x = 84_000 + np.cumsum(rng.normal(0, 30, 1000))
    y = 1.5 * x + rng.standard_t(2, 1000) * 100
    fit = hedge_ratio(y, x, method="huber")
    ref = _rlm_huber(y, x)
    assert fit.beta == pytest.approx(ref[1], rel=1e-6)
    assert fit.beta == pytest.approx(1.5, abs=0.03)
    assert fit.intercept == pytest.approx(ref[0], abs=0.005 * np.abs(y).mean())


def test_basket_reports_every_beta_and_stderr():
    rng = np.random.default_rng(4)
    X = 100 + np.cumsum(rng.normal(0, 1, (400, 3)), axis=0)
    y = X @ np.array([1.5, -0.5, 2.0]) + 3 + rng.normal(0, 1, 400)
    fit = basket_hedge_ratio(y, X)
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(fit.betas, ref.params[1:], rtol=1e-9)
    np.testing.assert_allclose(fit.stderr_betas, ref.bse[1:], rtol=1e-9)
    assert fit.to_dict()["stderr_betas"] == pytest.approx(list(ref.bse[1:]))
    hub = basket_hedge_ratio(y, X, method="huber")
    np.testing.assert_allclose(hub.betas, _rlm_huber(y, X)[1:], rtol=1e-6)


def test_theil_sen_exact_equals_scipy():
    y, x = coint_pair(n=1200)
    fit = hedge_ratio(y, x, method="theil-sen")
    ref = theilslopes(y, x, method="joint")
    assert fit.beta == pytest.approx(ref.slope, rel=1e-12)
    assert fit.intercept == pytest.approx(ref.intercept, rel=1e-12)


def test_theil_sen_sampled_within_one_percent_of_exact():
    y, x = coint_pair(n=6000, seed=3)
    exact = theilslopes(y, x).slope
    assert theil_sen_slope(y, x) == pytest.approx(exact, rel=0.01)


def test_rolling_ols_matches_statsmodels_on_large_prices():
    rng = np.random.default_rng(11)
    n = 4000
    x = 84_000 + np.cumsum(rng.normal(0, 30, n))
    y = 1.5 * x + 10 + rng.normal(0, 5, n)
    path = rolling_hedge_ratio(y, x, window=500)
    ref = RollingOLS(y, sm.add_constant(x), window=500).fit(params_only=True).params
    assert np.isnan(path.beta[:499]).all()
    np.testing.assert_allclose(path.beta[499:], ref[499:, 1], rtol=1e-8)
    # alpha against exact per-window fits (statsmodels' own alpha is less precise here)
    for t in range(499, n, 211):
        fit = hedge_ratio(y[t - 499 : t + 1], x[t - 499 : t + 1])
        assert path.alpha[t] == pytest.approx(fit.intercept, abs=1e-6)


@pytest.mark.parametrize("method", ["ols", "huber", "theil-sen"])
def test_rolling_and_expanding_equal_naive_loops(method):
    y, x = coint_pair(n=120)
    path = rolling_hedge_ratio(y, x, window=40, method=method)
    exp = expanding_hedge_ratio(y, x, min_periods=40, method=method)
    for t in (39, 77, 119):
        fit = hedge_ratio(y[t - 39 : t + 1], x[t - 39 : t + 1], method=method)
        assert path.beta[t] == pytest.approx(fit.beta, rel=1e-7)
        full = hedge_ratio(y[: t + 1], x[: t + 1], method=method)
        assert exp.beta[t] == pytest.approx(full.beta, rel=1e-7)
        assert exp.alpha[t] == pytest.approx(full.intercept, rel=1e-6, abs=1e-8)


def test_rolling_has_no_look_ahead():
    y, x = coint_pair(n=600)
    base = rolling_hedge_ratio(y, x, window=50)
    y2 = y.copy()
    y2[300:] += np.linspace(0, 50, 300)
    bumped = rolling_hedge_ratio(y2, x, window=50)
    np.testing.assert_array_equal(base.beta[:300], bumped.beta[:300])
    exp1 = expanding_hedge_ratio(y, x)
    exp2 = expanding_hedge_ratio(y2, x)
    np.testing.assert_array_equal(exp1.beta[:300], exp2.beta[:300])


def test_basket_equals_statsmodels():
    rng = np.random.default_rng(5)
    X = 100 + np.cumsum(rng.normal(0, 1, (800, 3)), axis=0)
    y = X @ np.array([0.5, 1.2, -0.3]) + 4 + rng.normal(0, 0.3, 800)
    fit = basket_hedge_ratio(y, X)
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(fit.betas, ref.params[1:], rtol=1e-8)
    assert fit.intercept == pytest.approx(ref.params[0], rel=1e-8)
    assert fit.stderr_beta == pytest.approx(ref.bse[1], rel=1e-6)
    assert basket_hedge_ratio(y, X, method="huber").betas == pytest.approx(
        [0.5, 1.2, -0.3], abs=0.05
    )


@pytest.mark.parametrize(
    ("y", "x", "match"),
    [
        ([1.0, 2.0], [1.0, 2.0, 3.0], "same length"),
        ([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], "non-finite"),
        ([1.0, 2.0, 3.0], [2.0, 2.0, 2.0], "constant"),
        ([1.0, 2.0], [1.0, 2.0], "at least 3"),
    ],
)
def test_bad_input_is_named(y, x, match):
    with pytest.raises(InputError, match=match):
        hedge_ratio(y, x)


def test_window_validation():
    y, x = coint_pair(n=50)
    with pytest.raises(InputError, match="window"):
        rolling_hedge_ratio(y, x, window=60)
    with pytest.raises(InputError, match="method"):
        hedge_ratio(y, x, method="lasso")


def test_pandas_input_and_summary():
    y, x = coint_pair(n=200)
    import pandas as pd

    fit = hedge_ratio(pd.Series(y), pd.Series(x))
    assert "ols hedge ratio" in fit.summary()
    assert fit.to_dict()["n"] == 200


@pytest.mark.slow
def test_real_klines_every_estimator_agrees_with_references(shared_data):
    df = kline_closes(shared_data).iloc[:20000]
    y, x = df["AVAXUSDT"].to_numpy(), df["LINKUSDT"].to_numpy()
    ols = hedge_ratio(y, x)
    ref = sm.OLS(y, sm.add_constant(x)).fit()
    assert ols.beta == pytest.approx(ref.params[1], rel=1e-9)
    ts = hedge_ratio(y[:2500], x[:2500], method="theil-sen")
    assert ts.beta == pytest.approx(theilslopes(y[:2500], x[:2500]).slope, rel=1e-12)
    hub = hedge_ratio(y, x, method="huber")
    assert 0.2 * ols.beta < hub.beta < 5 * ols.beta
    path = rolling_hedge_ratio(y, x, window=500)
    roll = RollingOLS(y, sm.add_constant(x), window=500).fit(params_only=True).params
    np.testing.assert_allclose(path.beta[499:], roll[499:, 1], rtol=1e-7)
