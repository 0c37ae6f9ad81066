import numpy as np
import pytest
from _data import coint_pair, kline_closes, ou
from statsmodels.tsa.stattools import adfuller, coint
from statsmodels.tsa.vector_ar.vecm import coint_johansen

from statarb.analytics.stationarity import adf, engle_granger, johansen, spread_adf
from statarb.errors import InputError


def _series(kind, n, rng):
    e = rng.normal(0, 1, n)
    if kind == "walk":
        return 1000 + np.cumsum(e)
    if kind == "ar1":
        return ou(n, 0.1, 1.0, rng)
    return np.cumsum(e) + 0.05 * np.arange(n)


@pytest.mark.parametrize("regression", ["c", "ct", "ctt", "n"])
@pytest.mark.parametrize("autolag", ["AIC", "BIC", "t-stat", None])
def test_adf_equals_adfuller(regression, autolag):
    rng = np.random.default_rng(hash((regression, str(autolag))) % 2**32)
    for kind in ("walk", "ar1", "trend"):
        for n in (60, 700, 1500):
            s = _series(kind, n, rng)
            ref = adfuller(s, regression=regression, autolag=autolag, result_object=False)
            ours = adf(s, regression=regression, autolag=autolag)
            assert ours.statistic == pytest.approx(ref[0], rel=1e-6)
            assert ours.used_lag == ref[2]
            assert ours.nobs == ref[3]
            assert ours.pvalue == pytest.approx(ref[1], rel=1e-6, abs=1e-12)
            assert ours.critical_values == pytest.approx(ref[4], rel=1e-9)


def test_adf_fixed_maxlag_and_verdict():
    rng = np.random.default_rng(1)
    s = ou(3000, 0.2, 1.0, rng)
    res = adf(s, maxlag=3, autolag=None)
    ref = adfuller(s, maxlag=3, autolag=None, result_object=False)
    assert res.statistic == pytest.approx(ref[0], rel=1e-8)
    assert res.verdict == "stationary at 1%"
    walk = adf(np.cumsum(rng.normal(size=3000)))
    assert walk.verdict.startswith("not stationary")
    assert "ADF" in walk.summary() and walk.to_dict()["used_lag"] == walk.used_lag


def test_adf_validation():
    with pytest.raises(InputError, match="constant"):
        adf(np.ones(50))
    with pytest.raises(InputError, match="maxlag"):
        adf(np.arange(50.0), maxlag=40)
    with pytest.raises(InputError, match="non-finite"):
        adf(np.r_[np.arange(20.0), np.nan])


def test_engle_granger_equals_coint_both_directions():
    y, x = coint_pair(n=1500)
    res = engle_granger(y, x)
    r1, r2 = coint(y, x), coint(x, y)
    assert res.y_on_x.statistic == pytest.approx(r1[0], rel=1e-8)
    assert res.y_on_x.pvalue == pytest.approx(r1[1], rel=1e-8)
    assert res.x_on_y.statistic == pytest.approx(r2[0], rel=1e-8)
    assert list(res.critical_values.values()) == pytest.approx(r1[2], rel=1e-9)
    assert res.pvalue_min < 0.01 and res.verdict.startswith("cointegrated")
    res_ct = engle_granger(y, x, trend="ct")
    assert res_ct.y_on_x.pvalue == pytest.approx(coint(y, x, trend="ct")[1], rel=1e-8)


def test_engle_granger_independent_walks_not_cointegrated():
    rng = np.random.default_rng(5)
    a, b = np.cumsum(rng.normal(size=2000)) + 500, np.cumsum(rng.normal(size=2000)) + 500
    assert engle_granger(a, b).pvalue_min > 0.05


def test_johansen_wraps_statsmodels():
    y, x = coint_pair(n=1000)
    prices = np.column_stack([y, x])
    res = johansen(prices)
    ref = coint_johansen(prices, 0, 1)
    np.testing.assert_allclose(res.trace_stat, ref.lr1)
    assert res.rank >= 1
    assert res.weights[1] == pytest.approx(ref.evec[1, 0] / ref.evec[0, 0])
    assert -res.weights[1] == pytest.approx(1.5, rel=0.1)  # y - 1.5 x is the stationary combo


@pytest.mark.slow
def test_real_klines(shared_data):
    df = kline_closes(shared_data, ("AVAXUSDT", "LINKUSDT", "LTCUSDT")).iloc[:15000]
    for col in df:
        s = np.log(df[col].to_numpy())
        ref = adfuller(s, result_object=False)
        ours = adf(s)
        assert ours.statistic == pytest.approx(ref[0], rel=1e-6)
        assert ours.used_lag == ref[2]
    y, x = np.log(df["AVAXUSDT"].to_numpy()), np.log(df["LINKUSDT"].to_numpy())
    assert engle_granger(y, x).y_on_x.pvalue == pytest.approx(coint(y, x)[1], rel=1e-6)


def test_minimum_lengths_raise_input_errors_not_zero_division():
    rng = np.random.default_rng(3)
    with pytest.raises(InputError, match="degrees of freedom"):
        adf(rng.normal(size=8), regression="n")
    assert np.isfinite(adf(rng.normal(size=9), regression="n").pvalue)
    w = np.cumsum(rng.normal(size=(2, 21)), axis=1)
    with pytest.raises(InputError, match="at least 21"):
        engle_granger(w[0, :20], w[1, :20])
    assert np.isfinite(engle_granger(w[0], w[1]).pvalue)


def test_spread_adf_uses_cointegration_critical_values():
    from statsmodels.tsa.adfvalues import mackinnoncrit, mackinnonp

    y, x = coint_pair(n=500)
    resid = y - np.polyval(np.polyfit(x, y, 1), x)
    one, two = adf(resid), spread_adf(resid)
    assert two.statistic == one.statistic
    assert two.pvalue == pytest.approx(mackinnonp(one.statistic, regression="c", N=2))
    crit = mackinnoncrit(N=2, regression="c", nobs=two.nobs)
    assert two.critical_values["5%"] == pytest.approx(crit[1])
    assert two.critical_values["5%"] < one.critical_values["5%"]  # stricter than one series
    assert "Engle-Granger" in two.test and "one-series" in one.test
