"""numba kernels behind :mod:`statarb.bars` (imported lazily: numba loads only when bars are built).

Each kernel makes one pass over its input and reports a status code: ``0`` ok, ``1`` the input
is not sorted by time (the caller sorts and calls again).

The tick kernel does not test every price and size for finiteness: a NaN or infinite price or
size always makes its bar's notional non-finite (``inf * 0`` is NaN), so the caller checks the
short output column instead of the long input.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from statarb.model import SIDE_BUYER_TAKER

# the tick kernel's taker-buy weight assumes this side code
assert SIDE_BUYER_TAKER == 0

OK = 0
UNSORTED = 1


def bar_capacity(ts: np.ndarray, step: int) -> int:
    """Most bars sorted ticks ``ts`` can fill: at most one per tick and one per interval."""
    n = len(ts)
    if n == 0:
        return 0
    first, last = int(ts[0]), int(ts[-1])
    if last < first:
        return n
    return min(n, (last - (first - first % step)) // step + 1)


@njit(cache=True, nogil=True)
def ohlcv_from_ticks(ts, price, size, side, step, ints, floats):
    """Bars of non-empty intervals from ticks sorted by ``ts`` (ties keep input order).

    Writes open_time and trades into the rows of ``ints`` (2 x m) and open, high, low, close,
    volume, notional and taker-buy volume into the rows of ``floats`` (7 x m), where ``m`` is
    :func:`bar_capacity`; the caller allocates them as two numpy blocks (numpy may back
    large blocks with huge pages). Returns (status, bars written).
    """
    n = ts.shape[0]
    m = ints.shape[1]
    ot = ints[0]
    k = ints[1]
    o = floats[0]
    h = floats[1]
    lo = floats[2]
    c = floats[3]
    v = floats[4]
    nt = floats[5]
    tb = floats[6]
    j = -1
    bound = np.int64(0)
    prev = np.int64(0)
    hi_ = lo_ = v_ = nt_ = tb_ = 0.0
    k_ = 0
    for i in range(n):
        t = ts[i]
        p = price[i]
        q = size[i]
        if i > 0 and t < prev:
            return UNSORTED, 0
        prev = t
        if i == 0 or t >= bound:
            if j >= 0:
                h[j] = hi_
                lo[j] = lo_
                c[j] = price[i - 1]
                v[j] = v_
                nt[j] = nt_
                k[j] = k_
                tb[j] = tb_
            j += 1
            if j >= m:  # more intervals than sorted ticks could fill: the input is unsorted
                return UNSORTED, 0
            # the next interval is the usual case: skip the (slow) 64-bit division
            b = bound if (i > 0 and t < bound + step) else t - t % step
            ot[j] = b
            bound = b + step
            o[j] = p
            hi_ = p
            lo_ = p
            v_ = 0.0
            nt_ = 0.0
            tb_ = 0.0
            k_ = 0
        else:
            hi_ = max(hi_, p)
            lo_ = min(lo_, p)
        v_ += q
        nt_ += p * q
        k_ += 1
        # weight 1 when the buyer was the taker (code 0), else 0: integer arithmetic, because a
        # compare-and-convert here costs about 3x the whole pass (sides are unpredictable)
        s = np.int64(side[i])
        tb_ += q * (1 - min(s * s, 1))
    if j >= 0:
        h[j] = hi_
        lo[j] = lo_
        c[j] = price[n - 1]
        v[j] = v_
        nt[j] = nt_
        k[j] = k_
        tb[j] = tb_
    return OK, j + 1


@njit(cache=True, nogil=True)
def ohlcv_from_bars(ot_in, o_in, h_in, l_in, c_in, v_in, nt_in, k_in, tb_in, step):
    """Coarser bars from finer bars sorted by open time.

    Bars without trades and volume (carried, empty intervals) take part in open/high/low/close
    only when the whole target interval has nothing else, so carried prices never widen a range.
    """
    n = ot_in.shape[0]
    ot = np.empty(n, np.int64)
    o = np.empty(n)
    h = np.empty(n)
    lo = np.empty(n)
    c = np.empty(n)
    v = np.empty(n)
    nt = np.empty(n)
    k = np.empty(n, np.int64)
    tb = np.empty(n)
    j = -1
    bound = np.int64(0)
    active = False
    for i in range(n):
        t = ot_in[i]
        if i > 0 and t <= ot_in[i - 1]:
            return ot[:0], o[:0], h[:0], lo[:0], c[:0], v[:0], nt[:0], k[:0], tb[:0], UNSORTED, i
        live = k_in[i] > 0 or v_in[i] > 0.0
        if i == 0 or t >= bound:
            j += 1
            b = t - t % step
            ot[j] = b
            bound = b + step
            o[j] = o_in[i]
            h[j] = h_in[i]
            lo[j] = l_in[i]
            c[j] = c_in[i]
            v[j] = 0.0
            nt[j] = 0.0
            k[j] = 0
            tb[j] = 0.0
            active = live
        elif live and not active:
            o[j] = o_in[i]
            h[j] = h_in[i]
            lo[j] = l_in[i]
            c[j] = c_in[i]
            active = True
        elif live or not active:
            if h_in[i] > h[j]:
                h[j] = h_in[i]
            if l_in[i] < lo[j]:
                lo[j] = l_in[i]
            c[j] = c_in[i]
        v[j] += v_in[i]
        nt[j] += nt_in[i]
        k[j] += k_in[i]
        tb[j] += tb_in[i]
    m = j + 1
    return ot[:m], o[:m], h[:m], lo[:m], c[:m], v[:m], nt[:m], k[:m], tb[:m], OK, -1
