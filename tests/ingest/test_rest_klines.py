"""REST kline backfill against a small local HTTP server that answers like ``/fapi/v1/klines``.

The server holds real bars (the packaged AVAXUSDT history), pages them 1,500 at a time as
Binance does, and refuses the first request with HTTP 429 to exercise the retry.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from statarb.errors import FeedError, InputError
from statarb.ingest.rest_klines import KLINE_LIMIT, KlineClient, backfill_klines, parse_klines
from statarb.model import BarBatch
from statarb.sample import history_bars


def _row(b: BarBatch, i: int) -> list[object]:
    t = int(b.open_time[i]) // 1000

    def s(a: np.ndarray) -> str:
        return repr(float(a[i]))  # shortest text that reads back to the same float

    return [t, s(b.open), s(b.high), s(b.low), s(b.close), s(b.volume), t + 59_999,
            s(b.notional), int(b.trades[i]), s(b.taker_buy_volume), "0", "0"]  # fmt: skip


@pytest.fixture(scope="module")
def bars() -> BarBatch:
    return history_bars(["AVAXUSDT"])[0]


@pytest.fixture
def venue(bars: BarBatch) -> Iterator[tuple[str, list[dict[str, str]]]]:
    calls: list[dict[str, str]] = []
    times = bars.open_time // 1000

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            calls.append(q)
            if url.path != "/fapi/v1/klines":
                return self._send(404, {"code": -1, "msg": "not found"})
            if len(calls) == 1:
                return self._send(
                    429, {"code": -1003, "msg": "too many requests"}, {"Retry-After": "0"}
                )
            if q.get("symbol") != "AVAXUSDT":
                return self._send(400, {"code": -1121, "msg": "Invalid symbol."})
            lo = int(q.get("startTime", 0))
            hi = int(q.get("endTime", 2**62))
            limit = min(int(q.get("limit", 500)), KLINE_LIMIT)
            idx = np.flatnonzero((times >= lo) & (times <= hi))[:limit]
            self._send(200, [_row(bars, int(i)) for i in idx], {"X-MBX-USED-WEIGHT-1M": "10"})

        def _send(self, code: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()


async def test_backfill_pages_retries_and_returns_the_exact_bars(
    venue: tuple[str, list[dict[str, str]]], bars: BarBatch
) -> None:
    url, calls = venue
    now_ms = int(bars.open_time[-1]) // 1000 + 30_000  # mid-way through the last minute
    client = KlineClient(url)
    try:
        got = await backfill_klines(client, ["AVAXUSDT"], 2.5, now_ms)
    finally:
        await client.close()
    b = got["AVAXUSDT"]
    n = int(2.5 * 1440)
    # 2.5 days of closed minutes up to the start of the current one (left to the stream)
    assert len(b) == n
    want = bars.take(slice(len(bars) - 1 - n, len(bars) - 1))
    np.testing.assert_array_equal(b.open_time, want.open_time)
    for col in ("open", "high", "low", "close", "volume", "notional", "taker_buy_volume"):
        np.testing.assert_array_equal(getattr(b, col), getattr(want, col), err_msg=col)
    np.testing.assert_array_equal(b.trades, want.trades)
    assert b.timeframe == "1m"
    pages = [c for c in calls if c.get("symbol")]
    assert len(pages) == 1 + -(-len(b) // KLINE_LIMIT)  # the refused first try, then pages
    assert all(int(c["limit"]) == KLINE_LIMIT for c in pages)


async def test_a_refused_symbol_is_a_feed_error(venue: tuple[str, list[dict[str, str]]]) -> None:
    url, _calls = venue
    client = KlineClient(url, max_retries=3)
    try:
        with pytest.raises(FeedError, match="HTTP 400"):
            await client.klines("NOPEUSDT", 0, 3_600_000)
        with pytest.raises(InputError, match="before end"):
            await client.klines("AVAXUSDT", 10, 10)
    finally:
        await client.close()


def test_parse_klines_names_the_bad_row() -> None:
    good = [1_700_000_000_000, "1", "2", "0.5", "1.5", "10", 0, "15", 3, "4", "6", "0"]
    b = parse_klines("BTCUSDT", "1m", [good])
    assert (b.open[0], b.high[0], b.low[0], b.close[0], b.trades[0]) == (1.0, 2.0, 0.5, 1.5, 3)
    assert b.open_time[0] == 1_700_000_000_000_000 and b.taker_buy_volume[0] == 4.0
    with pytest.raises(FeedError, match="malformed row 1"):
        parse_klines("BTCUSDT", "1m", [good, [1, "x"]])
    with pytest.raises(FeedError, match="expected a JSON list"):
        parse_klines("BTCUSDT", "1m", {"code": -1})
