"""Analytics against their baselines: Kalman, rolling OLS, Theil-Sen, z-score, ADF, pair scan."""

from __future__ import annotations

import time

import numpy as np

from bench._common import measure, report

SEED = 20240601


def _pair(n: int, level: float = 100.0, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = level + np.cumsum(rng.normal(0.0, 0.3, n))
    eps = rng.normal(0.0, 0.5, n)
    ou = np.empty(n)
    ou[0] = eps[0]
    for i in range(1, n):
        ou[i] = 0.95 * ou[i - 1] + eps[i]
    return 1.5 * x + 10.0 + ou, x


def _kalman_floor():
    from numba import njit

    @njit(cache=True)
    def floor(y, x, q, r):  # the same recursion keeping only beta and alpha (the baseline's)
        b = a = 0.0
        p00 = p11 = 1.0
        p01 = 0.0
        beta = np.empty(y.shape[0])
        alpha = np.empty(y.shape[0])
        for t in range(y.shape[0]):
            p00 += q
            p11 += q
            e = y[t] - (b * x[t] + a)
            h0 = p00 * x[t] + p01
            h1 = p01 * x[t] + p11
            s = x[t] * h0 + h1 + r
            k0, k1 = h0 / s, h1 / s
            b += k0 * e
            a += k1 * e
            p00, p01, p11 = p00 - k0 * h0, p01 - k0 * h1, p11 - k1 * h1
            beta[t] = b
            alpha[t] = a
        return beta, alpha

    return floor


def bench_kalman() -> None:
    from statarb.analytics.kalman import kalman_hedge

    y, x = _pair(1_000_000)
    t = time.perf_counter()
    kalman_hedge(y[:10], x[:10], obs_var=1.0)  # a fixed obs_var runs the kernel at once
    print(f"[kalman] first call (compile or cache load) {time.perf_counter() - t:.2f}s")
    floor = _kalman_floor()
    q = 1e-4 / (1 - 1e-4)
    ours, _ = measure(lambda: kalman_hedge(y, x, obs_var=2.5), repeat=5)
    base, _ = measure(lambda: floor(y, x, q, 2.5), repeat=5)
    report(
        "kalman",
        "1M points",
        ours,
        base,
        ours_name="kalman_hedge",
        base_name="numba scalar-loop floor",
        target="(target: within 2x of the floor)",
    )
    try:
        from pykalman import KalmanFilter
    except ImportError:
        return
    n = 3_000
    obs = np.column_stack([x[:n], np.ones(n)])[:, None, :]
    kf = KalmanFilter(
        n_dim_obs=1,
        n_dim_state=2,
        initial_state_mean=np.zeros(2),
        initial_state_covariance=np.eye(2),
        transition_matrices=np.eye(2),
        observation_matrices=obs,
        observation_covariance=2.5,
        transition_covariance=q * np.eye(2),
    )
    pk, _ = measure(lambda: kf.filter(y[:n]), repeat=1, warmup=0)
    ours_small, _ = measure(lambda: kalman_hedge(y[:n], x[:n], obs_var=2.5), repeat=20)
    report(
        "kalman",
        f"{n} points vs pykalman",
        ours_small,
        pk,
        ours_name="kalman_hedge",
        base_name="pykalman filter",
        target="(per point)",
    )


def bench_rolling_ols() -> None:
    import statsmodels.api as sm
    from statsmodels.regression.rolling import RollingOLS

    from statarb.analytics.regression import rolling_hedge_ratio

    y, x = _pair(100_000, level=84_000.0)
    rolling_hedge_ratio(y[:1000], x[:1000], window=500)
    ours, path = measure(lambda: rolling_hedge_ratio(y, x, window=500), repeat=7)
    exog = sm.add_constant(x)
    base, ref = measure(
        lambda: RollingOLS(y, exog, window=500).fit(params_only=True), repeat=1, warmup=0
    )
    rel = np.nanmax(np.abs(path.beta - ref.params[:, 1]) / np.abs(ref.params[:, 1]))
    exact = []
    for t in range(499, len(y), 997):
        dx = x[t - 499 : t + 1] - x[t - 499 : t + 1].mean()
        b = dx @ (y[t - 499 : t + 1] - y[t - 499 : t + 1].mean()) / (dx @ dx)
        exact.append(abs(path.beta[t] / b - 1))
    print(
        f"[rolling-ols] max rel diff vs exact centred per-window fits: {max(exact):.1e} "
        f"(statsmodels' own error on this ill-conditioned series: {rel:.1e})"
    )
    report(
        "rolling-ols",
        "window 500, 100k bars near 84,000",
        ours,
        base,
        ours_name="rolling_hedge_ratio",
        base_name="statsmodels RollingOLS params_only",
        target=f"(target >= 500x; max rel diff of beta {rel:.1e})",
    )


def bench_theil_sen() -> None:
    from scipy.stats import theilslopes

    from statarb.analytics.regression import hedge_ratio

    y, x = _pair(100_000)
    ours, _ = measure(lambda: hedge_ratio(y, x, method="theil-sen"), repeat=3)
    n = 5_000
    base, _ = measure(lambda: theilslopes(y[:n], x[:n]), repeat=1)
    exact = theilslopes(y[:n], x[:n]).slope
    small = hedge_ratio(y[:n], x[:n], method="theil-sen").beta
    print(
        f"[theil-sen] 100k points: {ours['median']:.3f}s (target < 1 s); scipy exact on {n}: "
        f"{base['median']:.3f}s; ours vs exact at {n}: rel diff {abs(small / exact - 1):.1e}"
    )


def bench_zscore() -> None:
    import pandas as pd

    from statarb.analytics.spread import zscore

    y, _ = _pair(1_000_000)
    s = pd.Series(y)
    zscore(y[:100], window=10)
    ours, _ = measure(lambda: zscore(y, window=500), repeat=7)
    base, _ = measure(lambda: ((s - s.rolling(500).mean()) / s.rolling(500).std()).to_numpy())
    report(
        "zscore",
        "window 500, 1M values",
        ours,
        base,
        ours_name="zscore",
        base_name="pandas rolling mean/std",
    )


def bench_adf() -> None:
    from statsmodels.tsa.stattools import adfuller

    from statarb.analytics.stationarity import adf

    rng = np.random.default_rng(SEED)
    for n, reps in ((10_000, 3), (100_000, 1)):
        s = np.cumsum(rng.normal(size=n))
        ours, res = measure(lambda s=s: adf(s), repeat=5)
        base, ref = measure(lambda s=s: adfuller(s, result_object=False), repeat=reps, warmup=0)
        report(
            "adf",
            f"autolag AIC, {n} points",
            ours,
            base,
            ours_name="adf",
            base_name="statsmodels adfuller",
            target=f"(target >= 100x; stat rel diff {abs(res.statistic / ref[0] - 1):.1e}, "
            f"lag {res.used_lag} vs {ref[2]})",
        )


def bench_scan() -> None:
    import pandas as pd

    from statarb.analytics.scan import scan_pairs

    rng = np.random.default_rng(SEED)
    n, k = 10_000, 50
    factors = np.cumsum(rng.normal(0, 0.01, (n, 5)), axis=0)
    cols = {f"S{i:02d}": np.exp(4 + factors[:, i % 5] + rng.normal(0, 0.003, n)) for i in range(k)}
    frame = pd.DataFrame(cols)
    t = time.perf_counter()
    res = scan_pairs(frame)
    took = time.perf_counter() - t
    print(
        f"[scan] 50 symbols x 10k bars ({res.tested} pairs): {took:.1f}s (target < 30 s); "
        f"{int(res.table['significant'].sum())} significant after BH",
        flush=True,
    )


def main() -> None:
    bench_kalman()
    bench_rolling_ols()
    bench_theil_sen()
    bench_zscore()
    bench_adf()
    bench_scan()
