"""Liquidity statistics and filters: traded volume, notional, trade count, quoted spread."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from statarb.errors import InputError
from statarb.model import BarBatch, QuoteBatch


@dataclass(frozen=True)
class LiquidityStats:
    """Liquidity of one symbol over a window of bars (and quotes when there are any)."""

    volume: float
    notional: float
    trades: int
    bars: int
    avg_trade_notional: float
    spread_bps: float | None = None

    @property
    def notional_per_bar(self) -> float:
        """Average traded notional per bar."""
        return self.notional / self.bars if self.bars else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields."""
        d = dict(self.__dict__)
        d["notional_per_bar"] = self.notional_per_bar
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()
        }


def quoted_spread_bps(quotes: QuoteBatch) -> float:
    """Mean quoted spread ``(ask - bid) / mid`` in basis points over valid quotes."""
    ok = (quotes.bid > 0) & (quotes.ask >= quotes.bid)
    if not ok.any():
        return math.nan
    mid = (quotes.ask[ok] + quotes.bid[ok]) / 2
    return float(((quotes.ask[ok] - quotes.bid[ok]) / mid).mean() * 1e4)


def liquidity_stats(
    bars: BarBatch | Any, *, quotes: QuoteBatch | None = None, window: int | None = None
) -> LiquidityStats:
    """Volume, notional and trade count of the last ``window`` bars (all when None).

    ``bars`` is a :class:`~statarb.model.BarBatch` or a DataFrame with ``volume``, ``notional``
    and ``trades`` columns.
    """
    if isinstance(bars, BarBatch):
        vol, notl, trades = bars.volume, bars.notional, bars.trades
    else:
        try:
            vol = np.asarray(bars["volume"], dtype=float)
            notl = np.asarray(bars["notional"], dtype=float)
            trades = np.asarray(bars["trades"], dtype=float)
        except KeyError as exc:
            raise InputError(f"bars need volume, notional and trades columns: {exc}") from exc
    if window is not None:
        if window < 1:
            raise InputError(f"window must be positive, got {window}")
        vol, notl, trades = vol[-window:], notl[-window:], trades[-window:]
    n_tr = int(np.sum(trades))
    total = float(np.sum(notl))
    spread = quoted_spread_bps(quotes) if quotes is not None and len(quotes) else None
    return LiquidityStats(
        float(np.sum(vol)), total, n_tr, len(vol), total / n_tr if n_tr else 0.0, spread
    )


def liquidity_filter(
    stats: Mapping[str, LiquidityStats],
    *,
    min_notional: float = 0.0,
    min_trades: int = 0,
    max_spread_bps: float | None = None,
) -> list[str]:
    """Symbols whose liquidity passes every threshold, sorted by notional (largest first)."""
    kept = []
    for sym, st in stats.items():
        if st.notional < min_notional or st.trades < min_trades:
            continue
        spread = st.spread_bps
        if max_spread_bps is not None and spread is not None and not spread <= max_spread_bps:
            continue
        kept.append(sym)
    return sorted(kept, key=lambda s: -stats[s].notional)


def liquid_pairs(
    pairs: list[tuple[str, str]], stats: Mapping[str, LiquidityStats], **thresholds: Any
) -> list[tuple[str, str]]:
    """Pairs whose both legs pass :func:`liquidity_filter`."""
    ok = set(liquidity_filter(stats, **thresholds))
    return [(a, b) for a, b in pairs if a in ok and b in ok]


__all__ = [
    "LiquidityStats",
    "liquid_pairs",
    "liquidity_filter",
    "liquidity_stats",
    "quoted_spread_bps",
]
