import math

import numpy as np
import pandas as pd
import pytest
from _data import coint_pair
from scipy import stats

from statarb.analytics.rolling import (
    bars_per_year,
    price_summary,
    realized_volatility,
    rolling_correlation,
)
from statarb.errors import InputError


def test_rolling_correlation_equals_pandas():
    y, x = coint_pair(n=800)
    r = rolling_correlation(y, x, window=50)
    ref = pd.Series(np.diff(np.log(y))).rolling(50).corr(pd.Series(np.diff(np.log(x))))
    np.testing.assert_allclose(r[1:], ref.to_numpy(), rtol=1e-10, equal_nan=True)
    p = rolling_correlation(y, x, window=50, on="prices")
    np.testing.assert_allclose(p, pd.Series(y).rolling(50).corr(pd.Series(x)), equal_nan=True)


def test_realized_volatility_annualised_for_the_bar():
    y, _ = coint_pair(n=600)
    vol = realized_volatility(y, window=100, bar_seconds=60)
    ref = pd.Series(np.diff(np.log(y))).rolling(100).std() * math.sqrt(365 * 24 * 60)
    np.testing.assert_allclose(vol[1:], ref.to_numpy(), rtol=1e-12, equal_nan=True)
    assert bars_per_year(3600) == 365 * 24


def test_no_look_ahead():
    y, x = coint_pair(n=400)
    y2 = y.copy()
    y2[200:] *= 1.05
    a = rolling_correlation(y, x, window=30)
    b = rolling_correlation(y2, x, window=30)
    np.testing.assert_array_equal(a[:200], b[:200])


def test_price_summary_matches_scipy():
    y, _ = coint_pair(n=500)
    s = price_summary(y, volume=np.ones(500))
    r = np.diff(y) / y[:-1]
    assert s.skew == pytest.approx(stats.skew(r, bias=False))
    assert s.kurtosis == pytest.approx(stats.kurtosis(r, bias=False))
    assert s.change == pytest.approx(y[-1] - y[0])
    assert s.volume == 500
    assert s.to_dict()["n"] == 500 and "last" in s.summary()


def test_validation():
    with pytest.raises(InputError, match="positive"):
        rolling_correlation([1.0, -1.0, 2.0], [1.0, 2.0, 3.0], window=2)
    with pytest.raises(InputError, match="on must"):
        rolling_correlation([1.0, 2, 3], [1.0, 2, 3], window=2, on="levels")
