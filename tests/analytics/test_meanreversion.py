import math

import numpy as np
import pytest
import statsmodels.api as sm
from _data import ou

from statarb.analytics.meanreversion import half_life, hurst
from statarb.errors import InputError


def test_half_life_matches_ols_and_ground_truth():
    rng = np.random.default_rng(0)
    theta = 0.05  # AR(1) phi = 0.95 -> half-life ln2 / -ln 0.95 = 13.5 bars
    s = 3.0 + ou(20000, theta, 1.0, rng)
    res = half_life(s)
    ref = sm.OLS(np.diff(s), sm.add_constant(s[:-1])).fit()
    assert res.b == pytest.approx(ref.params[1], rel=1e-10)
    assert res.a == pytest.approx(ref.params[0], rel=1e-8)
    assert res.half_life == pytest.approx(math.log(2) / -math.log(1 - theta), rel=0.1)
    assert res.mu == pytest.approx(3.0, abs=0.3)
    assert res.mean_reverting and "half-life" in res.summary()


def test_half_life_of_a_trend_is_infinite():
    res = half_life(np.arange(100.0) ** 1.1)
    assert math.isinf(res.half_life) and not res.mean_reverting
    assert res.to_dict()["half_life"] is None


def test_hurst_regimes():
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.normal(size=20000))
    assert hurst(walk).hurst == pytest.approx(0.5, abs=0.08)
    assert hurst(ou(20000, 0.2, 1.0, rng)).verdict == "mean reverting"
    trend = np.cumsum(np.cumsum(rng.normal(size=5000)) * 0.01 + rng.normal(size=5000))
    assert hurst(trend).hurst > 0.55


def test_validation():
    with pytest.raises(InputError):
        half_life(np.ones(10))
    with pytest.raises(InputError, match="too short"):
        hurst(np.arange(5.0))
