"""REST backfill of Binance USD-M 1-minute klines (``GET /fapi/v1/klines``) into bars.

Used on the live path to give freshly streamed symbols a history at once: the last days of 1m
bars are fetched page by page (1,500 bars a request) with the same retry, rate-limit and weight
pacing as :class:`statarb.ingest.backfill.AggTradeClient`. Only closed klines are kept (the
current minute is still moving; the live stream builds it).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from statarb.errors import FeedError, InputError
from statarb.ingest.backfill import AggTradeClient
from statarb.model import BarBatch, Timeframe

log = logging.getLogger(__name__)

#: most klines one request returns
KLINE_LIMIT = 1500


def parse_klines(symbol: str, interval: str, rows: Any) -> BarBatch:
    """Binance kline rows ``[open_time, open, high, low, close, volume, close_time, quote_volume,
    trades, taker_buy_volume, ...]`` as a :class:`BarBatch` (open times in epoch µs).

    Raises
    ------
    FeedError
        When the answer is not a list of such rows (naming the row).
    """
    if not isinstance(rows, list):
        raise FeedError(f"klines {symbol}: expected a JSON list, got {type(rows).__name__}")
    n = len(rows)
    t = np.empty(n, dtype=np.int64)
    vals = np.empty((n, 7), dtype=np.float64)
    trades = np.empty(n, dtype=np.int64)
    for i, r in enumerate(rows):
        try:
            t[i] = int(r[0]) * 1000
            vals[i] = [float(r[k]) for k in (1, 2, 3, 4, 5, 7, 9)]
            trades[i] = int(r[8])
        except (IndexError, TypeError, ValueError) as exc:
            raise FeedError(f"klines {symbol}: malformed row {i} ({exc}): {r!r:.200}") from None
    order = np.argsort(t, kind="stable")
    t, vals, trades = t[order], vals[order], trades[order]
    o, h, lo, c, v, q, buy = (np.ascontiguousarray(vals[:, k]) for k in range(7))
    return BarBatch(symbol, Timeframe.parse(interval).name, t, o, h, lo, c, v, q, trades, buy)


class KlineClient(AggTradeClient):
    """Fetch klines over REST (same constructor, retries and pacing as :class:`AggTradeClient`)."""

    async def klines(
        self, symbol: str, start_ms: int, end_ms: int, *, interval: str = "1m"
    ) -> BarBatch:
        """Closed klines of ``symbol`` with open time in ``[start_ms, end_ms)``, every page.

        Raises
        ------
        InputError
            Empty range. :class:`FeedError` when the venue refuses or answers garbage.
        """
        if start_ms >= end_ms:
            raise InputError(f"start ({start_ms}) must be before end ({end_ms})")
        step = Timeframe.parse(interval).us // 1000
        parts: list[BarBatch] = []
        nxt = start_ms
        while nxt < end_ms:
            params = {"symbol": symbol, "interval": interval, "startTime": nxt,
                      "endTime": end_ms - 1, "limit": KLINE_LIMIT}  # fmt: skip
            page = parse_klines(symbol, interval, await self._get("/fapi/v1/klines", params))
            keep = (page.open_time >= nxt * 1000) & (page.open_time < end_ms * 1000)
            page = page.take(np.flatnonzero(keep)) if not keep.all() else page
            if not len(page):
                break
            parts.append(page)
            nxt = int(page.open_time[-1]) // 1000 + step
            if len(page) < KLINE_LIMIT:
                break
        if not parts:
            return BarBatch.empty(symbol, Timeframe.parse(interval).name)
        return _concat(parts)


def _concat(parts: list[BarBatch]) -> BarBatch:
    if len(parts) == 1:
        return parts[0]
    cols = ("open_time", "open", "high", "low", "close", "volume", "notional", "trades",
            "taker_buy_volume")  # fmt: skip
    first = parts[0]
    return BarBatch(first.symbol, first.timeframe,
                    *(np.concatenate([getattr(p, c) for p in parts]) for c in cols))  # fmt: skip


async def backfill_klines(
    client: KlineClient, symbols: list[str], days: float, now_ms: int, *, interval: str = "1m"
) -> dict[str, BarBatch]:
    """The last ``days`` of closed klines (up to the start of the current minute) per symbol."""
    if not 0 < days <= 90:
        raise InputError(f"days must be in (0, 90], got {days}")
    step = Timeframe.parse(interval).us // 1000
    end = now_ms - now_ms % step  # the current bar is not closed
    start = end - int(days * 86_400_000)
    out: dict[str, BarBatch] = {}
    for sym in symbols:
        out[sym] = await client.klines(sym, start, end, interval=interval)
        log.info("backfilled %d %s klines of %s", len(out[sym]), interval, sym)
    return out


__all__ = ["KLINE_LIMIT", "KlineClient", "backfill_klines", "parse_klines"]
