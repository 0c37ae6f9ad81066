import math

import numpy as np
import pandas as pd
import pytest
from _data import coint_pair

from statarb.analytics.kalman import kalman_hedge
from statarb.analytics.pair import analyze_pair
from statarb.analytics.stationarity import REPORTED_AUTOLAG, engle_granger, spread_adf
from statarb.errors import InputError


@pytest.mark.parametrize("method", ["ols", "huber", "theil-sen", "kalman"])
def test_analyze_pair_methods(method):
    y, x = coint_pair(n=1500)
    idx = pd.date_range("2026-02-01", periods=1500, freq="1min", tz="UTC")
    res = analyze_pair(pd.Series(y, idx), pd.Series(x, idx), method=method, a="AAA", b="BBB")
    d = res.to_dict()
    keys = ("a", "b", "method", "hedge_ratio", "intercept", "adf_stat", "adf_pvalue")
    keys += ("eg_pvalue", "half_life", "correlation", "last_spread", "last_zscore", "n")
    assert set(keys) <= set(d)
    assert d["a"] == "AAA" and d["n"] == 1500
    assert res.hedge_ratio == pytest.approx(1.5, abs=0.15)
    assert res.adf_pvalue < 0.01
    assert res.series.index.equals(idx)
    assert res.in_sample == (method != "kalman")


def test_numbers_equal_the_building_blocks():
    y, x = coint_pair(n=1200)
    res = analyze_pair(y, x)
    spread = y - (res.hedge_ratio * x + res.intercept)
    ref = spread_adf(spread, autolag=REPORTED_AUTOLAG)
    assert res.adf_stat == pytest.approx(ref.statistic, rel=1e-10)
    assert res.adf_pvalue == pytest.approx(ref.pvalue, rel=1e-10)
    assert "Engle-Granger/MacKinnon critical values" in res.adf_test
    eg = engle_granger(y, x, autolag=REPORTED_AUTOLAG)
    assert res.eg_pvalue == pytest.approx(eg.y_on_x.pvalue)  # the direction the legs are named
    assert res.eg_pvalue_reverse == pytest.approx(eg.x_on_y.pvalue)
    swapped = analyze_pair(x, y)
    assert swapped.eg_pvalue == pytest.approx(eg.x_on_y.pvalue)
    z = (spread[-60:][-1] - spread[-60:].mean()) / spread[-60:].std(ddof=1)
    assert res.last_zscore == pytest.approx(z, rel=1e-8)


def test_kalman_warmup_is_kept_out_and_statistics_describe_the_held_spread():
    y, x = coint_pair(n=600)
    res = analyze_pair(y, x, method="kalman")
    k = kalman_hedge(y, x)
    assert res.warmup == k.warmup == 60
    s = res.series
    assert s["spread"].iloc[:60].isna().all() and s["zscore"].iloc[:60].isna().all()
    assert s["beta"].iloc[60] == pytest.approx(np.polyfit(x[:60], y[:60], 1)[0], rel=1e-9)
    held = y[60:] - (res.hedge_ratio * x[60:] + res.intercept)
    ref = spread_adf(held, autolag=REPORTED_AUTOLAG)
    assert res.adf_stat == pytest.approx(ref.statistic, rel=1e-10)
    assert "latest Kalman hedge" in res.adf_test
    assert 5 < res.half_life < 60  # the OU noise has a half-life of about 14 bars


def test_rolling_window_is_not_in_sample_and_has_no_look_ahead():
    y, x = coint_pair(n=800)
    a = analyze_pair(y, x, window=100)
    assert not a.in_sample and np.isnan(a.series["beta"].iloc[:99]).all()
    y2 = y.copy()
    y2[500:] += 20
    b = analyze_pair(y2, x, window=100)
    np.testing.assert_array_equal(
        a.series["zscore"].to_numpy()[:500], b.series["zscore"].to_numpy()[:500]
    )


def test_json_safe_and_too_short():
    y, x = coint_pair(n=100)
    d = analyze_pair(y, x).to_dict()
    assert all(v is None or not isinstance(v, float) or math.isfinite(v) for v in d.values())
    with pytest.raises(InputError, match="at least 30"):
        analyze_pair(y[:10], x[:10])
