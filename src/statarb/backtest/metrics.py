"""Performance statistics from an equity curve and a trade table (pure)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from statarb._typing import Float64Array


def drawdown(equity: Float64Array, capital: float | None = None) -> Float64Array:
    """Drawdown from the running peak, as a fraction (0 at a new high, negative below it).

    With ``capital`` the starting equity counts as the first peak.
    """
    peak = np.maximum.accumulate(equity)
    if capital is not None:
        peak = np.maximum(peak, capital)
    return equity / peak - 1.0


def equity_stats(capital: float, equity: Float64Array) -> tuple[Any, ...]:
    """``(drawdown curve from capital, mean, std (ddof 1) and downside deviation of bar returns,
    max drawdown, longest run of bars below a previous peak)``; the bar loop computes the same."""
    n = len(equity)
    eq = np.r_[capital, equity]
    rets = eq[1:] / eq[:-1] - 1.0
    dd = drawdown(eq)
    under = np.r_[False, dd[1:] < 0, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(under))
    longest = int((edges[1::2] - edges[0::2]).max()) if len(edges) else 0
    sd = float(rets.std(ddof=1)) if n > 1 else math.nan
    down = float(np.sqrt(np.mean(np.minimum(rets, 0.0) ** 2))) if n else math.nan
    return dd, float(rets.mean()) if n else math.nan, sd, down, float(dd.min()), longest


def _annualise(total: float, years: float) -> float:
    """Compound growth per year; infinite when a short, lucky sample overflows."""
    try:
        return (1.0 + total) ** (1.0 / years) - 1.0
    except OverflowError:
        return math.inf


def compute_metrics(
    equity: Float64Array,
    trades: dict[str, Float64Array],
    *,
    bars_per_year: float,
    capital: float,
    exposure_bars: int,
    traded_notional: float,
    stats: tuple[Any, ...] | None = None,
) -> dict[str, Any]:
    """Return, risk and trade statistics (empyrical conventions, risk-free rate 0).

    ``trades`` holds equal-length arrays ``pnl_net``, ``bars_held``, ``fees``, ``slippage`` and
    ``funding``. Returns are bar returns of ``equity`` with the first bar measured from
    ``capital``; annualisation multiplies by ``bars_per_year`` (365-day crypto year).
    ``stats`` may pass :func:`equity_stats` output when already computed (the bar loop does).
    ``profit_factor`` is gross wins over gross losses: infinite when no trade lost, NaN without
    trades. A ruined run (equity at or below zero) is flat after its ruin bar, so no bar return
    is ever measured from a negative base.
    """
    n = len(equity)
    total = float(equity[-1] / capital - 1.0) if n else 0.0
    years = n / bars_per_year if n else math.nan
    ann_ret = _annualise(total, years) if n and total > -1 else math.nan
    if stats is None:
        stats = equity_stats(float(capital), equity)
    _, mean, sd, down, max_dd, max_dur = stats
    root = math.sqrt(bars_per_year)
    pnl = trades["pnl_net"]
    wins, losses = pnl[pnl > 0], pnl[pnl <= 0]
    loss_sum = float(-losses.sum())
    win_sum = float(wins.sum())
    # no losing trade: infinite when something was won, undefined otherwise
    no_loss = math.inf if win_sum > 0 else math.nan
    profit_factor = win_sum / loss_sum if loss_sum > 0 else no_loss
    return {
        "total_return": total,
        "annual_return": ann_ret,
        "annual_volatility": sd * root,
        "sharpe": mean / sd * root if sd > 0 else math.nan,
        "sortino": mean / down * root if down > 0 else math.nan,
        "max_drawdown": float(max_dd),
        "max_drawdown_bars": int(max_dur),
        "calmar": ann_ret / -max_dd if max_dd < 0 else math.nan,
        "trades": len(pnl),
        "win_rate": len(wins) / len(pnl) if len(pnl) else math.nan,
        "avg_win": float(wins.mean()) if len(wins) else math.nan,
        "avg_loss": float(losses.mean()) if len(losses) else math.nan,
        "profit_factor": profit_factor,
        "avg_bars_held": float(trades["bars_held"].mean()) if len(pnl) else math.nan,
        "exposure": exposure_bars / n if n else math.nan,
        "turnover": traded_notional / capital,
        "fees": float(trades["fees"].sum()),
        "slippage": float(trades["slippage"].sum()),
        "funding": float(trades["funding"].sum()),
        "net_pnl": float(equity[-1] - capital) if n else 0.0,
    }


__all__ = ["compute_metrics", "drawdown"]
