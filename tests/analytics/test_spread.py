import numpy as np
import pandas as pd
import pytest
from _data import coint_pair

from statarb.analytics.regression import rolling_hedge_ratio
from statarb.analytics.spread import (
    EwmZScore,
    RollingOLS,
    RollingZScore,
    ewm_zscore,
    spread,
    zscore,
)
from statarb.errors import InputError


def test_spread_scalar_and_path():
    y, x = coint_pair(n=100)
    np.testing.assert_allclose(spread(y, x, 1.5, 10.0), y - 1.5 * x - 10.0)
    b = np.linspace(1, 2, 100)
    np.testing.assert_allclose(spread(y, x, b), y - b * x)


def test_zscore_equals_pandas_with_large_offset():
    rng = np.random.default_rng(3)
    v = 84_000 + np.cumsum(rng.normal(0, 5, 5000))
    s = pd.Series(v)
    ref = ((s - s.rolling(60).mean()) / s.rolling(60).std()).to_numpy()
    z = zscore(v, window=60)
    assert np.isnan(z[:59]).all()
    np.testing.assert_allclose(z[59:], ref[59:], rtol=1e-8, atol=1e-8)


def test_zscore_nan_and_constant_windows():
    v = np.r_[np.ones(10), np.arange(10.0)]
    z = zscore(v, window=5)
    assert np.isnan(z[4:10]).all()  # constant window: undefined, not inf
    v2 = np.arange(20.0)
    v2[7] = np.nan
    z2 = zscore(v2, window=5)
    assert np.isnan(z2[7:12]).all() and np.isfinite(z2[12:]).all()


def test_ewm_zscore_equals_pandas():
    y, _ = coint_pair(n=1000)
    s = pd.Series(y)
    m = s.ewm(halflife=20, adjust=False).mean()
    v = s.ewm(halflife=20, adjust=False).var(bias=True)
    ref = ((s - m) / np.sqrt(v)).to_numpy()
    np.testing.assert_allclose(ewm_zscore(y, halflife=20)[1:], ref[1:], rtol=1e-9)


def test_incremental_twins_equal_batch():
    y, x = coint_pair(n=400)
    rz = RollingZScore(30)
    np.testing.assert_allclose([rz.update(v) for v in y], zscore(y, window=30), rtol=1e-9)
    ez = EwmZScore(15)
    np.testing.assert_allclose([ez.update(v) for v in y], ewm_zscore(y, halflife=15), rtol=1e-12)
    ro = RollingOLS(50)
    out = np.array([ro.update(a, b) for a, b in zip(y, x, strict=True)])
    path = rolling_hedge_ratio(y, x, window=50)
    np.testing.assert_allclose(out[:, 0], path.beta, rtol=1e-9)
    np.testing.assert_allclose(out[:, 1], path.alpha, rtol=1e-7)
    assert ro.ready and rz.ready and ez.ready


def test_no_look_ahead():
    y, _ = coint_pair(n=300)
    y2 = y.copy()
    y2[150:] += 30
    np.testing.assert_array_equal(zscore(y, window=20)[:150], zscore(y2, window=20)[:150])
    np.testing.assert_array_equal(ewm_zscore(y, halflife=9)[:150], ewm_zscore(y2, halflife=9)[:150])


def test_validation():
    with pytest.raises(InputError, match="window"):
        zscore([1.0, 2.0, 3.0], window=1)
    with pytest.raises(InputError, match="halflife"):
        ewm_zscore([1.0, 2.0], halflife=0)
    with pytest.raises(InputError, match="same length"):
        spread([1.0], [1.0, 2.0], 1.0)


@pytest.mark.parametrize("numpy_max", [0, 10_000])
def test_rolling_zscore_skips_a_warm_up_of_nans_in_the_block_scheme(monkeypatch, numpy_max):
    """Leading NaNs stay off the pandas path, in the compiled kernel and in its numpy twin."""
    import pandas as pd

    import statarb.analytics._kernels as kernels
    import statarb.analytics._window as window
    import statarb.analytics.spread as spread_mod

    y, _ = coint_pair(n=300)
    v = y.copy()
    v[:37] = np.nan  # a shifted hedge ratio's warm-up
    ref = pd.Series(v)
    want = ((ref - ref.rolling(20).mean()) / ref.rolling(20).std()).to_numpy()
    calls = []
    mod = window if numpy_max else kernels
    real = mod.rolling_mean_std
    monkeypatch.setattr(mod, "rolling_mean_std", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(spread_mod, "NUMPY_MAX", numpy_max)
    np.testing.assert_allclose(zscore(v, window=20), want, rtol=1e-9)
    assert calls, f"{mod.__name__}.rolling_mean_std was not used"
    assert np.isnan(zscore(np.r_[np.full(295, np.nan), y[:5]], window=20)).all()


@pytest.mark.parametrize(
    ("n", "window"), [(40_320, 60), (1_000, 7), (100, 2), (61, 60), (60, 60), (12_345, 1_000)]
)
@pytest.mark.parametrize("ddof", [0, 1])
def test_numpy_rolling_mean_std_is_the_compiled_kernel_bit_for_bit(n, window, ddof):
    from statarb.analytics._kernels import rolling_mean_std as compiled
    from statarb.analytics._window import rolling_mean_std

    rng = np.random.default_rng(n + window)
    v = 84_000 + np.cumsum(rng.normal(0, 5, n))  # prices whose digits cancellation would eat
    v[n // 3 : n // 3 + 3 * window] = v[n // 3]  # a flat stretch: zero variance
    for got, want in zip(rolling_mean_std(v, window, ddof), compiled(v, window, ddof), strict=True):
        np.testing.assert_array_equal(got, want)
    short = rolling_mean_std(v[: window - 1], window, ddof)
    assert np.isnan(short[0]).all() and np.isnan(short[1]).all()
