"""Live state of the engine: recent bars per symbol and timeframe, pair analytics, metric values.

Everything here is synchronous and pure apart from calling the analytics; the engine feeds it
ticks and bars and reads back the metric values it publishes and evaluates alerts on.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from statarb.alerts.rules import metric_key
from statarb.model import BarBatch, Timeframe

log = logging.getLogger(__name__)

#: pair analysis fields published as alert metrics (analysis key -> metric name)
PAIR_FIELDS: dict[str, str] = {
    "hedge_ratio": "hedge_ratio",
    "intercept": "intercept",
    "adf_stat": "adf_stat",
    "adf_pvalue": "adf_pvalue",
    "eg_pvalue": "eg_pvalue",
    "half_life": "half_life",
    "correlation": "correlation",
    "last_spread": "spread",
    "last_zscore": "zscore",
}


class RecentBars:
    """The last ``size`` closed bars of one symbol and timeframe (columns as ring buffers)."""

    def __init__(self, size: int) -> None:
        self.open_time: deque[int] = deque(maxlen=size)
        self.close: deque[float] = deque(maxlen=size)

    def add(self, bars: BarBatch) -> None:
        """Append closed bars (oldest first); bars not after the last one restart the window."""
        if len(bars) == 0:
            return
        if self.open_time and int(bars.open_time[0]) <= self.open_time[-1]:
            self.open_time.clear()
            self.close.clear()
        self.open_time.extend(bars.open_time.tolist())
        self.close.extend(bars.close.tolist())

    def seed(self, bars: BarBatch) -> int:
        """Put history in front of the bars held (only bars older than the first); return count."""
        times, closes = bars.open_time, bars.close
        if self.open_time:
            keep = times < self.open_time[0]
            times, closes = times[keep], closes[keep]
        n = len(times)
        if n:
            size = self.open_time.maxlen
            ot = [*times.tolist(), *self.open_time][-size:] if size else []
            cl = [*closes.tolist(), *self.close][-size:] if size else []
            self.open_time = deque(ot, maxlen=size)
            self.close = deque(cl, maxlen=size)
        return n

    def __len__(self) -> int:
        return len(self.close)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(open_time int64, close float64)."""
        n = len(self.close)
        return (np.fromiter(self.open_time, np.int64, n), np.fromiter(self.close, np.float64, n))


def symbol_bar_metrics(
    symbol: str, bar: dict[str, Any], closes: np.ndarray, tf: str, vol_window: int
) -> dict[str, float]:
    """Metric values of one symbol at the close of a bar.

    ``return`` is the bar's simple return against the previous close; ``volatility`` the sample
    standard deviation of the last ``vol_window`` log returns of bar closes (per bar, not
    annualised).
    """
    out = {
        metric_key("price", symbol, tf): bar["close"],
        metric_key("volume", symbol, tf): bar["volume"],
        metric_key("trades", symbol, tf): float(bar["trades"]),
        metric_key("notional", symbol, tf): bar["notional"],
        metric_key("vwap", symbol, tf): bar["notional"] / bar["volume"]
        if bar["volume"]
        else bar["close"],
    }
    if len(closes) >= 2 and closes[-2] > 0:
        out[metric_key("return", symbol, tf)] = closes[-1] / closes[-2] - 1.0
    tail = closes[-(vol_window + 1) :]
    if len(tail) >= 3 and np.all(tail > 0):
        out[metric_key("volatility", symbol, tf)] = float(np.std(np.diff(np.log(tail)), ddof=1))
    return out


def live_zscore(spreads: np.ndarray, live: float) -> float | None:
    """z-score of a live spread against the spreads of the last closed bars (sample std)."""
    if len(spreads) < 2:
        return None
    sd = float(np.std(spreads, ddof=1))
    if not sd > 0 or not math.isfinite(sd):
        return None
    return (live - float(np.mean(spreads))) / sd


@dataclass(slots=True)
class PairFrame:
    """Latest analysis of one pair at one timeframe and what the per-tick values need."""

    analysis: dict[str, Any] | None = None
    last_time: int | None = None
    betas: deque[float] = field(default_factory=lambda: deque(maxlen=60))
    # spreads of the last z_window aligned bar closes under the latest hedge ratio
    spreads: np.ndarray = field(default_factory=lambda: np.empty(0))


def aligned_closes(a: RecentBars, b: RecentBars) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bars both legs closed at the same open time: (open_time, close_a, close_b)."""
    ta, ca = a.arrays()
    tb, cb = b.arrays()
    common, ia, ib = np.intersect1d(ta, tb, assume_unique=True, return_indices=True)
    return common, ca[ia], cb[ib]


def pair_metrics(target: str, tf: str, frame: PairFrame) -> dict[str, float]:
    """Metric values published for a pair from its latest analysis."""
    out: dict[str, float] = {}
    res = frame.analysis or {}
    for src, metric in PAIR_FIELDS.items():
        v = res.get(src)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            out[metric_key(metric, target, tf)] = float(v)
    if len(frame.betas) >= 2 and frame.betas[0] != 0:
        out[metric_key("hedge_ratio_drift", target, tf)] = frame.betas[-1] / frame.betas[0] - 1.0
    if len(frame.spreads) >= 3:
        out[metric_key("volatility", target, tf)] = float(np.std(np.diff(frame.spreads), ddof=1))
    return out


def timeframe_names(names: list[str]) -> list[str]:
    """Canonical, distinct timeframe names, shortest first."""
    tfs = {Timeframe.parse(n).name: Timeframe.parse(n).us for n in names}
    return sorted(tfs, key=tfs.__getitem__)


__all__ = [
    "PAIR_FIELDS",
    "PairFrame",
    "RecentBars",
    "aligned_closes",
    "live_zscore",
    "pair_metrics",
    "symbol_bar_metrics",
    "timeframe_names",
]
