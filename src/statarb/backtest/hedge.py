"""Hedge-ratio paths and z-scores a backtest may use at each bar: data before the bar only."""

from __future__ import annotations

import numpy as np

from statarb._typing import Float64Array
from statarb.analytics.kalman import DEFAULT_WARMUP, kalman_hedge
from statarb.analytics.regression import expanding_hedge_ratio, hedge_ratio, rolling_hedge_ratio
from statarb.analytics.spread import zscore
from statarb.backtest.config import BacktestConfig


def _shift(a: Float64Array) -> Float64Array:
    out = np.empty_like(a)
    out[0] = np.nan
    out[1:] = a[:-1]
    return out


def hedge_path(
    y: Float64Array, x: Float64Array, config: BacktestConfig
) -> tuple[Float64Array, Float64Array, bool]:
    """``(beta, alpha, in_sample)`` where ``beta[t]``, ``alpha[t]`` use data before bar ``t``.

    Rolling and expanding OLS fits that include bar ``t - 1`` are shifted to ``t``; the Kalman
    filter's prior is already built from data before ``t``, and its warm-up of ``hedge_window``
    bars (default :data:`~statarb.analytics.kalman.DEFAULT_WARMUP`) is NaN. ``"static"`` is one
    full-sample fit: every bar sees the future, so the result is flagged in-sample.
    """
    n = len(y)
    if config.method == "kalman":
        warm = min(config.hedge_window or DEFAULT_WARMUP, n)
        res = kalman_hedge(y, x, delta=config.delta, obs_var=config.obs_var, warmup=warm)
        beta, alpha = res.beta.copy(), res.alpha.copy()
        beta[:warm] = np.nan  # the warm-up (also with a fixed obs_var, where the filter settles)
        alpha[:warm] = np.nan
        return beta, alpha, False
    if config.method == "static":
        fit = hedge_ratio(y, x)
        return np.full(n, fit.beta), np.full(n, fit.intercept), True
    if config.method == "expanding":
        path = expanding_hedge_ratio(y, x, min_periods=min(config.hedge_window or 30, n))
    else:
        path = rolling_hedge_ratio(y, x, window=min(config.hedge_window or config.window, n))
    return _shift(path.beta), _shift(path.alpha), False


def signal_inputs(
    y: Float64Array, x: Float64Array, config: BacktestConfig
) -> tuple[Float64Array, Float64Array, Float64Array, Float64Array, bool]:
    """``(beta, alpha, spread, z, in_sample)``: z over ``config.window`` bars ending at each bar."""
    beta, alpha, in_sample = hedge_path(y, x, config)
    spread = y - (beta * x + alpha)
    z = zscore(spread, window=min(config.window, len(y)))
    return beta, alpha, spread, z, in_sample


__all__ = ["hedge_path", "signal_inputs"]
