"""REST aggTrades backfill: paging by fromId, rate limits (429/418 + Retry-After), errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from _live_helpers import write_recording
from statarb.errors import FeedError
from statarb.ingest.backfill import PAGE_LIMIT, AggTradeClient
from statarb.venue.server import ReplayServer


def _exchange(trades: int, script: list[tuple[int, dict[str, str]]]) -> httpx.MockTransport:
    """A fake exchange: scripted error answers first, then aggTrades pages of ``trades`` ids."""
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if script:
            status, headers = script.pop(0)
            return httpx.Response(status, headers=headers, json={"code": -1003, "msg": "slow"})
        frm = int(request.url.params["fromId"])
        limit = int(request.url.params["limit"])
        rows = [{"a": i, "p": "1.5", "q": "2", "f": i, "l": i, "T": 1_700_000_000_000 + i,
                 "m": i % 2 == 0} for i in range(frm, min(trades, frm + limit))]  # fmt: skip
        return httpx.Response(200, json=rows, headers={"X-MBX-USED-WEIGHT-1M": "20"})

    return httpx.MockTransport(handler)


async def test_pages_until_caught_up_and_until_an_id() -> None:
    client = AggTradeClient("http://x", transport=_exchange(2500, []))
    pages = [p async for p in client.iter_range("BTCUSDT", 10)]
    assert [len(p) for p in pages] == [PAGE_LIMIT, PAGE_LIMIT, 490]
    ids = [t.trade_id for p in pages for t in p]
    assert ids == list(range(10, 2500))
    t = pages[0][1]
    assert (t.symbol, t.price, t.size, t.ts, t.is_buyer_maker, t.source) == (
        "BTCUSDT", 1.5, 2.0, (1_700_000_000_000 + 11) * 1000, False, "binance")  # fmt: skip
    bounded = [p async for p in client.iter_range("BTCUSDT", 10, until_id=1500)]
    assert [t.trade_id for p in bounded for t in p] == list(range(10, 1500))
    assert client.stats.requests == 5
    await client.close()


async def test_rate_limits_are_honoured_then_retried() -> None:
    script = [(429, {"Retry-After": "0"}), (418, {"Retry-After": "0.01"}), (503, {})]
    client = AggTradeClient("http://x", transport=_exchange(5, script))
    page = await client.page("BTCUSDT", 0)
    assert [t.trade_id for t in page] == [0, 1, 2, 3, 4]
    assert client.stats.rate_limited == 2 and client.stats.retries == 1
    assert client.stats.requests == 4
    await client.close()


async def test_gives_up_after_max_retries() -> None:
    client = AggTradeClient("http://x", max_retries=2,
                            transport=_exchange(5, [(429, {"Retry-After": "0"})] * 3))  # fmt: skip
    with pytest.raises(FeedError, match="gave up after 2"):
        await client.page("BTCUSDT", 0)
    await client.close()


async def test_against_the_replay_server(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.jsonl", ("AAAUSDT",), n=1200, quotes=False)
    async with ReplayServer([path], clock="original", speed=None) as srv:
        async with connect(
            f"{srv.ws_url}/market/stream?streams=aaausdt@aggTrade", close_timeout=0.2
        ) as ws:
            await ws.recv()
        await srv.done.wait()
        client = AggTradeClient(srv.rest_url)
        ids = [t.trade_id async for p in client.iter_range("AAAUSDT", 1000) for t in p]
        assert ids == list(range(1000, 2200))
        with pytest.raises(FeedError, match="-1121"):
            await client.page("NOPEUSDT", 1)
        await client.close()


@pytest.mark.parametrize("row", [{"p": "0"}, {"a": "12"}, {"q": "NaN"}, {"T": None}, {}])
async def test_a_malformed_rest_row_is_a_feed_error(row: dict[str, object]) -> None:
    good = {"a": 12, "p": "1.5", "q": "2", "f": 12, "l": 12, "T": 1_700_000_000_000, "m": True}
    body = [good, {**good, "a": 13, "f": 13, "l": 13, **row}] if row else {"code": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    client = AggTradeClient("http://x", transport=httpx.MockTransport(handler))
    with pytest.raises(FeedError, match="malformed row"):
        await client.page("BTCUSDT", 12)
    await client.close()
