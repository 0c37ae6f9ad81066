"""The replay server over real sockets: routes, control replies, REST, clock and fault switches."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import httpx
import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from _live_helpers import write_recording
from statarb.errors import InputError
from statarb.ingest.files import read_file
from statarb.venue.server import ReplayServer


def _ws(url: str) -> connect:
    return connect(url, close_timeout=0.2, max_queue=None)


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return write_recording(tmp_path / "rec.jsonl", ("AAAUSDT", "BBBUSDT"), n=200, step_ms=10)


async def _frames(ws: ClientConnection, n: int, timeout: float = 5.0) -> list[dict]:
    out = []
    async with asyncio.timeout(timeout):
        while len(out) < n:
            out.append(orjson.loads(await ws.recv()))
    return out


async def _silent(ws: ClientConnection, seconds: float) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    return False


async def test_combined_and_raw_paths(recording: Path) -> None:
    async with ReplayServer([recording], speed=5.0) as srv:
        async with _ws(f"{srv.ws_url}/market/stream?streams=aaausdt@aggTrade") as ws:
            frames = await _frames(ws, 5)
        assert all(f["stream"] == "aaausdt@aggTrade" for f in frames)
        d = frames[0]["data"]
        assert d["e"] == "aggTrade" and d["s"] == "AAAUSDT" and d["a"] == d["f"] == d["l"]
        assert isinstance(d["p"], str) and isinstance(d["T"], int) and isinstance(d["m"], bool)
        async with _ws(f"{srv.ws_url}/public/ws/bbbusdt@bookTicker") as ws:
            raw = await _frames(ws, 3)
        assert all(f["e"] == "bookTicker" and f["s"] == "BBBUSDT" for f in raw)


async def test_control_requests_over_the_socket(recording: Path) -> None:
    async with (
        ReplayServer([recording], speed=5.0) as srv,
        _ws(f"{srv.ws_url}/public/ws") as ws,
    ):
        await ws.send('{"method":"SUBSCRIBE","params":["aaausdt@bookTicker"],"id":1}')
        assert orjson.loads(await ws.recv()) == {"result": None, "id": 1}
        first = await _frames(ws, 2)
        assert first[0]["e"] == "bookTicker" and "stream" not in first[0]
        await ws.send('{"method":"SET_PROPERTY","params":["combined",true],"id":2}')
        await ws.send('{"method":"GET_PROPERTY","params":["combined"],"id":3}')
        await ws.send('{"method":"LIST_SUBSCRIPTIONS","id":4}')
        await ws.send('{"method":"SUBSCRIBE","params":["AAAUSDT@bookTicker"],"id":5}')
        replies, later = {}, []
        async with asyncio.timeout(5):
            while len(replies) < 4:
                msg = orjson.loads(await ws.recv())
                if "id" in msg:
                    replies[msg["id"]] = msg
                else:
                    later.append(msg)
        assert replies[2] == {"result": None, "id": 2}
        assert replies[3] == {"result": True, "id": 3}
        assert replies[4] == {"result": ["aaausdt@bookTicker"], "id": 4}
        assert replies[5] == {
            "error": {"code": 2, "msg": "Invalid request: invalid stream"},
            "id": 5,
        }
        nxt = (await _frames(ws, 1))[0]
        assert nxt["stream"] == "aaausdt@bookTicker"  # combined after SET_PROPERTY


async def test_wrong_route_and_legacy_paths_ack_but_stay_silent(recording: Path) -> None:
    async with ReplayServer([recording], speed=1.0) as srv:
        async with (
            _ws(f"{srv.ws_url}/public/stream") as pub,
            _ws(f"{srv.ws_url}/ws") as leg,
        ):
            for ws in (pub, leg):
                await ws.send('{"method":"SUBSCRIBE","params":["aaausdt@aggTrade"],"id":9}')
                assert orjson.loads(await ws.recv()) == {"result": None, "id": 9}
            assert await _silent(pub, 0.4) and await _silent(leg, 0.1)
            await leg.send('{"method":"SUBSCRIBE","params":["aaausdt@bookTicker"],"id":10}')
            assert orjson.loads(await leg.recv()) == {"result": None, "id": 10}
            assert (await _frames(leg, 1))[0]["e"] == "bookTicker"  # public streams flow
        async with _ws(f"{srv.ws_url}/market/ws/zzzusdt@aggTrade") as ws:
            assert await _silent(ws, 0.3)  # unknown but well-formed symbol


async def test_clock_runs_from_the_first_connection_and_rest_serves_only_the_past(
    recording: Path,
) -> None:
    async with ReplayServer([recording], speed=2.0) as srv, httpx.AsyncClient() as http:
        url = f"{srv.rest_url}/fapi/v1/aggTrades"
        r = await http.get(url, params={"symbol": "AAAUSDT", "fromId": 1000})
        assert r.status_code == 200 and r.json() == []  # nothing has happened yet
        async with _ws(f"{srv.ws_url}/market/stream?streams=aaausdt@aggTrade") as ws:
            await _frames(ws, 10)
        await asyncio.sleep(0.2)  # the clock keeps running with nobody connected
        r = await http.get(url, params={"symbol": "AAAUSDT", "fromId": 1000, "limit": 1000})
        rows = r.json()
        assert 10 < len(rows) < 200
        assert [x["a"] for x in rows] == list(range(1000, 1000 + len(rows)))
        assert set(rows[0]) == {"a", "p", "q", "f", "l", "T", "m"}
        # 20 per request, summed over the current minute (which may have just begun)
        assert int(r.headers["X-MBX-USED-WEIGHT-1M"]) in (20, 40)
        page = (
            await http.get(url, params={"symbol": "aaausdt", "fromId": 1005, "limit": 3})
        ).json()
        assert [x["a"] for x in page] == [1005, 1006, 1007]


async def test_rest_errors_ping_time_and_exchange_info(recording: Path, shared_data: Path) -> None:
    async with ReplayServer([recording], speed=None) as srv, httpx.AsyncClient() as http:
        base = srv.rest_url
        bad = await http.get(f"{base}/fapi/v1/aggTrades", params={"symbol": "NOPEUSDT"})
        assert bad.status_code == 400 and bad.json() == {"code": -1121, "msg": "Invalid symbol."}
        assert (await http.get(f"{base}/fapi/v1/aggTrades")).json()["code"] == -1102
        lim = await http.get(
            f"{base}/fapi/v1/aggTrades", params={"symbol": "AAAUSDT", "limit": 1001}
        )
        assert lim.status_code == 400 and lim.json()["code"] == -1130
        assert (await http.get(f"{base}/fapi/v1/ping")).json() == {}
        assert isinstance((await http.get(f"{base}/fapi/v1/time")).json()["serverTime"], int)
        assert (await http.get(f"{base}/nothing")).status_code == 404
        info = (await http.get(f"{base}/fapi/v1/exchangeInfo")).json()
    real_text = (shared_data / "binance-usdm-protocol" / "BINANCE_FUTURES.0").read_text()
    real = json.loads(real_text[real_text.index("{") :].splitlines()[0])
    assert set(info) == set(real)
    assert [s["symbol"] for s in info["symbols"]] == ["AAAUSDT", "BBBUSDT"]
    real_keys = set(real["symbols"][0])
    for sym in info["symbols"]:
        assert set(sym) == real_keys
        assert {f["filterType"] for f in sym["filters"]} == {
            f["filterType"] for f in real["symbols"][0]["filters"]
        }
    assert (
        info["symbols"][0]["pricePrecision"] == 1 and info["symbols"][0]["quantityPrecision"] == 1
    )


async def test_rest_weight_limit_answers_429_with_retry_after(recording: Path) -> None:
    srv = ReplayServer([recording], speed=None, rest_weight_limit=45)
    async with srv, httpx.AsyncClient() as http:
        url = f"{srv.rest_url}/fapi/v1/aggTrades"
        codes = [(await http.get(url, params={"symbol": "AAAUSDT"})) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert codes[2].json()["code"] == -1003 and int(codes[2].headers["Retry-After"]) >= 1


async def test_disconnect_every_and_incoming_rate_limit(recording: Path) -> None:
    srv = ReplayServer([recording], speed=None, disconnect_every=7)
    async with srv, _ws(f"{srv.ws_url}/market/stream?streams=aaausdt@aggTrade") as ws:
        got = []
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                got.append(await asyncio.wait_for(ws.recv(), 5))
        assert len(got) == 7
    async with (
        ReplayServer([recording], speed=1.0) as srv,
        _ws(f"{srv.ws_url}/public/ws") as ws,
    ):
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for i in range(30):
                await ws.send(f'{{"method":"LIST_SUBSCRIPTIONS","id":{i}}}')
                await asyncio.sleep(0.001)
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_trade_recordings_are_aggregated_like_binance(shared_data: Path) -> None:
    path = shared_data / "binance-usdm-recorded" / "btcusdt_20240718.gz"
    src = next(iter(read_file(path))).ticks["BTCUSDT"]
    srv = ReplayServer([path], speed=None, clock="original")
    async with srv, _ws(f"{srv.ws_url}/market/stream?streams=btcusdt@aggTrade") as ws:
        frames = [f["data"] for f in await _frames(ws, 300)]
    ids = src.trade_id.tolist()
    assert [f["a"] for f in frames] == list(range(frames[0]["a"], frames[0]["a"] + 300))
    assert any(f["l"] > f["f"] for f in frames)  # several fills of one taker make one aggregate
    for prev, f in itertools.pairwise(frames):
        assert f["f"] == prev["l"] + 1  # every trade in exactly one aggregate
    for f in frames:
        rows = slice(ids.index(f["f"]), ids.index(f["l"]) + 1)
        assert len(set(src.price[rows])) == 1 and len(set(src.side[rows])) == 1
        assert len(set(src.ts[rows])) == 1 and f["T"] * 1000 == src.ts[rows][-1] == f["E"] * 1000
        assert f["p"] == f"{src.price[rows][0]:.2f}" and f["m"] == bool(src.side[rows][0] == 1)
        assert f["q"] == f"{src.size[rows].sum():.3f}"


def test_invalid_options(recording: Path) -> None:
    with pytest.raises(InputError):
        ReplayServer([recording], speed=0)
    with pytest.raises(InputError):
        ReplayServer([recording], disconnect_every=0)
    with pytest.raises(InputError):
        ReplayServer([])


async def test_loop_keeps_ids_and_update_ids_increasing(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.jsonl", ("AAAUSDT",), n=100, step_ms=1)
    srv = ReplayServer([path], speed=None, loop=True)
    async with srv, _ws(f"{srv.ws_url}/market/stream?streams=aaausdt@aggTrade") as ws:
        trades = [f["data"] for f in await _frames(ws, 250)]
    assert [t["a"] for t in trades] == list(range(1000, 1250))
    assert all(b["T"] >= a["T"] for a, b in itertools.pairwise(trades))
    srv = ReplayServer([path], speed=None, loop=True)
    async with srv, _ws(f"{srv.ws_url}/public/stream?streams=aaausdt@bookTicker") as ws:
        u = [f["data"]["u"] for f in await _frames(ws, 250)]
    assert all(b > a for a, b in itertools.pairwise(u))


async def test_stream_cap_and_connection_age_limit(recording: Path) -> None:
    srv = ReplayServer([recording], speed=1.0, max_streams=2, max_connection_age=0.3)
    async with srv:
        async with _ws(f"{srv.ws_url}/public/ws") as ws:
            await ws.send('{"method":"SUBSCRIBE","params":["a@bookTicker","b@bookTicker"],"id":1}')
            assert orjson.loads(await ws.recv()) == {"result": None, "id": 1}
            await ws.send('{"method":"SUBSCRIBE","params":["c@bookTicker"],"id":2}')
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(5):
                    while True:
                        await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        async with _ws(f"{srv.ws_url}/public/ws") as ws:
            with pytest.raises(websockets.ConnectionClosed) as aged:
                async with asyncio.timeout(5):
                    while True:
                        await ws.recv()
            assert aged.value.rcvd is not None and aged.value.rcvd.code == 1001


async def test_reorder_duplicate_and_malformed_switches(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.jsonl", ("AAAUSDT",), n=30, quotes=False)
    srv = ReplayServer([path], speed=None, reorder_every=4, duplicate_every=5,
                       malformed={"aaausdt": {1010: "json", 1020: "price"}})  # fmt: skip
    async with srv, _ws(f"{srv.ws_url}/market/ws/aaausdt@aggTrade") as ws:
        async with asyncio.timeout(5):
            texts = [await ws.recv() for _ in range(35)]  # 30 trades, 5 sent twice
        assert await _silent(ws, 0.2)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(texts[12])  # trade 1010, cut off
    frames = [orjson.loads(t) for i, t in enumerate(texts) if i != 12]
    ids = [f["a"] for f in frames]
    # the 4th, 8th, ... trade comes after its successor; the 5th, 10th, ... twice in a row
    assert ids[:12] == [1000, 1001, 1002, 1004, 1003, 1004, 1005, 1006, 1008, 1007, 1009, 1009]
    assert sorted(set(ids)) == [i for i in range(1000, 1030) if i != 1010]
    assert [f["p"] for f in frames if f["a"] == 1020] == ["0"]
    with pytest.raises(InputError, match="malformed kinds"):
        ReplayServer([path], malformed={"AAAUSDT": {1: "typo"}})
    with pytest.raises(InputError, match="reorder_every"):
        ReplayServer([path], reorder_every=0)


async def test_without_autoplay_a_client_on_two_connections_misses_no_event(
    recording: Path,
) -> None:
    srv = ReplayServer([recording], speed=None, autoplay=False)
    async with srv, _ws(f"{srv.ws_url}/market/stream?streams=aaausdt@aggTrade") as trades:
        assert srv.subscriptions() == {"aaausdt@aggTrade"}
        assert await _silent(trades, 0.2)  # connected, but nothing plays yet
        async with _ws(f"{srv.ws_url}/public/stream?streams=aaausdt@bookTicker") as quotes:
            assert srv.subscriptions() == {"aaausdt@aggTrade", "aaausdt@bookTicker"}
            srv.play()
            first_trade = (await _frames(trades, 1))[0]["data"]
            first_quote = (await _frames(quotes, 1))[0]["data"]
    assert first_trade["a"] == srv.rec.aggs["AAAUSDT"].id0  # type: ignore[union-attr]
    assert first_quote["u"] == int(srv.rec.quotes["AAAUSDT"].update_id[0])  # type: ignore[union-attr]
