"""Numba kernel of the rolling AR(1) half-life (imported lazily)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def rolling_half_life_kernel(s, window, ref):  # pragma: no cover - compiled
    """Half-life over the ``window`` transitions ending at each bar (NaN where incomplete).

    Running sums of ``a = s[t-1] - ref`` and ``b = s[t] - ref`` over the window, recomputed
    exactly every ``window`` bars so that rounding does not accumulate.
    """
    n = s.shape[0]
    out = np.full(n, np.nan)
    sa = 0.0
    sb = 0.0
    saa = 0.0
    sab = 0.0
    cnt = 0
    log2 = np.log(2.0)
    for t in range(1, n):
        a = s[t - 1] - ref
        b = s[t] - ref
        if np.isfinite(a) and np.isfinite(b):
            sa += a
            sb += b
            saa += a * a
            sab += a * b
            cnt += 1
        j = t - window  # the transition leaving the window
        if j >= 1:
            a0 = s[j - 1] - ref
            b0 = s[j] - ref
            if np.isfinite(a0) and np.isfinite(b0):
                sa -= a0
                sb -= b0
                saa -= a0 * a0
                sab -= a0 * b0
                cnt -= 1
        if t % window == 0:
            sa = 0.0
            sb = 0.0
            saa = 0.0
            sab = 0.0
            cnt = 0
            for i in range(max(1, t - window + 1), t + 1):
                a1 = s[i - 1] - ref
                b1 = s[i] - ref
                if np.isfinite(a1) and np.isfinite(b1):
                    sa += a1
                    sb += b1
                    saa += a1 * a1
                    sab += a1 * b1
                    cnt += 1
        if t < window or cnt != window:
            continue
        sxx = saa - sa * sa / window
        sxy = sab - sa * sb / window
        if not sxx > 0.0:
            continue
        phi = sxy / sxx
        if phi >= 1.0:
            out[t] = np.inf
        elif phi > 0.0:
            out[t] = -log2 / np.log(phi)
    return out
