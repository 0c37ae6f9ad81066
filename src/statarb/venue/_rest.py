"""REST side of the replay server: ``/fapi/v1/{aggTrades,exchangeInfo,ping,time}``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from statarb.venue._data import Recording, exchange_info, rest_rows

_WEIGHTS = {"/fapi/v1/aggTrades": 20, "/fapi/v1/exchangeInfo": 1, "/fapi/v1/ping": 1,
            "/fapi/v1/time": 1}  # fmt: skip

Answer = tuple[int, bytes, dict[str, str]]


def _err(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> Answer:
    return status, orjson.dumps({"code": code, "msg": msg}), headers or {}


class RestApi:
    """Answer REST GETs from a :class:`Recording` and the per-symbol released trade counts."""

    def __init__(
        self, rec: Recording, released: Mapping[str, int], *, weight_limit: int = 2400
    ) -> None:
        self.rec = rec
        self.released = released
        self.weight_limit = weight_limit
        self.requests = 0
        self.rate_limited = 0
        self._minute = 0
        self._used = 0

    def handle(self, target: str) -> Answer:
        """Status, JSON body and extra headers for a request target (path and query)."""
        parts = urlsplit(target)
        path = parts.path.rstrip("/")
        if path not in _WEIGHTS:
            return _err(404, -1000, f"Unknown endpoint {path}.")
        self.requests += 1
        minute = int(time.time() // 60)
        if minute != self._minute:
            self._minute, self._used = minute, 0
        if self._used + _WEIGHTS[path] > self.weight_limit:
            self.rate_limited += 1
            wait = str(max(1, int(60 - time.time() % 60)))
            return _err(429, -1003, "Too many requests; current limit is "
                        f"{self.weight_limit} request weight per 1 MINUTE.",
                        {"Retry-After": wait})  # fmt: skip
        self._used += _WEIGHTS[path]
        status, body, headers = self._route(path, parse_qs(parts.query))
        headers["X-MBX-USED-WEIGHT-1M"] = str(self._used)
        return status, body, headers

    def _route(self, path: str, q: dict[str, list[str]]) -> Answer:
        now_ms = time.time_ns() // 1_000_000
        if path == "/fapi/v1/ping":
            return 200, b"{}", {}
        if path == "/fapi/v1/time":
            return 200, orjson.dumps({"serverTime": now_ms}), {}
        if path == "/fapi/v1/exchangeInfo":
            return 200, orjson.dumps(exchange_info(self.rec, now_ms)), {}
        return self._agg_trades(q)

    def _agg_trades(self, q: dict[str, list[str]]) -> Answer:
        symbol = q.get("symbol", [""])[0].upper()
        if not symbol:
            return _err(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, "
                        "or malformed.")  # fmt: skip
        if symbol not in self.released:
            return _err(400, -1121, "Invalid symbol.")
        try:
            args = {k: int(q[k][0]) for k in ("fromId", "startTime", "endTime", "limit") if k in q}
        except ValueError:
            return _err(400, -1100, "Illegal characters found in a parameter.")
        limit = args.get("limit", 500)
        if not 1 <= limit <= 1000:
            return _err(400, -1130, "Data sent for parameter 'limit' is not valid.")
        rows = rest_rows(
            self.rec, symbol, self.released[symbol], from_id=args.get("fromId"), limit=limit,
            start_ms=args.get("startTime"), end_ms=args.get("endTime"),
        )  # fmt: skip
        body: Any = rows
        return 200, orjson.dumps(body), {}


__all__ = ["RestApi"]
