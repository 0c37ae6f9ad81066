"""The compiled bar loop of the backtester (numba; imported lazily)."""

from __future__ import annotations

import numpy as np
from numba import njit

from statarb.analytics.signal_rule import (  # noqa: F401  (the reason codes, re-exported)
    R_END,
    R_MAX_HOLD,
    R_RUIN,
    R_SIGNAL,
    R_STOP,
    R_TIME_STOP,
    signal_step,
)

# trade record columns
T_ENTRY_BAR, T_EXIT_BAR, T_SIDE, T_QTY_Y, T_QTY_X = 0, 1, 2, 3, 4
T_ENTRY_Y, T_ENTRY_X, T_EXIT_Y, T_EXIT_X, T_BETA = 5, 6, 7, 8, 9
T_ENTRY_Z, T_EXIT_Z, T_GROSS, T_COSTS, T_FUNDING, T_REASON = 10, 11, 12, 13, 14, 15
T_FEES, T_SLIP, T_RT_COST, T_BE_Z = 16, 17, 18, 19
N_TRADE_COLS = 20
# pending orders
_NONE, _ENTER_LONG, _ENTER_SHORT, _EXIT = 0, 1, 2, 3


@njit(cache=True)
def _round_lot(q, step):  # pragma: no cover - compiled
    if step <= 0.0:
        return q
    return np.sign(q) * np.floor(abs(q) / step + 1e-9) * step


@njit(cache=True)
def _close(r, t, qy, qx, py, px, fee, sy, sx, z, reason, fund_acc):  # pragma: no cover - compiled
    """Record the exit of the open trade in row ``r``; returns the cash it brings back."""
    ny = abs(qy * py)
    nx = abs(qx * px)
    fees = fee * (ny + nx)
    slips = sy * ny + sx * nx
    r[T_EXIT_BAR] = t
    r[T_EXIT_Y] = py
    r[T_EXIT_X] = px
    r[T_EXIT_Z] = z
    r[T_GROSS] = qy * (py - r[T_ENTRY_Y]) + qx * (px - r[T_ENTRY_X])
    r[T_FEES] += fees
    r[T_SLIP] += slips
    r[T_COSTS] = r[T_FEES] + r[T_SLIP]
    r[T_FUNDING] = fund_acc
    r[T_REASON] = reason
    return qy * py + qx * px - fees - slips


@njit(cache=True)
def run_kernel(
    close_y,
    close_x,
    fill_y,
    fill_x,
    beta,
    alpha,
    z,
    entry,
    exit_,
    stop,
    max_hold,
    notional,
    capital,
    fee,
    slip,
    hs_y,
    hs_x,
    fund_y,
    fund_x,
    lot_y,
    lot_x,
    min_notional,
    start_bar,
    window,
    rt_rate,
    size_from_equity,
    hold_limit,
):  # pragma: no cover - compiled
    """Walk the bars: decide at each close, fill at the next bar, mark both legs every bar.

    ``fee``/``slip`` are fractions of traded notional per leg; ``hs_y``/``hs_x`` (per bar, may
    be empty) replace ``slip`` with half the quoted spread as a fraction. ``fund_*`` are per-bar
    funding rates (0 outside funding times, may be empty): a long position pays ``rate *
    notional``. ``notional`` is the gross size of a trade; with ``size_from_equity`` it is
    multiplied by equity / capital at the signal bar. When equity at a close is zero or less the
    position is closed there (reason "ruin") and nothing more is traded. ``hold_limit`` (per bar,
    may be empty) is a time stop in bars fixed at each entry's signal bar (0: none). Returns
    equity, the trade table, the skipped-trade count, the equity statistics, the bars with a
    position and the ruin bar (-1 when equity stayed positive). Per-bar positions and drawdown
    follow from the first two (see :mod:`.result`): the loop writes one array, as fresh pages cost
    more than the
    arithmetic.
    """
    n = close_y.shape[0]
    equity = np.empty(n)
    trades = np.empty((n // 2 + 1, N_TRADE_COLS))
    m = 0
    cash = capital
    qy = 0.0
    qx = 0.0
    side = 0
    pending = _NONE
    pend_qy = 0.0
    pend_qx = 0.0
    pend_beta = 0.0
    pend_z = 0.0
    pend_cost = 0.0
    pend_bez = 0.0
    reason = R_SIGNAL
    held = 0
    skipped = 0
    fund_acc = 0.0
    use_hs = hs_y.shape[0] == n
    use_fund = fund_y.shape[0] == n
    use_limit = hold_limit.shape[0] == n
    limit = 0.0
    pend_limit = 0.0
    # equity statistics, accumulated as the bars are marked (metrics.equity_stats in numpy)
    prev = capital
    peak = capital
    s1 = 0.0  # sums of returns and squared returns (no division chained from bar to bar)
    s2 = 0.0
    r_down = 0.0
    max_dd = 0.0
    run = 0
    longest = 0
    exposure = 0
    ruin = -1
    for t in range(n):
        # 1. fill the order decided at the previous close
        if pending != _NONE:
            py = fill_y[t]
            px = fill_x[t]
            sy = hs_y[t] if use_hs else slip
            sx = hs_x[t] if use_hs else slip
            if pending == _EXIT:
                cash += _close(trades[m], t, qy, qx, py, px, fee, sy, sx, pend_z, reason, fund_acc)
                m += 1
                qy = 0.0
                qx = 0.0
                side = 0
            else:
                ny = abs(pend_qy * py)
                nx = abs(pend_qx * px)
                fees = fee * (ny + nx)
                slips = sy * ny + sx * nx
                cash -= pend_qy * py + pend_qx * px + fees + slips
                qy = pend_qy
                qx = pend_qx
                side = 1 if pending == _ENTER_LONG else -1
                held = 0
                fund_acc = 0.0
                limit = pend_limit
                r = trades[m]
                r[T_ENTRY_BAR] = t
                r[T_SIDE] = side
                r[T_QTY_Y] = qy
                r[T_QTY_X] = qx
                r[T_ENTRY_Y] = py
                r[T_ENTRY_X] = px
                r[T_BETA] = pend_beta
                r[T_ENTRY_Z] = pend_z
                r[T_RT_COST] = pend_cost
                r[T_BE_Z] = pend_bez
                r[T_FEES] = fees
                r[T_SLIP] = slips
            pending = _NONE
        # 2. funding and mark to market at this close
        if side != 0:
            held += 1
            if use_fund:
                pay = qy * close_y[t] * fund_y[t] + qx * close_x[t] * fund_x[t]
                cash -= pay
                fund_acc -= pay
            if t == n - 1:  # a position still open is closed at the last close
                sy = hs_y[t] if use_hs else slip
                sx = hs_x[t] if use_hs else slip
                cash += _close(
                    trades[m], t, qy, qx, close_y[t], close_x[t], fee, sy, sx, z[t], R_END, fund_acc
                )
                m += 1
                qy = 0.0
                qx = 0.0
                side = 0
            else:
                exposure += 1
        e = cash + qy * close_y[t] + qx * close_x[t]
        if e <= 0.0 and ruin < 0:  # ruin: liquidate at this close, trade no more
            ruin = t
            pending = _NONE
            if side != 0:
                sy = hs_y[t] if use_hs else slip
                sx = hs_x[t] if use_hs else slip
                cash += _close(
                    trades[m], t, qy, qx, close_y[t], close_x[t], fee, sy, sx, z[t], R_RUIN,
                    fund_acc,
                )  # fmt: skip
                m += 1
                qy = 0.0
                qx = 0.0
                side = 0
                exposure -= 1
            e = cash
        equity[t] = e
        if e != prev:
            r = e / prev - 1.0
            prev = e
            s1 += r
            s2 += r * r
            if r < 0.0:
                r_down += r * r
        if e >= peak:
            peak = e
            run = 0
        else:
            v = e / peak - 1.0
            if v < max_dd:
                max_dd = v
            run += 1
            if run > longest:
                longest = run
        # 3. decide at this close (fills at the next bar)
        if t >= n - 1 or t < start_bar or ruin >= 0:
            continue
        zt = z[t]
        if not np.isfinite(zt):
            continue
        # the one signal rule (statarb.analytics.signal_rule), shared with the live paths
        new, why = signal_step(side, zt, held, limit, entry, exit_, stop, max_hold)
        if side == 0:
            b = beta[t]
            # an entry filled on the last bar would be closed on it at once: costs only
            if new == 0 or not np.isfinite(b) or t >= n - 2:
                continue
            s = float(new)
            unit = abs(close_y[t]) + abs(b) * abs(close_x[t])
            size = notional * cash / capital if size_from_equity else notional
            q_y = _round_lot(s * size / unit, lot_y)
            q_x = _round_lot(-s * b * size / unit, lot_x)
            if min(abs(q_y * close_y[t]), abs(q_x * close_x[t])) < min_notional or q_y == 0.0:
                skipped += 1
                continue
            pending = _ENTER_SHORT if s < 0 else _ENTER_LONG
            pend_qy = q_y
            pend_qx = q_x
            pend_beta = b
            pend_z = zt
            pend_limit = hold_limit[t] if use_limit else 0.0
            # cost awareness: a round trip of one unit of spread, in spread units and in z
            pend_cost = rt_rate * unit
            mu = 0.0
            for i in range(t - window + 1, t + 1):
                mu += close_y[i] - (beta[i] * close_x[i] + alpha[i])
            mu /= window
            ss = 0.0
            for i in range(t - window + 1, t + 1):
                dv = close_y[i] - (beta[i] * close_x[i] + alpha[i]) - mu
                ss += dv * dv
            sd_w = np.sqrt(ss / (window - 1))
            pend_bez = pend_cost / sd_w if sd_w > 0.0 else np.nan
        elif new == 0:
            pending = _EXIT
            reason = why
            pend_z = zt
    r_mean = s1 / n if n > 0 else np.nan
    sd = np.sqrt(max(s2 - s1 * r_mean, 0.0) / (n - 1)) if n > 1 else np.nan
    dsd = np.sqrt(r_down / n) if n > 0 else np.nan
    stats = (r_mean, sd, dsd, max_dd, longest)
    return equity, trades[:m].copy(), skipped, stats, exposure, ruin
