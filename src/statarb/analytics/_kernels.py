"""numba kernels behind the analytics (imported lazily, compiled once and cached on disk)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def rolling_ols(y, x, window):  # pragma: no cover - compiled
    """Rolling OLS y ~ x + c over windows ending at t (inclusive).

    Sums are kept on data shifted by a local reference and rebuilt from scratch every ``window``
    steps, so prices like 84,000 lose no precision to cancellation or accumulated rounding.
    """
    n = y.shape[0]
    beta = np.full(n, np.nan)
    alpha = np.full(n, np.nan)
    cx = 0.0
    cy = 0.0
    sx = sy = sxx = sxy = 0.0
    for t in range(window - 1, n):
        start = t - window + 1
        if (t - (window - 1)) % window == 0:
            cx = x[t]
            cy = y[t]
            sx = sy = sxx = sxy = 0.0
            for i in range(start, t + 1):
                dx = x[i] - cx
                dy = y[i] - cy
                sx += dx
                sy += dy
                sxx += dx * dx
                sxy += dx * dy
        else:
            dx = x[t] - cx
            dy = y[t] - cy
            ox = x[start - 1] - cx
            oy = y[start - 1] - cy
            sx += dx - ox
            sy += dy - oy
            sxx += dx * dx - ox * ox
            sxy += dx * dy - ox * oy
        mx = sx / window
        my = sy / window
        vxx = sxx - sx * mx
        if vxx > 0.0:
            b = (sxy - sx * my) / vxx
            beta[t] = b
            alpha[t] = (my + cy) - b * (mx + cx)
    return beta, alpha


@njit(cache=True)
def expanding_ols(y, x, min_periods):  # pragma: no cover - compiled
    """Expanding OLS y ~ x + c with Welford updates (fit on [0, t])."""
    n = y.shape[0]
    beta = np.full(n, np.nan)
    alpha = np.full(n, np.nan)
    mx = my = cxx = cxy = 0.0
    for t in range(n):
        k = t + 1
        dx = x[t] - mx
        mx += dx / k
        my += (y[t] - my) / k
        cxx += dx * (x[t] - mx)
        cxy += dx * (y[t] - my)
        if k >= min_periods and cxx > 0.0:
            b = cxy / cxx
            beta[t] = b
            alpha[t] = my - b * mx
    return beta, alpha


@njit(cache=True)
def rolling_mean_std(v, window, ddof):  # pragma: no cover - compiled
    """Rolling mean and standard deviation over windows ending at t (same scheme as above)."""
    n = v.shape[0]
    mean = np.full(n, np.nan)
    std = np.full(n, np.nan)
    c = 0.0
    s = ss = 0.0
    for t in range(window - 1, n):
        start = t - window + 1
        if (t - (window - 1)) % window == 0:
            c = v[t]
            s = ss = 0.0
            for i in range(start, t + 1):
                d = v[i] - c
                s += d
                ss += d * d
        else:
            d = v[t] - c
            o = v[start - 1] - c
            s += d - o
            ss += d * d - o * o
        m = s / window
        var = (ss - s * m) / (window - ddof)
        mean[t] = m + c
        std[t] = np.sqrt(var) if var > 0.0 else 0.0
    return mean, std


@njit(cache=True)
def kalman_filter(y, x, q, r, beta0, alpha0, p00, p01, p11):  # pragma: no cover - compiled
    """Kalman filter of y_t = beta_t x_t + alpha_t + e_t with random-walk state [beta, alpha].

    Returns the prior state (used to forecast y_t), the forecast error and its variance, and the
    final posterior state. With a random-walk state the posterior after y_t is the prior of
    t + 1, so nothing else needs storing. ``p00, p01, p11`` is the initial state covariance.
    """
    n = y.shape[0]
    b_pr = np.empty(n)
    a_pr = np.empty(n)
    err = np.empty(n)
    fv = np.empty(n)
    b = beta0
    a = alpha0
    for t in range(n):
        p00 += q
        p11 += q
        xt = x[t]
        e = y[t] - (b * xt + a)
        ph0 = p00 * xt + p01
        ph1 = p01 * xt + p11
        s = xt * ph0 + ph1 + r
        b_pr[t] = b
        a_pr[t] = a
        err[t] = e
        fv[t] = s
        k0 = ph0 / s
        k1 = ph1 / s
        b += k0 * e
        a += k1 * e
        n00 = p00 - k0 * ph0
        n01 = p01 - k0 * ph1
        n11 = p11 - k1 * ph1
        p00 = n00
        p01 = n01
        p11 = n11
    return b_pr, a_pr, err, fv, b, a
