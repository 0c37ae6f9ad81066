"""Numba kernels of the overfitting statistics (imported lazily)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def trial_kernel(r, blocks):  # pragma: no cover - compiled
    """Per-block sums of ``r`` and ``r**2`` (``blocks`` blocks, trailing values dropped) and the
    Sharpe (ddof 1), skewness and kurtosis (biased moments) of all of ``r``."""
    n = r.shape[0]
    size = n // blocks if blocks > 0 else 0
    s1 = np.zeros(blocks)
    s2 = np.zeros(blocks)
    total = 0.0
    for i in range(n):
        v = r[i]
        total += v
        if size > 0 and i < size * blocks:
            b = i // size
            s1[b] += v
            s2[b] += v * v
    mean = total / n
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    for i in range(n):
        c = r[i] - mean
        c2 = c * c
        m2 += c2
        m3 += c2 * c
        m4 += c2 * c2
    sd = np.sqrt(m2 / (n - 1))
    sr = mean / sd if sd > 0 else np.nan
    m2 /= n
    if m2 <= 0:
        return s1, s2, size, sr, 0.0, 3.0
    return s1, s2, size, sr, (m3 / n) / m2**1.5, (m4 / n) / (m2 * m2)


@njit(cache=True)
def cscv_kernel(train, s1, s2, size):  # pragma: no cover - compiled
    """For each split (a row of ``train``: the training blocks), the in-sample best
    configuration's logit of relative out-of-sample rank, and its in/out-of-sample Sharpe."""
    n_split, half = train.shape
    n_blocks, n_cfg = s1.shape
    k = size * half
    tot1 = np.zeros(n_cfg)
    tot2 = np.zeros(n_cfg)
    for b in range(n_blocks):
        for j in range(n_cfg):
            tot1[j] += s1[b, j]
            tot2[j] += s2[b, j]
    logits = np.empty(n_split)
    is_sr = np.empty(n_split)
    oos_sr = np.empty(n_split)
    in1 = np.empty(n_cfg)
    in2 = np.empty(n_cfg)
    out = np.empty(n_cfg)
    for c in range(n_split):
        in1[:] = 0.0
        in2[:] = 0.0
        for h in range(half):
            b = train[c, h]
            for j in range(n_cfg):
                in1[j] += s1[b, j]
                in2[j] += s2[b, j]
        best = 0
        best_sr = -np.inf
        for j in range(n_cfg):
            mi = in1[j] / k
            vi = (in2[j] - k * mi * mi) / (k - 1)
            sri = mi / np.sqrt(vi) if vi > 0 else 0.0
            if sri > best_sr:
                best_sr = sri
                best = j
            mo = (tot1[j] - in1[j]) / k
            vo = (tot2[j] - in2[j] - k * mo * mo) / (k - 1)
            out[j] = mo / np.sqrt(vo) if vo > 0 else 0.0
        chosen = out[best]
        below = 0
        ties = 0
        for j in range(n_cfg):
            if out[j] < chosen:
                below += 1
            elif out[j] == chosen:
                ties += 1
        w = (below + (ties + 1) / 2.0) / (n_cfg + 1)
        logits[c] = np.log(w / (1.0 - w))
        is_sr[c] = best_sr
        oos_sr[c] = chosen
    return logits, is_sr, oos_sr
