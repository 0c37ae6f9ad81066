"""numba kernel of the pair scan: the Engle-Granger residual ADF of many pairs in one call.

For each pair the OLS hedge (``beta``, ``alpha``) comes in precomputed (from the universe's
cross-products, see :func:`statarb.analytics.scan.pair_moments`); the kernel builds the residual
``e = y - alpha - beta * x`` and runs statsmodels' ``adfuller(e, regression="n")`` through the
normal equations instead of one least-squares fit per candidate lag:

* the Gram matrix of the largest ADF design ``[e_{t-1}, Δe_{t-1}, ..., Δe_{t-p}]`` is Toeplitz
  up to edge terms, so it costs ``O(n p)`` (lagged products of ``Δe`` and ``e``) plus an ``O(p²)``
  walk down each diagonal, not ``O(n p²)``;
* one Cholesky factor of that Gram gives the residual sum of squares of every nested model
  (lags ``0..p``), so the whole AIC/BIC/t-stat lag search shares one factorisation;
* the chosen lag's regression (on its own, longer sample, as statsmodels re-fits it) is a second
  small Gram from the same lagged products, with the level column last so its t-statistic is
  ``z_last / s``.

Everything is compiled once and cached on disk.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: status codes of a pair
OK, SHORT, CONSTANT, COLLINEAR, PREFILTERED, SINGULAR = 0, 1, 2, 3, 4, 5
#: autolag codes
AUTOLAG_NONE, AUTOLAG_AIC, AUTOLAG_BIC, AUTOLAG_TSTAT = 0, 1, 2, 3
_T_STOP = 1.6448536269514722  # norm.ppf(0.95), statsmodels' t-stat lag rule
_LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True)
def _lag_sums(e, d, t0, t1, k):  # pragma: no cover - compiled
    """Lagged products over rows ``t0..t1``: S[m] = Σ d[u] d[u-m], E[j] = Σ e[u] d[u-j]."""
    m = d.shape[0]
    r = d[::-1].copy()  # r[m-1-u+j] == d[u-j]: ascending in j, so the inner loop vectorises
    s = np.zeros(k + 1)
    ev = np.zeros(k + 1)
    ee = 0.0
    for u in range(t0, t1 + 1):
        du = d[u]
        eu = e[u]
        ee += eu * eu
        base = m - 1 - u
        for j in range(k + 1):
            rv = r[base + j]
            s[j] += du * rv
            ev[j] += eu * rv
    return s, ev, ee


@njit(cache=True)
def _diff_gram(d, s, t0, t1, k):  # pragma: no cover - compiled
    """D[i, j] = Σ_{u=t0}^{t1} d[u-i] d[u-j] for i, j in 0..k, from the lag-0 row ``s``."""
    g = np.empty((k + 1, k + 1))
    for mm in range(k + 1):
        v = s[mm]
        g[0, mm] = v
        g[mm, 0] = v
        for j in range(k - mm):
            # row j -> j + 1 on diagonal mm: add the row entering at the top, drop the bottom one
            v += d[t0 - j - 1] * d[t0 - j - 1 - mm] - d[t1 - j] * d[t1 - j - mm]
            g[j + 1, j + 1 + mm] = v
            g[j + 1 + mm, j + 1] = v
    return g


@njit(cache=True)
def _chol_solve(g, b):  # pragma: no cover - compiled
    """z = L⁻¹ (b / scale) for the Cholesky factor L of the unit-diagonal-scaled ``g``.

    Returns ``(z, ok)``; ``ok`` is False when the scaled Gram is not positive definite.
    """
    k = g.shape[0]
    sc = np.empty(k)
    for i in range(k):
        sc[i] = math.sqrt(g[i, i]) if g[i, i] > 0 else 1.0
    lo = np.zeros((k, k))
    z = np.empty(k)
    for i in range(k):
        for j in range(i + 1):
            acc = g[i, j] / (sc[i] * sc[j])
            for q in range(j):
                acc -= lo[i, q] * lo[j, q]
            if i == j:
                if not acc > 0:
                    return z, False
                lo[i, i] = math.sqrt(acc)
            else:
                lo[i, j] = acc / lo[j, j]
        acc = b[i] / sc[i]
        for q in range(i):
            acc -= lo[i, q] * z[q]
        z[i] = acc / lo[i, i]
    return z, True


@njit(cache=True)
def _select_lag(e, d, maxlag, autolag):  # pragma: no cover - compiled
    """statsmodels' autolag over lags 0..maxlag on the sample trimmed by ``maxlag``."""
    t1 = d.shape[0] - 1
    t0 = maxlag
    nobs = t1 - t0 + 1
    s, ev, ee = _lag_sums(e, d, t0, t1, maxlag)
    dg = _diff_gram(d, s, t0, t1, maxlag)
    k = maxlag + 1
    g = np.empty((k, k))  # columns: level, lag 1..maxlag
    rhs = np.empty(k)
    g[0, 0] = ee
    rhs[0] = ev[0]
    for j in range(1, k):
        g[0, j] = ev[j]
        g[j, 0] = ev[j]
        rhs[j] = s[j]
        for i in range(1, k):
            g[i, j] = dg[i, j]
    z, ok = _chol_solve(g, rhs)
    if not ok:
        return -1, math.nan
    yy = s[0]
    tiny = 2.2250738585072014e-308
    rss = np.empty(k)
    acc = 0.0
    for c in range(k):
        acc += z[c] * z[c]
        rss[c] = max(yy - acc, tiny)
    if autolag == AUTOLAG_TSTAT:
        for c in range(k - 1, -1, -1):
            t = abs(z[c] / math.sqrt(rss[c] / (nobs - c - 1)))
            if t >= _T_STOP or c == 0:
                return c, t
    best = 0
    best_ic = math.inf
    for c in range(k):
        llf = -nobs / 2.0 * (_LOG_2PI + math.log(rss[c] / nobs) + 1.0)
        pen = 2.0 * (c + 1) if autolag == AUTOLAG_AIC else math.log(nobs) * (c + 1)
        ic = -2.0 * llf + pen
        if ic < best_ic:
            best_ic = ic
            best = c
    return best, best_ic


@njit(cache=True)
def _level_tstat(e, d, lag):  # pragma: no cover - compiled
    """t-statistic of the level in Δe_t ~ e_{t-1} + Δe_{t-1..t-lag} (no constant)."""
    t1 = d.shape[0] - 1
    t0 = lag
    nobs = t1 - t0 + 1
    s, ev, ee = _lag_sums(e, d, t0, t1, lag)
    dg = _diff_gram(d, s, t0, t1, lag)
    k = lag + 1
    g = np.empty((k, k))  # columns: lag 1..lag, level last
    rhs = np.empty(k)
    for i in range(lag):
        for j in range(lag):
            g[i, j] = dg[i + 1, j + 1]
        g[i, lag] = ev[i + 1]
        g[lag, i] = ev[i + 1]
        rhs[i] = s[i + 1]
    g[lag, lag] = ee
    rhs[lag] = ev[0]
    z, ok = _chol_solve(g, rhs)
    if not ok:
        return math.nan, nobs
    rss = s[0]
    for c in range(k):
        rss -= z[c] * z[c]
    s2 = max(rss, 0.0) / (nobs - k)
    return z[lag] / math.sqrt(s2), nobs


@njit(cache=True)
def _compact(col_y, col_x):  # pragma: no cover - compiled
    n = col_y.shape[0]
    keep = 0
    for t in range(n):
        if math.isfinite(col_y[t]) and math.isfinite(col_x[t]):
            keep += 1
    y = np.empty(keep)
    x = np.empty(keep)
    k = 0
    for t in range(n):
        if math.isfinite(col_y[t]) and math.isfinite(col_x[t]):
            y[k] = col_y[t]
            x[k] = col_x[t]
            k += 1
    return y, x


@njit(cache=True)
def _half_life_b(e):  # pragma: no cover - compiled
    """Slope b of Δe_t = a + b e_{t-1} (two-pass sums, as ``meanreversion.half_life``)."""
    m = e.shape[0] - 1
    ml = 0.0
    md = 0.0
    for t in range(m):
        ml += e[t]
        md += e[t + 1] - e[t]
    ml /= m
    md /= m
    sxx = 0.0
    sxy = 0.0
    for t in range(m):
        dl = e[t] - ml
        sxx += dl * dl
        sxy += dl * (e[t + 1] - e[t] - md)
    return sxy / sxx if sxx > 0 else math.nan


@njit(cache=True)
def _return_corr(y, x):  # pragma: no cover - compiled
    m = y.shape[0] - 1
    my = 0.0
    mx = 0.0
    for t in range(m):
        my += y[t + 1] - y[t]
        mx += x[t + 1] - x[t]
    my /= m
    mx /= m
    syy = 0.0
    sxx = 0.0
    sxy = 0.0
    for t in range(m):
        a = y[t + 1] - y[t] - my
        b = x[t + 1] - x[t] - mx
        syy += a * a
        sxx += b * b
        sxy += a * b
    if syy <= 0 or sxx <= 0:
        return math.nan
    return sxy / math.sqrt(syy * sxx)


@njit(cache=True)
def eg_pairs(data, full, iy, ix, beta, alpha, status, maxlag, autolag):  # pragma: no cover
    """Residual ADF of every pair (``iy[k]`` on ``ix[k]``) of the columns of ``data``.

    ``data`` is Fortran-ordered (column-contiguous) with NaN where a symbol has no bar; ``full``
    flags columns without NaN (used as they are; other pairs are compacted to common rows).
    ``status`` comes in with SHORT/CONSTANT/COLLINEAR already set from the cross-products; the
    kernel fills the rest. ``maxlag < 0`` means statsmodels' default ``ceil(12 (n/100)^¼)``.

    Returns statistic, used lag, ADF nobs, information criterion, half-life slope and return
    correlation, one entry per pair.
    """
    npairs = iy.shape[0]
    stat = np.full(npairs, np.nan)
    lag = np.full(npairs, -1, dtype=np.int64)
    nobs = np.zeros(npairs, dtype=np.int64)
    icb = np.full(npairs, np.nan)
    hl_b = np.full(npairs, np.nan)
    corr = np.full(npairs, np.nan)
    for p in range(npairs):
        if status[p] != OK and status[p] != COLLINEAR:
            continue
        a = iy[p]
        b = ix[p]
        if full[a] and full[b]:
            y = data[:, a]
            x = data[:, b]
        else:
            y, x = _compact(data[:, a], data[:, b])
        n = y.shape[0]
        corr[p] = _return_corr(y, x)
        e = y - alpha[p] - beta[p] * x
        hl_b[p] = _half_life_b(e)
        if status[p] == COLLINEAR:
            stat[p] = -math.inf
            lag[p] = 0
            continue
        d = e[1:] - e[:-1]
        limit = n // 2 - 1
        default = math.ceil(12.0 * (n / 100.0) ** 0.25)
        ml = min(limit, default) if maxlag < 0 else min(maxlag, limit)
        used = ml
        if autolag != AUTOLAG_NONE:
            used, icb[p] = _select_lag(e, d, ml, autolag)
            if used < 0:
                status[p] = SINGULAR
                continue
        stat[p], nobs[p] = _level_tstat(e, d, used)
        lag[p] = used
        if not math.isfinite(stat[p]):
            status[p] = SINGULAR
    return stat, lag, nobs, icb, hl_b, corr
