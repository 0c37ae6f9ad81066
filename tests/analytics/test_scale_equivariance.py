"""Scale equivariance of every hedge estimator, from price levels 1e-4 to 1e6.

A hedge ratio is a ratio of prices: multiplying ``y`` by ``c`` must multiply beta by ``c``, and
multiplying both legs by ``c`` must leave it unchanged. A penalty or a tolerance in price units
breaks this (a Huber fit penalised on rescaled x gave 0.67 instead of 1.5 at BTC's level).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statarb.analytics.kalman import kalman_hedge
from statarb.analytics.regression import (
    basket_hedge_ratio,
    expanding_hedge_ratio,
    hedge_ratio,
    rolling_hedge_ratio,
)

N = 80
W = 30

Estimator = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _static(method: str) -> Estimator:
    return lambda y, x: np.array([hedge_ratio(y, x, method=method).beta])  # type: ignore[arg-type]


def _rolling(method: str) -> Estimator:
    return lambda y, x: rolling_hedge_ratio(y, x, window=W, method=method).beta  # type: ignore[arg-type]


def _expanding(method: str) -> Estimator:
    return lambda y, x: expanding_hedge_ratio(y, x, min_periods=W, method=method).beta  # type: ignore[arg-type]


def _basket(method: str) -> Estimator:
    def run(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        X = np.column_stack([x, x[::-1] + 0.1 * x.mean()])  # a second leg on the same level
        return basket_hedge_ratio(y, X, method=method).betas  # type: ignore[arg-type]

    return run


def _kalman(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return kalman_hedge(y, x, warmup=W).beta


ESTIMATORS: dict[str, tuple[Estimator, float]] = {
    **{f"static:{m}": (_static(m), 1e-7) for m in ("ols", "huber", "theil-sen")},
    **{f"rolling:{m}": (_rolling(m), 1e-6) for m in ("ols", "huber", "theil-sen")},
    **{f"expanding:{m}": (_expanding(m), 1e-6) for m in ("ols", "huber", "theil-sen")},
    **{f"basket:{m}": (_basket(m), 1e-7) for m in ("ols", "huber")},
    "kalman": (_kalman, 1e-7),
}


def _pair(level: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = level * (1.0 + np.cumsum(rng.normal(0.0, 0.01, N)))
    noise = rng.standard_t(3, N) * 0.004 * level  # fat tails: Huber has work to do
    return 1.5 * x + 0.2 * level + noise, x


levels = st.floats(min_value=-4.0, max_value=6.0).map(lambda e: 10.0**e)
factors = st.floats(min_value=-3.0, max_value=3.0).map(lambda e: 10.0**e)


def _check(name: str, level: float, c: float, seed: int) -> None:
    est, rtol = ESTIMATORS[name]
    y, x = _pair(level, seed)
    beta = est(y, x)
    assert np.isfinite(beta).any()
    typical = beta[0] if name.startswith("basket") else np.nanmedian(beta)  # the leg y tracks
    assert abs(typical / 1.5 - 1.0) < 0.5, f"{name}: beta {typical}"
    np.testing.assert_allclose(est(c * y, x), c * beta, rtol=rtol, err_msg=f"{name}: y * {c}")
    np.testing.assert_allclose(est(c * y, c * x), beta, rtol=rtol, err_msg=f"{name}: both * {c}")


def _property(name: str) -> Callable[[], None]:
    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(level=levels, c=factors, seed=st.integers(0, 1000))
    def prop(level: float, c: float, seed: int) -> None:
        _check(name, level, c, seed)

    return prop


for _name in ESTIMATORS:
    globals()[f"test_scale_equivariance_{_name.replace(':', '_').replace('-', '_')}"] = _property(
        _name
    )


def test_extreme_levels_explicitly() -> None:
    for name in ESTIMATORS:
        for level in (1e-4, 84_000.0, 1e6):
            _check(name, level, 1e3, 7)
