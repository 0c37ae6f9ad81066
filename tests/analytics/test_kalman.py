import numpy as np
import pytest
from _data import coint_pair, kline_closes

from statarb.analytics.kalman import KalmanHedge, kalman_hedge
from statarb.errors import InputError


def reference_filter(y, x, delta, r, beta0, alpha0, p0):
    """Matrix-form Kalman filter written independently of statarb."""
    q = delta / (1 - delta) * np.eye(2)
    theta = np.array([beta0, alpha0], dtype=float)
    P = p0 * np.eye(2)
    prior, post, errs, vars_ = [], [], [], []
    for xt, yt in zip(x, y, strict=True):
        P = P + q
        H = np.array([xt, 1.0])
        e = yt - H @ theta
        S = H @ P @ H + r
        K = P @ H / S
        prior.append(theta.copy())
        theta = theta + K * e
        P = P - np.outer(K, H) @ P
        post.append(theta.copy())
        errs.append(e)
        vars_.append(S)
    return np.array(prior), np.array(post), np.array(errs), np.array(vars_)


def test_batch_equals_reference_and_incremental():
    y, x = coint_pair(n=800)
    res = kalman_hedge(y, x, delta=1e-4, obs_var=0.3, p0=1.0)
    prior, post, errs, var = reference_filter(y, x, 1e-4, 0.3, 0.0, 0.0, 1.0)
    np.testing.assert_allclose(res.beta, prior[:, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.alpha_post, post[:, 1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.forecast_error, errs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.forecast_var, var, rtol=1e-9)
    kf = KalmanHedge(delta=1e-4, obs_var=0.3, p0=1.0)
    steps = [kf.update(a, b) for a, b in zip(y, x, strict=True)]
    np.testing.assert_allclose([s.beta for s in steps], res.beta, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose([s.zscore for s in steps], res.zscore, rtol=1e-10, atol=1e-12)
    assert kf.ready and kf.value is steps[-1]


def test_cross_check_with_pykalman():
    pykalman = pytest.importorskip("pykalman")
    y, x = coint_pair(n=300)
    delta, r, p0 = 1e-4, 0.5, 1.0
    obs = np.column_stack([x, np.ones_like(x)])[:, None, :]
    kf = pykalman.KalmanFilter(
        n_dim_obs=1,
        n_dim_state=2,
        initial_state_mean=np.zeros(2),
        initial_state_covariance=p0 * np.eye(2) + delta / (1 - delta) * np.eye(2),
        transition_matrices=np.eye(2),
        observation_matrices=obs,
        observation_covariance=r,
        transition_covariance=delta / (1 - delta) * np.eye(2),
    )
    means, _ = kf.filter(y)
    res = kalman_hedge(y, x, delta=delta, obs_var=r, p0=p0)
    np.testing.assert_allclose(res.beta_post, means[:, 0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(res.alpha_post, means[:, 1], rtol=1e-6, atol=1e-6)


def test_recovers_beta_and_tracks_a_step():
    y, x = coint_pair(n=4000, alpha=0.0)
    res = kalman_hedge(y, x, delta=1e-5, obs_var="auto")
    assert res.beta_post[-1] == pytest.approx(1.5, abs=0.05)
    rng = np.random.default_rng(2)
    n = 3000
    x = 50 + np.cumsum(rng.normal(0, 0.5, n))
    b = np.where(np.arange(n) < 1500, 1.0, 2.0)
    y = b * x + rng.normal(0, 0.2, n)
    res = kalman_hedge(y, x, delta=1e-3, obs_var=0.04)
    assert res.beta_post[1400] == pytest.approx(1.0, abs=0.05)
    assert res.beta_post[1700] == pytest.approx(2.0, abs=0.05)


def test_no_look_ahead():
    y, x = coint_pair(n=500)
    a = kalman_hedge(y, x, obs_var=0.5)
    y2 = y.copy()
    y2[250:] *= 1.1
    b = kalman_hedge(y2, x, obs_var=0.5)
    # the prior at t=250 is built from data before 250 only
    np.testing.assert_array_equal(a.beta[:251], b.beta[:251])
    np.testing.assert_array_equal(a.alpha[:251], b.alpha[:251])
    assert a.forecast_error[250] != b.forecast_error[250]


def test_auto_obs_var_uses_only_the_warmup():
    y, x = coint_pair(n=500)
    y2 = y.copy()
    y2[200:] += 100
    a, b = kalman_hedge(y, x, obs_var="auto"), kalman_hedge(y2, x, obs_var="auto")
    assert a.obs_var == b.obs_var
    np.testing.assert_array_equal(a.beta[:201], b.beta[:201])


def test_auto_warmup_is_nan_and_the_filter_starts_from_the_warmup_fit():
    y, x = coint_pair(n=300)
    res = kalman_hedge(y, x, warmup=60)
    assert res.warmup == 60
    assert np.isnan(res.beta[:60]).all() and np.isnan(res.zscore[:60]).all()
    assert np.isfinite(res.beta[60:]).all()
    ols = np.polyfit(x[:60], y[:60], 1)
    assert res.beta[60] == pytest.approx(ols[0], rel=1e-9)  # not 0
    assert res.alpha[60] == pytest.approx(ols[1], rel=1e-9)
    short = kalman_hedge(y[:50], x[:50], warmup=60)
    assert np.isnan(short.beta).all()


def test_auto_is_the_default_everywhere():
    import inspect

    from statarb.backtest import BacktestConfig

    assert inspect.signature(kalman_hedge).parameters["obs_var"].default == "auto"
    assert inspect.signature(KalmanHedge).parameters["obs_var"].default == "auto"
    assert BacktestConfig().obs_var == "auto"


def test_auto_batch_equals_incremental():
    y, x = coint_pair(n=400, level=84_000.0, step=60.0)
    res = kalman_hedge(y, x, warmup=40)
    kf = KalmanHedge(warmup=40)
    steps = [kf.update(a, b) for a, b in zip(y, x, strict=True)]
    np.testing.assert_allclose([s.beta for s in steps], res.beta, rtol=1e-10)
    # alpha is a difference of prices near 84,000: compare it on the price scale
    np.testing.assert_allclose([s.alpha for s in steps], res.alpha, rtol=0, atol=1e-11 * y.max())
    np.testing.assert_allclose([s.zscore for s in steps], res.zscore, rtol=1e-8, atol=1e-10)
    assert steps[-1].beta_post == pytest.approx(res.beta_last, rel=1e-10)


def test_bad_parameters():
    y, x = coint_pair(n=50)
    with pytest.raises(InputError, match="delta"):
        kalman_hedge(y, x, delta=1.5)
    with pytest.raises(InputError, match="obs_var"):
        kalman_hedge(y, x, obs_var=0.0)
    with pytest.raises(InputError, match="warm-up"):
        kalman_hedge(y, x, warmup=2)
    with pytest.raises(InputError, match="finite"):
        KalmanHedge().update(float("nan"), 1.0)


@pytest.mark.slow
def test_real_klines_batch_equals_incremental(shared_data):
    df = kline_closes(shared_data).iloc[:5000]
    y, x = df["AVAXUSDT"].to_numpy(), df["LINKUSDT"].to_numpy()
    res = kalman_hedge(y, x)
    kf = KalmanHedge()
    last = [kf.update(a, b) for a, b in zip(y, x, strict=True)][-1]
    assert last.beta_post == pytest.approx(res.beta_last, rel=1e-10)
    assert np.isfinite(res.zscore[res.warmup :]).all()
