"""REST side of the venue: the ``/fapi`` market-data endpoints real clients call.

``/fapi/v1/{ping,time,exchangeInfo,aggTrades,trades,klines,depth,ticker/24hr,premiumIndex}`` and
``/fapi/v{1,2}/ticker/price``, with Binance's weights, ``X-MBX-USED-WEIGHT-1M``, HTTP 429 +
``Retry-After`` over the limit and Binance's error codes. Answers that contain synthesised values
(mark price, index price, funding) say so in an ``X-Statarb-Synthesised`` header; so do the
trades, klines and tickers of a symbol played from klines (``trades``, see :mod:`._klines`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import orjson

from statarb.protocol.binance import (
    ERR_BAD_INTERVAL,
    ERR_BAD_LIMIT,
    ERR_BAD_SYMBOL,
    ERR_ILLEGAL_CHARS,
    ERR_MANDATORY,
    ERR_TOO_MANY_REQUESTS,
    ERR_UNKNOWN,
    ERR_WINDOW_TOO_BIG,
    error_body,
)
from statarb.venue._exchange_info import exchange_info
from statarb.venue._market import KLINE_MS

if TYPE_CHECKING:
    from statarb.venue.server import ReplayServer

Answer = tuple[int, bytes, dict[str, str]]
SYNTHESISED = "markPrice,indexPrice,estimatedSettlePrice,lastFundingRate,interestRate"
#: the header's value on trade-derived answers of a symbol whose trades come from klines
SYNTHESISED_TRADES = "trades"
_DEPTH_LIMITS = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}
_HOUR_MS = 3_600_000


def _err(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> Answer:
    return status, error_body(code, msg), headers or {}


def _ok(body: Any, headers: dict[str, str] | None = None) -> Answer:
    return 200, orjson.dumps(body), headers or {}


def _kline_weight(limit: int) -> int:
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


class RestApi:
    """Answer REST GETs from the venue's state (what has been served so far)."""

    def __init__(self, venue: ReplayServer, *, weight_limit: int = 2400) -> None:
        self.venue = venue
        self.weight_limit = weight_limit
        self.requests = 0
        self.rate_limited = 0
        self._minute = 0
        self._used = 0

    def handle(self, target: str) -> Answer:
        """Status, JSON body and extra headers for a request target (path and query)."""
        parts = urlsplit(target)
        path = parts.path.rstrip("/")
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        weight = self._weight(path, q)
        if weight is None:
            return _err(404, ERR_UNKNOWN, f"Unknown endpoint {path}.")
        self.requests += 1
        minute = int(time.time() // 60)
        if minute != self._minute:
            self._minute, self._used = minute, 0
        if self._used + weight > self.weight_limit:
            self.rate_limited += 1
            wait = str(max(1, int(60 - time.time() % 60)))
            return _err(429, ERR_TOO_MANY_REQUESTS, "Too many requests; current limit is "
                        f"{self.weight_limit} request weight per 1 MINUTE.",
                        {"Retry-After": wait})  # fmt: skip
        self._used += weight
        status, body, headers = self._route(path, q)
        headers["X-MBX-USED-WEIGHT-1M"] = str(self._used)
        return status, body, headers

    @staticmethod
    def _weight(path: str, q: dict[str, str]) -> int | None:
        one_or_all = 1 if "symbol" in q else 40
        if path == "/fapi/v1/klines":
            try:
                return _kline_weight(int(q.get("limit", "500")))
            except ValueError:
                return 1
        if path == "/fapi/v1/depth":
            try:
                return _DEPTH_LIMITS.get(int(q.get("limit", "500")), 10)
            except ValueError:
                return 10
        return {
            "/fapi/v1/ping": 1, "/fapi/v1/time": 1, "/fapi/v1/exchangeInfo": 1,
            "/fapi/v1/aggTrades": 20, "/fapi/v1/trades": 5, "/fapi/v1/ticker/24hr": one_or_all,
            "/fapi/v1/ticker/price": 1 if "symbol" in q else 2,
            "/fapi/v2/ticker/price": 1 if "symbol" in q else 2, "/fapi/v1/premiumIndex": 1,
        }.get(path)  # fmt: skip

    def _route(self, path: str, q: dict[str, str]) -> Answer:
        v = self.venue
        assert v.clock is not None and v.rec is not None
        now_ms = v.clock.server_ms()
        if path == "/fapi/v1/ping":
            return _ok({})
        if path == "/fapi/v1/time":
            return _ok({"serverTime": now_ms})
        if path == "/fapi/v1/exchangeInfo":
            return _ok(exchange_info(v.rec, now_ms))
        if path in ("/fapi/v1/ticker/24hr", "/fapi/v1/ticker/price", "/fapi/v2/ticker/price",
                    "/fapi/v1/premiumIndex") and "symbol" not in q:  # fmt: skip
            return self._all(path, q, now_ms)
        symbol = q.get("symbol", "").upper()
        if not symbol:
            return _err(400, ERR_MANDATORY, "Mandatory parameter 'symbol' was not sent, was "
                        "empty/null, or malformed.")  # fmt: skip
        if symbol not in v.released:
            return _err(400, ERR_BAD_SYMBOL, "Invalid symbol.")
        try:
            ints: dict[str, int] = {
                k: int(q[k]) for k in ("fromId", "startTime", "endTime", "limit") if k in q
            }
        except ValueError:
            return _err(400, ERR_ILLEGAL_CHARS, "Illegal characters found in a parameter.")
        return self._symbol(path, symbol, q, ints, now_ms)

    def _all(self, path: str, q: dict[str, str], now_ms: int) -> Answer:
        rows = []
        for s in self.venue.released:
            _, body, _ = self._symbol(path, s, q, {}, now_ms)
            rows.append(orjson.loads(body))
        marks = [SYNTHESISED_TRADES] if self.venue.market and self.venue.market.rec.tapes else []
        marks += [SYNTHESISED] if "premium" in path else []
        return _ok(rows, {"X-Statarb-Synthesised": ",".join(marks)} if marks else {})

    def _symbol(
        self, path: str, sym: str, q: dict[str, str], a: dict[str, int], now_ms: int
    ) -> Answer:
        status, body, extra = self._answer(path, sym, q, a, now_ms)
        market = self.venue.market
        if market is not None and sym in market.rec.tapes and path != "/fapi/v1/depth":
            mark = extra.get("X-Statarb-Synthesised")
            extra = {**extra, "X-Statarb-Synthesised":
                     SYNTHESISED_TRADES + (f",{mark}" if mark else "")}  # fmt: skip
        return status, body, extra

    def _answer(
        self, path: str, sym: str, q: dict[str, str], a: dict[str, int], now_ms: int
    ) -> Answer:
        v = self.venue
        market = v.market
        assert market is not None
        released = v.released[sym]
        has_trades = sym in market.rec.trades
        if path == "/fapi/v1/aggTrades":
            return self._agg_trades(sym, a)
        if path == "/fapi/v1/trades":
            limit = a.get("limit", 500)
            if not 1 <= limit <= 1000:
                return _err(400, ERR_BAD_LIMIT, "Data sent for parameter 'limit' is not valid.")
            return _ok(market.recent_trades(sym, released, limit) if has_trades else [])
        if path == "/fapi/v1/klines":
            interval = q.get("interval", "")
            if not interval:
                return _err(400, ERR_MANDATORY, "Mandatory parameter 'interval' was not sent, "
                            "was empty/null, or malformed.")  # fmt: skip
            if interval not in KLINE_MS:
                return _err(400, ERR_BAD_INTERVAL, "Invalid interval.")
            limit = a.get("limit", 500)
            if not 1 <= limit <= 1500:
                return _err(400, ERR_BAD_LIMIT, "Data sent for parameter 'limit' is not valid.")
            if not has_trades:
                return _ok([])
            rows = market.klines(sym, released, KLINE_MS[interval], start_ms=a.get("startTime"),
                                 end_ms=a.get("endTime"), limit=limit)  # fmt: skip
            return _ok([r[:12] for r in rows])
        if path == "/fapi/v1/depth":
            limit = a.get("limit", 500)
            if limit not in _DEPTH_LIMITS:
                return _err(400, ERR_BAD_LIMIT, "Data sent for parameter 'limit' is not valid.")
            if sym not in v.books:
                return _ok({"lastUpdateId": 0, "E": now_ms, "T": now_ms, "bids": [], "asks": []})
            return _ok(v.depth_snapshot(sym, limit))
        if path == "/fapi/v1/ticker/24hr":
            return _ok(market.ticker_24h(sym, released, now_ms) if has_trades
                       else {"symbol": sym})  # fmt: skip
        if path in ("/fapi/v1/ticker/price", "/fapi/v2/ticker/price"):
            last = market.last_trade(sym, released) if has_trades else None
            price = last[1] if last else market.rec.prec[sym].price(0.0)
            return _ok({"symbol": sym, "price": price, "time": last[2] if last else now_ms})
        # premiumIndex
        mark = v.mark_state(sym, now_ms)
        pr = market.rec.prec[sym]
        body = {"symbol": sym, "markPrice": mark["p"] if mark else pr.price(0.0),
                "indexPrice": mark["i"] if mark else "0.00000000",
                "estimatedSettlePrice": mark["P"] if mark else "0.00000000",
                "lastFundingRate": "0.00010000", "interestRate": "0.00010000",
                "nextFundingTime": (now_ms // 28_800_000 + 1) * 28_800_000,
                "time": now_ms}  # fmt: skip
        return _ok(body, {"X-Statarb-Synthesised": SYNTHESISED})

    def _agg_trades(self, sym: str, a: dict[str, int]) -> Answer:
        v = self.venue
        assert v.market is not None
        limit = a.get("limit", 500)
        if not 1 <= limit <= 1000:
            return _err(400, ERR_BAD_LIMIT, "Data sent for parameter 'limit' is not valid.")
        start, end = a.get("startTime"), a.get("endTime")
        if start is not None and end is not None and end - start >= _HOUR_MS:
            return _err(400, ERR_WINDOW_TOO_BIG, "More than 1 hours between startTime and "
                        "endTime.")  # fmt: skip
        if start is not None and end is None and "fromId" not in a:
            end = start + _HOUR_MS - 1
        elif end is not None and start is None and "fromId" not in a:
            start = end - _HOUR_MS + 1
        if sym not in v.market.rec.trades:
            return _ok([])
        rows = v.market.agg_rows(sym, v.released[sym], from_id=a.get("fromId"), start_ms=start,
                                 end_ms=end, limit=limit)  # fmt: skip
        return _ok(rows)


__all__ = ["SYNTHESISED", "SYNTHESISED_TRADES", "RestApi"]
