"""Contract tests: real third-party Binance clients against ``statarb replay``.

Each client is pointed at the venue by overriding its base URLs (nothing else is patched), reads
the packaged sample and must agree with the recording. The clients come with the ``clients``
extra; a test skips only when its package is not importable.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from statarb.ingest.files import read_file
from statarb.model import TickBatch
from statarb.sample import files as sample_files
from statarb.venue.server import ReplayServer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[clients]')")


class Truth:
    """The recording, to check what clients receive against."""

    def __init__(self) -> None:
        self.trades: dict[str, TickBatch] = {}
        self.quotes: set[tuple[str, float, float]] = set()
        for f in sample_files():
            for chunk in read_file(f):
                for s, b in chunk.ticks.items():
                    self.trades[s] = b
                for s, q in chunk.quotes.items():
                    self.quotes |= {
                        (s, float(b), float(a)) for b, a in zip(q.bid, q.ask, strict=True)
                    }
        self.row = {
            s: {int(i): k for k, i in enumerate(b.trade_id)} for s, b in self.trades.items()
        }

    def trade(self, sym: str, tid: int) -> tuple[float, float, int]:
        """(price, size, ts µs) of trade ``tid``."""
        b, k = self.trades[sym], self.row[sym][tid]
        return float(b.price[k]), float(b.size[k]), int(b.ts[k])

    def aggregate(self, sym: str, first: int, last: int) -> tuple[float, float]:
        """(price, summed size) of the trades ``first..last``, checking they share one price."""
        b = self.trades[sym]
        rows = slice(self.row[sym][first], self.row[sym][last] + 1)
        assert len(set(b.price[rows])) == 1
        return float(b.price[rows][0]), float(b.size[rows].sum())

    def candle(self, sym: str, open_ms: int, last_id: int | None = None) -> list[float]:
        """[o, h, l, c, v, n] of the trades in the minute from ``open_ms`` (up to ``last_id``)."""
        b = self.trades[sym]
        sel = (b.ts >= open_ms * 1000) & (b.ts < (open_ms + 60_000) * 1000)
        if last_id is not None:
            sel &= b.trade_id <= last_id
        p, v = b.price[sel], b.size[sel]
        return [p[0], p.max(), p.min(), p[-1], round(float(v.sum()), 3), int(sel.sum())]


@pytest.fixture(scope="module")
def truth() -> Truth:
    return Truth()


class VenueThread:
    """The venue on its own event loop in a thread (sync clients block their caller)."""

    def __init__(self, **kw: Any) -> None:
        self.kw = kw
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.srv: ReplayServer | None = None
        self.error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.srv = ReplayServer(sample_files(), **self.kw)
            self.loop.run_until_complete(self.srv.start())
        except BaseException as exc:  # reported to the test thread
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> ReplayServer:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(60), "the venue did not start"
        if self.error is not None:
            raise self.error
        assert self.srv is not None
        return self.srv

    def __exit__(self, *exc: object) -> None:
        assert self.srv is not None
        asyncio.run_coroutine_threadsafe(self.srv.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@contextlib.contextmanager
def venue(**kw: Any) -> Iterator[ReplayServer]:
    kw = {"speed": 20.0, "loop": True, "clock": "original", **kw}
    with VenueThread(**kw) as srv:
        yield srv


async def test_ccxt_rest_and_pro(truth: Truth) -> None:
    _need("ccxt")
    import ccxt.pro as ccxtpro

    with venue() as srv:
        ex = ccxtpro.binanceusdm({"enableRateLimit": False})
        api = ex.urls["api"]
        for k, v in list(api.items()):
            if isinstance(v, str) and v.startswith("https://fapi.binance.com"):
                api[k] = v.replace("https://fapi.binance.com", srv.rest_url)
        api["ws"]["future"] = api["ws"]["linear"] = srv.ws_url + "/ws"  # ccxt adds /public
        try:
            markets = await ex.load_markets()
            btc = markets["BTC/USDT:USDT"]
            assert btc["precision"]["price"] == 0.1 and btc["precision"]["amount"] == 0.001
            live = await ex.watch_trades("BTC/USDT:USDT")
            book = await ex.watch_order_book("ETH/USDT:USDT")
            trades = await ex.fetch_trades("BTC/USDT:USDT", limit=200)
            rest_book = await ex.fetch_order_book("BTC/USDT:USDT", 5)
            await asyncio.sleep(0)  # let a minute of recording pass (speed 20: ~3 s)
            while not (o := await ex.fetch_ohlcv("BTC/USDT:USDT", "1m")) or len(o) < 2:
                await asyncio.sleep(0.5)
        finally:
            await ex.close()
    for t in live:  # @trade: raw trades
        assert (t["price"], t["amount"], t["timestamp"] * 1000) == truth.trade(
            "BTCUSDT", int(t["id"])
        )
    assert len(trades) > 10
    for t in trades:  # /fapi/v1/aggTrades: Binance aggregates
        info = t["info"]
        p, q = truth.aggregate("BTCUSDT", int(info["f"]), int(info["l"]))
        assert t["price"] == p and t["amount"] == pytest.approx(q)
    assert ("ETHUSDT", book["bids"][0][0], book["asks"][0][0]) in truth.quotes
    assert ("BTCUSDT", rest_book["bids"][0][0], rest_book["asks"][0][0]) in truth.quotes
    for c in o[:-1]:  # complete minutes
        assert c[1:] == pytest.approx(truth.candle("BTCUSDT", c[0])[:5])


async def test_python_binance_async_rest_and_sockets(truth: Truth) -> None:
    _need("binance.async_client")
    from binance import AsyncClient, BinanceSocketManager

    with venue() as srv:
        client = AsyncClient()  # not .create(): that pings the spot API first
        client.FUTURES_URL = srv.rest_url + "/fapi"
        try:
            bm = BinanceSocketManager(client)
            bm.FSTREAM_URL = srv.ws_url + "/"
            async with bm.kline_futures_socket(
                "BTCUSDT"
            ) as ks:  # the first client starts the clock
                kline = await asyncio.wait_for(ks.recv(), 30)
            async with bm.futures_depth_socket("BTCUSDT", depth="5") as ds:
                part = await asyncio.wait_for(ds.recv(), 30)
            server_time = (await client.futures_time())["serverTime"]
            info = await client.futures_exchange_info()
            aggs = await client.futures_aggregate_trades(symbol="BTCUSDT", limit=50)
            klines = await client.futures_klines(symbol="BTCUSDT", interval="1m")
            depth = await client.futures_order_book(symbol="BTCUSDT", limit=5)
        finally:
            await client.close_connection()
    assert {s["symbol"] for s in info["symbols"]} == {"BTCUSDT", "ETHUSDT"}
    assert 1_723_161_000_000 < server_time < 1_723_162_000_000  # the recording's own clock
    for a in aggs:
        assert (float(a["p"]), pytest.approx(float(a["q"]))) == truth.aggregate(
            "BTCUSDT", a["f"], a["l"]
        )
    assert klines and all(len(k) == 12 for k in klines)
    o, h, lo, _, _, n = truth.candle("BTCUSDT", klines[0][0])  # that minute may still run
    assert float(klines[0][1]) == o and lo <= float(klines[0][3]) <= float(klines[0][2]) <= h
    assert 0 < klines[0][8] <= n
    assert ("BTCUSDT", float(depth["bids"][0][0]), float(depth["asks"][0][0])) in truth.quotes
    k = kline["data"]["k"] if "data" in kline else kline["k"]
    want = truth.candle("BTCUSDT", k["t"], last_id=k["L"])
    assert [float(k[x]) for x in "ohlcv"] + [k["n"]] == pytest.approx(want)
    d = part.get("data", part)
    assert (
        d["e"] == "depthUpdate"
        and ("BTCUSDT", float(d["b"][0][0]), float(d["a"][0][0])) in truth.quotes
    )


def test_binance_futures_connector_rest_and_websocket(truth: Truth) -> None:
    _need("binance.um_futures")
    from binance.um_futures import UMFutures
    from binance.websocket.um_futures.websocket_client import UMFuturesWebsocketClient

    got: queue.Queue[dict[str, Any]] = queue.Queue()

    def on_message(_: Any, msg: str) -> None:
        got.put(orjson.loads(msg))

    with venue() as srv:
        market = UMFuturesWebsocketClient(stream_url=srv.ws_url + "/market", on_message=on_message)
        try:  # the first client starts the venue's clock
            market.agg_trade(symbol="ethusdt")
            frames = []
            while len([f for f in frames if f.get("e") == "aggTrade"]) < 20:
                frames.append(got.get(timeout=30))
        finally:
            market.stop()
        rest = UMFutures(base_url=srv.rest_url)
        info = rest.exchange_info()
        aggs = rest.agg_trades("ETHUSDT", limit=30)
        book = rest.depth("ETHUSDT", limit=5)
        ticker = rest.ticker_price("ETHUSDT")
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    for a in aggs:
        assert (float(a["p"]), pytest.approx(float(a["q"]))) == truth.aggregate(
            "ETHUSDT", a["f"], a["l"]
        )
    assert ("ETHUSDT", float(book["bids"][0][0]), float(book["asks"][0][0])) in truth.quotes
    last_p = truth.trades["ETHUSDT"].price
    assert float(ticker["price"]) in set(last_p.tolist())
    assert {"result": None, "id": frames[0]["id"]} == frames[0]  # the SUBSCRIBE ack
    for f in (f for f in frames if f.get("e") == "aggTrade"):
        assert (float(f["p"]), pytest.approx(float(f["q"]))) == truth.aggregate(
            "ETHUSDT", f["f"], f["l"]
        )


def test_cryptofeed_trades_book_and_candles_over_tls(truth: Truth, tmp_path: Path) -> None:
    _need("cryptofeed")
    _need("cryptography")
    from statarb.venue._tls import self_signed

    cert, key = self_signed("127.0.0.1", tmp_path)
    # cryptofeed refuses ws:// and verifies certificates: it trusts the venue's own certificate
    # through the standard variables (read when its HTTP stack is imported, hence a process)
    env = dict(os.environ, SSL_CERT_FILE=str(cert), REQUESTS_CA_BUNDLE=str(cert))
    script = Path(__file__).with_name("_cryptofeed_client.py")
    with venue(certfile=cert, keyfile=key, speed=60.0) as srv:
        assert srv.ws_url.startswith("wss://") and srv.rest_url.startswith("https://")
        proc = subprocess.run([sys.executable, str(script), srv.ws_url, srv.rest_url], env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    got: dict[str, list[Any]] = {"trade": [], "book": [], "candle": []}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            m = orjson.loads(line)
            got[m["kind"]].append(m["data"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert all(len(v) >= 3 for v in got.values())
    for t in got["trade"]:  # aggTrade on the routed /market path
        info = t["raw"].get("data", t["raw"])
        p, q = truth.aggregate("BTCUSDT", info["f"], info["l"])
        assert float(t["price"]) == p and float(t["amount"]) == pytest.approx(q)
    assert all(("BTCUSDT", float(b), float(a)) in truth.quotes for b, a in got["book"])
    for c in got["candle"]:
        k = c["raw"].get("data", c["raw"])["k"]
        want = truth.candle("BTCUSDT", k["t"], last_id=k["L"])
        assert [float(c[x]) for x in "ohlc"] == want[:4]
        assert float(c["v"]) == pytest.approx(want[4]) and c["n"] == want[5]
