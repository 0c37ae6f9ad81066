"""``run_backtest``: validate inputs, build the no-look-ahead signals, run the compiled loop."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from statarb._typing import Float64Array, Int64Array
from statarb.analytics._validate import as_float_array, check_finite, pair_arrays
from statarb.analytics.rolling import bars_per_year
from statarb.backtest.config import BacktestConfig
from statarb.backtest.hedge import signal_inputs
from statarb.backtest.metrics import compute_metrics
from statarb.backtest.result import BacktestResult
from statarb.errors import InputError

_EMPTY = np.empty(0)


def bar_times(index: Any, n: int) -> Int64Array | None:
    """The bars' times as epoch µs from a UTC ``DatetimeIndex`` or integers (None: no index)."""
    if index is None:
        return None
    import pandas as pd

    if isinstance(index, pd.DatetimeIndex):
        if index.tz is None:
            raise InputError("index must be time-zone aware (UTC)")
        arr = index.tz_convert("UTC").as_unit("us").asi8
    else:
        arr = np.asarray(index, dtype=np.int64)
    if len(arr) != n:
        raise InputError(f"index has {len(arr)} entries for {n} bars")
    return arr


def _optional(a: Any, n: int, name: str) -> Float64Array:
    if a is None:
        return _EMPTY
    arr = as_float_array(a, name)
    if len(arr) != n:
        raise InputError(f"{name} has {len(arr)} values for {n} bars")
    check_finite(arr, name)
    return arr


def _cost_awareness(
    y: Float64Array,
    x: Float64Array,
    beta: Float64Array,
    spread: Float64Array,
    config: BacktestConfig,
    table: np.ndarray,
) -> tuple[float, float]:
    """Round-trip cost of one unit of spread (1 y vs beta x) in spread units, and in z.

    The mean over trades of what the bar loop measured at each signal bar (the spread's standard
    deviation over the z-score window ending there); without trades, the same at the last bar.
    """
    from statarb.backtest import _kernel as k

    if len(table):
        cost, bez = table[:, k.T_RT_COST], table[:, k.T_BE_Z]
        bez = bez[np.isfinite(bez)]
        return float(cost.mean()), float(bez.mean()) if len(bez) else math.nan
    w = config.window
    ok = np.flatnonzero(np.isfinite(beta) & np.isfinite(spread))
    if not len(ok) or ok[-1] < w - 1:
        return math.nan, math.nan
    t = int(ok[-1])
    rate = 2.0 * (config.fee_bps + config.slippage_bps) / 1e4
    cost = rate * (abs(y[t]) + abs(beta[t]) * abs(x[t]))
    sd = float(np.std(spread[t - w + 1 : t + 1], ddof=1))
    return float(cost), cost / sd if sd > 0 else math.nan


def _hold_limit(spread: Float64Array, config: BacktestConfig) -> Float64Array:
    """Time stop in bars at each signal bar (``config.time_stop`` half-lives), or empty."""
    if config.time_stop is None:
        return _EMPTY
    from statarb.analytics.ou import rolling_half_life

    hl = rolling_half_life(spread, window=min(config.half_life_window, len(spread) - 2))
    lim = np.ceil(config.time_stop * hl)
    return np.where(np.isfinite(lim) & (lim >= 1), lim, 0.0)


def run_backtest(
    y: Any,
    x: Any,
    *,
    config: BacktestConfig | None = None,
    index: Any = None,
    open_y: Any = None,
    open_x: Any = None,
    spread_cost: tuple[Any, Any] | None = None,
    funding_y: Any = None,
    funding_x: Any = None,
    filters: Mapping[str, float] | None = None,
    start_bar: int = 0,
    signals: tuple[Float64Array, Float64Array, Float64Array, Float64Array, bool] | None = None,
) -> BacktestResult:
    """Backtest z-score mean reversion on the spread of ``y`` (leg A) against ``x`` (leg B).

    Signals computed at a bar's close fill at the next bar: at its open when ``open_y``/``open_x``
    are given, else at its close. The hedge ratio used at a bar comes only from earlier data. No
    entry is taken on the second-to-last bar (it would fill on the last bar and close there).
    When equity at a close falls to zero or below, the position is closed at that close and the
    run stops trading: the result is flagged ``ruined`` with the bar in ``ruin_bar``.

    Parameters
    ----------
    y, x
        Aligned closes of the two legs.
    config
        Rules, estimator, sizing and costs (:class:`BacktestConfig`).
    index
        Bar open times (UTC DatetimeIndex or epoch-µs array) for the trade log.
    open_y, open_x
        Next-bar fill prices.
    spread_cost
        Quoted spread of each leg per bar as a fraction of price; half of it replaces
        ``slippage_bps``.
    funding_y, funding_x
        Funding rate per bar (non-zero at funding times); longs pay ``rate * notional``.
    filters
        Exchange filters: ``lot_y``, ``lot_x`` (quantity steps) and ``min_notional``.
    start_bar
        No decision before this bar (walk-forward warm-up).
    signals
        Precomputed ``signal_inputs`` output (used by sweeps to share work).
    """
    cfg = config or BacktestConfig()
    ya, xa = pair_arrays(y, x, min_length=cfg.window + 2)
    n = len(ya)
    times = bar_times(index, n)
    fill_y = _optional(open_y, n, "open_y") if open_y is not None else ya
    fill_x = _optional(open_x, n, "open_x") if open_x is not None else xa
    hs_y = hs_x = _EMPTY
    if spread_cost is not None:
        hs_y = _optional(spread_cost[0], n, "spread_cost[0]") / 2
        hs_x = _optional(spread_cost[1], n, "spread_cost[1]") / 2
    fy, fx = _optional(funding_y, n, "funding_y"), _optional(funding_x, n, "funding_x")
    if (len(fy) == 0) != (len(fx) == 0):
        raise InputError("give funding rates for both legs (zeros for a leg without funding)")
    f = dict(filters or {})
    unknown = set(f) - {"lot_y", "lot_x", "min_notional"}
    if unknown:
        raise InputError(f"unknown filters {sorted(unknown)}; use lot_y, lot_x, min_notional")
    beta, alpha, spread, z, in_sample = signals or signal_inputs(ya, xa, cfg)
    from statarb.backtest._kernel import run_kernel

    equity, table, skipped, stats, exposure, ruin = run_kernel(
        ya,
        xa,
        fill_y,
        fill_x,
        beta,
        alpha,
        z,
        cfg.entry,
        cfg.exit,
        cfg.stop or 0.0,
        cfg.max_hold or 0,
        cfg.notional,
        cfg.capital,
        cfg.fee_bps / 1e4,
        cfg.slippage_bps / 1e4,
        hs_y,
        hs_x,
        fy,
        fx,
        f.get("lot_y", 0.0),
        f.get("lot_x", 0.0),
        f.get("min_notional", 0.0),
        start_bar,
        min(cfg.window, n),
        2.0 * (cfg.fee_bps + cfg.slippage_bps) / 1e4,
        cfg.sizing == "equity",
        _hold_limit(spread, cfg),
    )
    from statarb.backtest import _kernel as k

    tb = table if len(table) else np.zeros((0, k.N_TRADE_COLS))
    legs_y = np.abs(tb[:, k.T_QTY_Y]) * (tb[:, k.T_ENTRY_Y] + tb[:, k.T_EXIT_Y])
    legs_x = np.abs(tb[:, k.T_QTY_X]) * (tb[:, k.T_ENTRY_X] + tb[:, k.T_EXIT_X])
    traded = float((legs_y + legs_x).sum())
    tr = {
        "pnl_net": tb[:, k.T_GROSS] - tb[:, k.T_COSTS] + tb[:, k.T_FUNDING],
        "bars_held": tb[:, k.T_EXIT_BAR] - tb[:, k.T_ENTRY_BAR],
        "fees": tb[:, k.T_FEES],
        "slippage": tb[:, k.T_SLIP],
        "funding": tb[:, k.T_FUNDING],
    }
    metrics = compute_metrics(
        equity,
        tr,
        bars_per_year=bars_per_year(cfg.bar_seconds),
        capital=cfg.capital,
        exposure_bars=int(exposure),
        traded_notional=traded,
        stats=(None, *stats),
    )
    rt_cost, be_z = _cost_awareness(ya, xa, beta, spread, cfg, tb)
    return BacktestResult(
        cfg,
        equity,
        z,
        beta,
        times,
        tb,
        metrics,
        in_sample,
        rt_cost,
        be_z,
        int(skipped),
        None if ruin < 0 else int(ruin),
    )


__all__ = ["run_backtest"]
