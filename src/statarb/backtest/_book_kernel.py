"""The compiled bar loop of the portfolio backtester (numba; imported lazily).

Many pairs share one clock, one cash account and the symbols' net positions. Each pair trades
z-score mean reversion like the single-pair loop: decide at a bar's close, fill at the next bar.
Each leg is accounted on its own (``L_*`` rows); each pair trade (``P_*`` rows) accumulates its
mark-to-market, costs and funding bar by bar, so a pair's P&L and the sum of its legs' P&L are two
independent computations of the same number.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# pair trade columns
P_PAIR, P_ENTRY_BAR, P_EXIT_BAR, P_SIDE, P_ENTRY_Z, P_EXIT_Z, P_NOTIONAL = 0, 1, 2, 3, 4, 5, 6
P_PNL, P_COSTS, P_FUNDING, P_REASON, P_LIMIT = 7, 8, 9, 10, 11
N_PAIR_COLS = 12
# leg columns
L_PAIR, L_TRADE, L_LEG, L_SYMBOL, L_QTY, L_ENTRY_BAR, L_EXIT_BAR = 0, 1, 2, 3, 4, 5, 6
L_ENTRY_PX, L_EXIT_PX, L_COSTS, L_FUNDING, L_PNL, L_REASON = 7, 8, 9, 10, 11, 12
N_LEG_COLS = 13
# exit reasons
R_SIGNAL, R_STOP, R_TIME, R_LEG_GONE, R_END, R_SETTLED = 0, 1, 2, 3, 4, 5
# parameter vector
(
    K_ENTRY,
    K_EXIT,
    K_STOP,
    K_CAPITAL,
    K_FEE,
    K_SLIP,
    K_PAIR_CAP,
    K_GROSS_CAP,
    K_MAX_OPEN,
    K_SIZING,
    K_SIZE,
    K_START,
) = range(12)
N_PARAMS = 12
SIZING_EQUAL, SIZING_INV_VOL, SIZING_RISK = 0, 1, 2
# skip counters
S_MAX_OPEN, S_GROSS, S_SIZE = 0, 1, 2
_NONE, _LONG, _SHORT, _EXIT = 0, 1, 2, 3


@njit(cache=True)
def _grow(a):  # pragma: no cover - compiled
    out = np.empty((a.shape[0] * 2, a.shape[1]))
    out[: a.shape[0]] = a
    return out


@njit(cache=True)
def _close_leg(legs, row, t, px, cost, reason):  # pragma: no cover - compiled
    """Close leg ``row`` at ``px`` paying ``cost``; returns the cash it brings back."""
    q = legs[row, L_QTY]
    legs[row, L_EXIT_BAR] = t
    legs[row, L_EXIT_PX] = px
    legs[row, L_COSTS] += cost
    legs[row, L_PNL] = q * (px - legs[row, L_ENTRY_PX]) - legs[row, L_COSTS] + legs[row, L_FUNDING]
    legs[row, L_REASON] = reason
    return q * px - cost


@njit(cache=True)
def book_kernel(
    close, fill, leg_sym, end_bar, beta, z, scale, limit, funding, prm
):  # pragma: no cover - compiled
    """Walk the bars for every pair; see :func:`statarb.backtest.portfolio.run_portfolio`.

    Arrays are one row per symbol or pair, one column per bar (rows are filled pair by pair).
    ``close``/``fill``: (symbols, bars); ``leg_sym``: (pairs, 2) symbol index of y and x;
    ``end_bar``: per symbol, the first bar it no longer trades (positions are settled at the
    previous close); ``beta``, ``z``, ``scale``, ``limit``: (pairs, bars) hedge ratio, z-score,
    sizing scale and time-stop bars (0: none; both may be (0, 0) when unused), all from data up
    to each bar; ``funding``:
    (symbols, bars) rates or an empty (0, 0) array; ``prm``: the ``K_*`` parameters. Returns
    ``pair_pnl`` as (pairs, bars).
    """
    n_sym, n = close.shape
    n_pair = leg_sym.shape[0]
    entry, exit_, stop = prm[K_ENTRY], prm[K_EXIT], prm[K_STOP]
    fee, slip = prm[K_FEE], prm[K_SLIP]
    max_open = int(prm[K_MAX_OPEN])
    sizing = int(prm[K_SIZING])
    start = int(prm[K_START])
    use_fund = funding.shape[1] == n
    use_scale = scale.shape[1] == n
    use_limit = limit.shape[1] == n
    equity = np.empty(n)
    gross = np.empty(n)
    n_open = np.zeros(n, dtype=np.int64)
    pair_pnl = np.zeros((n_pair, n))
    trades = np.empty((max(16, n_pair * 4), N_PAIR_COLS))
    legs = np.empty((trades.shape[0] * 2, N_LEG_COLS))
    skipped = np.zeros(3, dtype=np.int64)
    m_tr = 0
    m_leg = 0
    cash = prm[K_CAPITAL]
    side = np.zeros(n_pair, dtype=np.int64)
    pending = np.zeros(n_pair, dtype=np.int64)
    pend_q = np.zeros((n_pair, 2))
    pend_z = np.zeros(n_pair)
    pend_reason = np.zeros(n_pair, dtype=np.int64)
    pend_lim = np.zeros(n_pair)
    pend_not = np.zeros(n_pair)
    trow = np.full(n_pair, -1, dtype=np.int64)
    lrow = np.full((n_pair, 2), -1, dtype=np.int64)  # open leg rows (-1: flat)
    mark = np.zeros((n_pair, 2))
    held = np.zeros(n_pair, dtype=np.int64)
    net = np.zeros(n_sym)  # net quantity per symbol, open and pending entries
    pos = np.zeros(n_sym)  # net quantity per symbol held
    cand = np.empty(n_pair)
    order = np.empty(n_pair, dtype=np.int64)
    first_end = end_bar.min() if n_sym > 0 else n
    any_pending = False
    for t in range(n):
        # 0. a symbol past its last bar is settled by the exchange at its last close
        for p in range(n_pair if t >= first_end else 0):
            for k in range(2):
                row = lrow[p, k]
                if row >= 0 and t >= end_bar[leg_sym[p, k]]:
                    s = leg_sym[p, k]
                    px = close[s, t - 1]
                    q = legs[row, L_QTY]
                    cash += _close_leg(legs, row, t, px, 0.0, R_SETTLED)
                    pair_pnl[p, t] += q * (px - mark[p, k])
                    trades[trow[p], P_PNL] += q * (px - mark[p, k])
                    net[s] -= q
                    pos[s] -= q
                    lrow[p, k] = -1
        # 1. fills decided at the previous close: exits first, then entries
        n_fill = n_pair if any_pending else 0
        any_pending = False
        for p in range(n_fill):
            if pending[p] == _EXIT:
                tr = trow[p]
                for k in range(2):
                    row = lrow[p, k]
                    if row < 0:
                        continue
                    s = leg_sym[p, k]
                    px = fill[s, t]
                    q = legs[row, L_QTY]
                    cost = (fee + slip) * abs(q * px)
                    cash += _close_leg(legs, row, t, px, cost, pend_reason[p])
                    d = q * (px - mark[p, k]) - cost
                    pair_pnl[p, t] += d
                    trades[tr, P_PNL] += d
                    trades[tr, P_COSTS] += cost
                    net[s] -= q
                    pos[s] -= q
                    lrow[p, k] = -1
                trades[tr, P_EXIT_BAR] = t
                trades[tr, P_EXIT_Z] = pend_z[p]
                trades[tr, P_REASON] = pend_reason[p]
                side[p] = 0
                trow[p] = -1
                pending[p] = _NONE
        for p in range(n_fill):
            if pending[p] == _LONG or pending[p] == _SHORT:
                if m_tr == trades.shape[0]:
                    trades = _grow(trades)
                if m_leg + 2 > legs.shape[0]:
                    legs = _grow(legs)
                tr = m_tr
                m_tr += 1
                r = trades[tr]
                r[P_PAIR] = p
                r[P_ENTRY_BAR] = t
                r[P_EXIT_BAR] = -1
                r[P_SIDE] = 1.0 if pending[p] == _LONG else -1.0
                r[P_ENTRY_Z] = pend_z[p]
                r[P_EXIT_Z] = np.nan
                r[P_NOTIONAL] = pend_not[p]
                r[P_PNL] = 0.0
                r[P_COSTS] = 0.0
                r[P_FUNDING] = 0.0
                r[P_REASON] = -1
                r[P_LIMIT] = pend_lim[p]
                for k in range(2):
                    s = leg_sym[p, k]
                    px = fill[s, t]
                    q = pend_q[p, k]
                    cost = (fee + slip) * abs(q * px)
                    cash -= q * px + cost
                    lg = legs[m_leg]
                    lg[L_PAIR] = p
                    lg[L_TRADE] = tr
                    lg[L_LEG] = k
                    lg[L_SYMBOL] = s
                    lg[L_QTY] = q
                    lg[L_ENTRY_BAR] = t
                    lg[L_EXIT_BAR] = -1
                    lg[L_ENTRY_PX] = px
                    lg[L_EXIT_PX] = np.nan
                    lg[L_COSTS] = cost
                    lg[L_FUNDING] = 0.0
                    lg[L_PNL] = 0.0
                    lg[L_REASON] = -1
                    lrow[p, k] = m_leg
                    m_leg += 1
                    pos[s] += q
                    mark[p, k] = px
                    pair_pnl[p, t] -= cost
                    r[P_PNL] -= cost
                    r[P_COSTS] += cost
                side[p] = 1 if pending[p] == _LONG else -1
                trow[p] = tr
                held[p] = 0
                pending[p] = _NONE
        # 2. funding and mark to market at this close
        count = 0
        for p in range(n_pair):
            if side[p] != 0:
                held[p] += 1
                count += 1
            for k in range(2):
                row = lrow[p, k]
                if row < 0:
                    continue
                s = leg_sym[p, k]
                q = legs[row, L_QTY]
                c = close[s, t]
                d = q * (c - mark[p, k])
                if use_fund:
                    pay = q * c * funding[s, t]
                    cash -= pay
                    legs[row, L_FUNDING] -= pay
                    trades[trow[p], P_FUNDING] -= pay
                    d -= pay
                mark[p, k] = c
                pair_pnl[p, t] += d
                trades[trow[p], P_PNL] += d
        e = cash
        g = 0.0
        for s in range(n_sym):
            if pos[s] != 0.0:
                e += pos[s] * close[s, t]
                g += abs(pos[s] * close[s, t])
        equity[t] = e
        gross[t] = g
        n_open[t] = count
        # 3. decide at this close (every order of the previous close was filled above):
        # exits of open pairs, and entry candidates ranked by |z| (insertion sort, few a bar)
        if t >= n - 1:
            continue
        entries_ok = start <= t < n - 2  # an entry filled at the last bar would only pay costs
        open_now = 0
        m_c = 0
        for p in range(n_pair):
            zt = z[p, t]
            if side[p] != 0:
                go = False
                reason = R_SIGNAL
                if lrow[p, 0] < 0 or lrow[p, 1] < 0:
                    go = True
                    reason = R_LEG_GONE
                elif end_bar[leg_sym[p, 0]] <= t + 1 or end_bar[leg_sym[p, 1]] <= t + 1:
                    go = False  # the exchange settles the leg; the other follows next decision
                elif t >= start:
                    if np.isfinite(zt):
                        if side[p] * zt >= -exit_:  # long: z >= -exit; short: z <= exit
                            go = True
                        elif stop > 0.0 and side[p] * zt <= -stop:
                            go = True
                            reason = R_STOP
                    lim = trades[trow[p], P_LIMIT]
                    if not go and lim > 0 and held[p] >= lim:
                        go = True
                        reason = R_TIME
                if go:
                    pending[p] = _EXIT
                    pend_z[p] = zt
                    pend_reason[p] = reason
                    any_pending = True
                else:
                    open_now += 1
                continue
            if not entries_ok or not (np.isfinite(zt) and abs(zt) > entry):
                continue
            if not np.isfinite(beta[p, t]):
                continue
            if end_bar[leg_sym[p, 0]] <= t + 1 or end_bar[leg_sym[p, 1]] <= t + 1:
                continue
            cand[p] = abs(zt)
            j = m_c
            while j > 0 and cand[order[j - 1]] < cand[p]:
                order[j] = order[j - 1]
                j -= 1
            order[j] = p
            m_c += 1
        if m_c == 0:
            continue
        g_now = 0.0
        for s in range(n_sym):
            g_now += abs(net[s] * close[s, t])
        for i in range(m_c):
            p = order[i]
            if max_open > 0 and open_now >= max_open:
                skipped[S_MAX_OPEN] += 1
                continue
            zt = z[p, t]
            b = beta[p, t]
            sy = leg_sym[p, 0]
            sx = leg_sym[p, 1]
            py = close[sy, t]
            px = close[sx, t]
            unit = abs(py) + abs(b) * abs(px)
            sc = scale[p, t] if use_scale else 1.0
            if sizing == SIZING_EQUAL:
                gn = prm[K_SIZE] * e
            elif sizing == SIZING_INV_VOL:
                gn = prm[K_SIZE] * e / sc if sc > 0 else np.nan
            else:
                room = (stop - abs(zt)) * sc
                gn = prm[K_SIZE] * e / room if room > 0 else np.nan
            if prm[K_PAIR_CAP] > 0:
                gn = min(gn, prm[K_PAIR_CAP] * e)
            if not (np.isfinite(gn) and gn > 0 and unit > 0):
                skipped[S_SIZE] += 1
                continue
            s_ = -1.0 if zt > 0 else 1.0
            qy = s_ * gn / unit
            qx = -s_ * b * gn / unit
            # gross exposure after this order, legs shared with other pairs netted per symbol
            g_new = g_now
            g_new += abs((net[sy] + qy) * py) - abs(net[sy] * py)
            g_new += abs((net[sx] + qx) * px) - abs(net[sx] * px)
            if prm[K_GROSS_CAP] > 0 and g_new > prm[K_GROSS_CAP] * e:
                skipped[S_GROSS] += 1
                continue
            g_now = g_new
            net[sy] += qy
            net[sx] += qx
            pending[p] = _LONG if s_ > 0 else _SHORT
            pend_q[p, 0] = qy
            pend_q[p, 1] = qx
            pend_z[p] = zt
            pend_not[p] = gn
            pend_lim[p] = limit[p, t] if use_limit else 0.0
            any_pending = True
            open_now += 1
    # positions still open are closed at the last close
    t = n - 1
    for p in range(n_pair):
        if side[p] == 0:
            continue
        tr = trow[p]
        for k in range(2):
            row = lrow[p, k]
            if row < 0:
                continue
            s = leg_sym[p, k]
            px = close[s, t]
            q = legs[row, L_QTY]
            cost = (fee + slip) * abs(q * px)
            cash += _close_leg(legs, row, t, px, cost, R_END)
            pair_pnl[p, t] -= cost
            trades[tr, P_PNL] -= cost
            trades[tr, P_COSTS] += cost
            net[s] -= q
        trades[tr, P_EXIT_BAR] = t
        trades[tr, P_EXIT_Z] = z[p, t]
        trades[tr, P_REASON] = R_END
    if n > 0:
        equity[n - 1] = cash
        gross[n - 1] = 0.0
    return equity, gross, n_open, pair_pnl, trades[:m_tr].copy(), legs[:m_leg].copy(), skipped
