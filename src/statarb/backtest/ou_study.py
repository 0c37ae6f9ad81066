"""The OU view of a pair's spread: fit, Bertram bands with the backtest's costs, and in z units."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from statarb.analytics.ou import OUFit, fit_ou, time_stop_bars
from statarb.analytics.ou_bands import OUBands, optimal_bands
from statarb.backtest.config import BacktestConfig
from statarb.errors import InputError


@dataclass(frozen=True)
class OUStudy:
    """An OU fit of the spread the backtest trades, and its optimal bands.

    ``cost`` is the round trip of one unit of spread (both legs, fees and slippage) at the last
    bar, in spread units. ``bands`` maximise expected return per bar; ``sharpe_bands`` maximise
    the Sharpe ratio over a required return of ``risk_free`` (per bar), when it is given.
    ``z_entry`` expresses the return-optimal band in the stationary z of the OU fit, to set beside
    the user's z bands; ``time_stop_bars`` is ``k`` half-lives for the configured ``k``.
    """

    fit: OUFit
    bands: OUBands
    sharpe_bands: OUBands | None
    cost: float
    spread_last: float
    time_stop_bars: int | None

    @property
    def z_entry(self) -> float:
        """Return-optimal band in stationary z units."""
        return self.bands.entry_z

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe nested dict."""
        return {
            "fit": self.fit.to_dict(),
            "bands": self.bands.to_dict(),
            "sharpe_bands": self.sharpe_bands.to_dict() if self.sharpe_bands else None,
            "cost": self.cost if math.isfinite(self.cost) else None,
            "spread_last": self.spread_last,
            "time_stop_bars": self.time_stop_bars,
        }

    def summary(self) -> str:
        """A few lines of text."""
        lines = [self.fit.summary(), self.bands.summary()]
        if self.sharpe_bands is not None:
            lines.append(self.sharpe_bands.summary())
        if self.time_stop_bars is not None:
            lines.append(f"time stop: {self.time_stop_bars} bars")
        return "\n".join(lines)


def ou_study(
    y: Any,
    x: Any,
    *,
    config: BacktestConfig | None = None,
    objective: Literal["return", "both"] = "return",
    risk_free: float | None = None,
) -> OUStudy:
    """Fit an OU model to the spread a backtest with ``config`` trades, and its optimal bands.

    The spread is ``y - beta x - alpha`` with the hedge ratio of ``config`` (from data before
    each bar); bars before the hedge ratio exists are dropped. ``objective="both"`` adds the
    Sharpe-optimal bands over ``risk_free`` per bar (default: 10% of the return-optimal rate).
    """
    from statarb.analytics._validate import pair_arrays
    from statarb.backtest.hedge import signal_inputs

    cfg = config or BacktestConfig()
    ya, xa = pair_arrays(y, x, min_length=cfg.window + 12)
    beta, _alpha, spread, _z, _ = signal_inputs(ya, xa, cfg)
    ok = np.isfinite(spread)
    if ok.sum() < 10:
        raise InputError("too few bars with a hedge ratio for an OU fit of the spread")
    first = int(np.argmax(ok))
    s = spread[first:]
    if not np.isfinite(s).all():
        raise InputError("the spread has gaps after its warm-up; an OU fit needs equal spacing")
    fit = fit_ou(s)
    t = len(ya) - 1
    rate = 2.0 * (cfg.fee_bps + cfg.slippage_bps) / 1e4
    cost = rate * (abs(ya[t]) + abs(beta[t]) * abs(xa[t]))
    bands = optimal_bands(fit, cost=cost)
    sharpe = None
    if objective == "both":
        rf = risk_free if risk_free is not None else 0.1 * bands.expected_return
        sharpe = optimal_bands(fit, cost=cost, objective="sharpe", risk_free=rf)
    stop = time_stop_bars(fit.half_life, cfg.time_stop) if cfg.time_stop else None
    return OUStudy(fit, bands, sharpe, float(cost), float(s[-1]), stop)


__all__ = ["OUStudy", "ou_study"]
