"""REST backfill of Binance USD-M aggregate trades by id (``GET /fapi/v1/aggTrades?fromId=``).

Rate-limit aware: HTTP 429 (too many requests) and 418 (IP banned) are retried after the
``Retry-After`` the server names (or an exponential pause), and requests slow down on their own
when ``X-MBX-USED-WEIGHT-1M`` nears the 2400-per-minute budget. Network errors are retried with
backoff; only a definite answer (e.g. ``-1121 Invalid symbol``, or a malformed row) raises
:class:`FeedError`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from statarb.errors import FeedError, InputError
from statarb.model import Tick
from statarb.protocol.binance import backoff_delay, rest_trade_to_tick

log = logging.getLogger(__name__)

#: most rows one ``aggTrades`` request returns
PAGE_LIMIT = 1000
#: request weight budget per minute and the share we allow ourselves before pausing
WEIGHT_LIMIT = 2400
WEIGHT_SOFT = 0.8


@dataclass(frozen=True, slots=True)
class BackfillStats:
    """Counters of a :class:`AggTradeClient`."""

    requests: int
    trades: int
    rate_limited: int
    retries: int

    def to_dict(self) -> dict[str, int]:
        """Plain dict."""
        return {
            "requests": self.requests,
            "trades": self.trades,
            "rate_limited": self.rate_limited,
            "retries": self.retries,
        }


class AggTradeClient:
    """Fetch aggregate trades over REST.

    Parameters
    ----------
    rest_url
        REST base, e.g. ``https://fapi.binance.com`` (``Settings.binance_rest_url``).
    timeout
        Seconds per request.
    max_retries
        Attempts per page before giving up with :class:`FeedError`.
    transport
        An httpx transport to use instead of the network one.
    """

    def __init__(
        self,
        rest_url: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_retries < 1:
            raise InputError(f"max_retries must be >= 1, got {max_retries}")
        self.rest_url = rest_url.rstrip("/")
        self.max_retries = max_retries
        self._http = httpx.AsyncClient(base_url=self.rest_url, timeout=timeout, transport=transport)
        self._requests = self._trades = self._limited = self._retries = 0

    @property
    def stats(self) -> BackfillStats:
        """Request and retry counters."""
        return BackfillStats(self._requests, self._trades, self._limited, self._retries)

    async def close(self) -> None:
        """Release the HTTP connection pool."""
        await self._http.aclose()

    async def page(self, symbol: str, from_id: int, limit: int = PAGE_LIMIT) -> list[Tick]:
        """One page of trades with id >= ``from_id`` (at most ``limit``), in id order."""
        if not 1 <= limit <= PAGE_LIMIT:
            raise InputError(f"limit must be in 1..{PAGE_LIMIT}, got {limit}")
        params = {"symbol": symbol, "fromId": from_id, "limit": limit}
        rows = await self._get("/fapi/v1/aggTrades", params)
        recv = time.time_ns() // 1000
        try:
            ticks = [rest_trade_to_tick(symbol, r, recv) for r in rows]
        except (KeyError, TypeError, ValueError) as exc:
            raise FeedError(f"aggTrades {symbol} fromId={from_id}: malformed row ({exc})") from exc
        ticks.sort(key=lambda t: t.trade_id)  # type: ignore[arg-type,return-value]
        self._trades += len(ticks)
        return ticks

    async def iter_range(
        self, symbol: str, from_id: int, until_id: int | None = None
    ) -> AsyncIterator[list[Tick]]:
        """Pages from ``from_id`` up to ``until_id`` (exclusive) or until caught up.

        Without ``until_id`` it stops at the first short page (the present).
        """
        nxt = from_id
        while until_id is None or nxt < until_id:
            page = await self.page(symbol, nxt)
            if until_id is not None:
                page = [t for t in page if t.trade_id < until_id]  # type: ignore[operator]
            if page:
                yield page
                nxt = page[-1].trade_id + 1  # type: ignore[operator]
            if len(page) < PAGE_LIMIT:
                return

    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        for attempt in range(self.max_retries):
            self._requests += 1
            try:
                resp = await self._http.get(path, params=params)
            except httpx.HTTPError as exc:
                self._retries += 1
                log.warning("GET %s failed (%s); retrying", path, exc)
                await asyncio.sleep(backoff_delay(attempt, base=0.25, cap=10.0))
                continue
            if resp.status_code in (418, 429):
                self._limited += 1
                wait = _retry_after(resp, attempt)
                log.warning("GET %s: HTTP %s, waiting %.1f s", path, resp.status_code, wait)
                await asyncio.sleep(wait)
                continue
            if resp.status_code >= 500:
                self._retries += 1
                await asyncio.sleep(backoff_delay(attempt, base=0.25, cap=10.0))
                continue
            if resp.status_code != 200:
                raise FeedError(f"GET {self.rest_url}{path} {params}: HTTP {resp.status_code} "
                                f"{resp.text[:200]}")  # fmt: skip
            await self._pace(resp)
            return resp.json()
        raise FeedError(
            f"GET {self.rest_url}{path} {params}: gave up after {self.max_retries} tries"
        )

    @staticmethod
    async def _pace(resp: httpx.Response) -> None:
        used = resp.headers.get("X-MBX-USED-WEIGHT-1M")
        if used is None or not used.isdigit() or int(used) < WEIGHT_LIMIT * WEIGHT_SOFT:
            return
        wait = 60.0 - time.time() % 60.0
        log.warning("REST weight %s of %s used; pausing %.1f s", used, WEIGHT_LIMIT, wait)
        await asyncio.sleep(wait)


def _retry_after(resp: httpx.Response, attempt: int) -> float:
    value = resp.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return backoff_delay(attempt, base=1.0, cap=60.0, rand=lambda: 1.0)


__all__ = ["PAGE_LIMIT", "AggTradeClient", "BackfillStats"]
