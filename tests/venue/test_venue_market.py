"""The venue as Binance clients see it: clock, seamless loops, REST endpoints, depth, TLS."""

from __future__ import annotations

import asyncio
import itertools
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect

from statarb.venue.server import ReplayServer

T0_MS = 1_700_000_000_000


def _walk(path: Path, *, n: int = 300, seed: int = 7, quotes: bool = True) -> Path:
    """Two symbols on a trending random walk (last price far from the first), aggTrade frames."""
    rng = np.random.default_rng(seed)
    lines = []
    px = {"AAAUSDT": 100.0, "BBBUSDT": 50.0}
    for i in range(n):
        for k, s in enumerate(px):
            px[s] *= float(np.exp(0.002 + 0.001 * rng.standard_normal()))
            p = round(px[s], 2)
            t = T0_MS + i * 20 + k
            d = {"e": "aggTrade", "E": t, "a": 5000 + i, "s": s, "p": f"{p:.2f}",
                 "q": f"{1 + i % 3}.500", "f": 9000 + i, "l": 9000 + i, "T": t,
                 "m": i % 2 == 0}  # fmt: skip
            lines.append(orjson.dumps({"stream": f"{s.lower()}@aggTrade", "data": d}))
            if quotes:
                q = {"e": "bookTicker", "u": 70_000 + 2 * i, "s": s, "b": f"{p - 0.01:.2f}",
                     "B": f"{1 + i % 5}.000", "a": f"{p + 0.01:.2f}", "A": "2.000", "T": t + 1,
                     "E": t + 1}  # fmt: skip
                lines.append(orjson.dumps({"stream": f"{s.lower()}@bookTicker", "data": q}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _ws(url: str, **kw: Any) -> Any:
    return connect(url, open_timeout=10, close_timeout=0.2, max_size=None, max_queue=None, **kw)


async def _frames(ws: ClientConnection, n: int) -> list[dict[str, Any]]:
    out = []
    async with asyncio.timeout(30):
        while len(out) < n:
            msg = orjson.loads(await ws.recv())
            if "id" not in msg:
                out.append(msg.get("data", msg))
    return out


async def test_one_content_type_on_every_rest_answer(tmp_path: Path) -> None:
    async with ReplayServer([_walk(tmp_path / "r.jsonl", n=20)], speed=None) as srv:
        reader, writer = await asyncio.open_connection(srv.host, srv.port)
        writer.write(b"GET /fapi/v1/time HTTP/1.1\r\nHost: x\r\n\r\n")
        head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
        writer.close()
    assert head.count("content-type:") == 1 and "content-type: application/json" in head


async def test_clock_is_shifted_to_now_by_default(tmp_path: Path) -> None:
    path = _walk(tmp_path / "r.jsonl", n=100)
    before = time.time() * 1000
    async with ReplayServer([path], speed=1.0) as srv, httpx.AsyncClient() as http:
        async with _ws(f"{srv.ws_url}/market/stream?streams=aaausdt@aggTrade") as ws:
            frames = await _frames(ws, 25)
        server_ms = (await http.get(f"{srv.rest_url}/fapi/v1/time")).json()["serverTime"]
        assert before - 5000 < frames[0]["T"] < time.time() * 1000 + 5000
        assert abs(server_ms - time.time() * 1000) < 5000
        window = {"symbol": "AAAUSDT", "startTime": server_ms - 60_000, "endTime": server_ms}
        rows = (await http.get(f"{srv.rest_url}/fapi/v1/aggTrades", params=window)).json()
        assert len(rows) >= 25  # a window built from server time finds the data
    srv = ReplayServer([path], speed=None, clock="original")
    async with srv, _ws(f"{srv.ws_url}/market/stream?streams=aaausdt@aggTrade") as ws:
        frames = await _frames(ws, 5)
    assert [f["T"] for f in frames] == [T0_MS + i * 20 for i in range(5)]


async def test_loop_seams_join_without_a_jump(tmp_path: Path) -> None:
    n = 120
    path = _walk(tmp_path / "r.jsonl", n=n, quotes=False)
    streams = "aaausdt@aggTrade/bbbusdt@aggTrade"
    srv = ReplayServer([path], speed=None, loop=True)
    async with srv, _ws(f"{srv.ws_url}/market/stream?streams={streams}") as ws:
        frames = await _frames(ws, 2 * (3 * n + 5))
    by = {s: [f for f in frames if f["s"] == s] for s in ("AAAUSDT", "BBBUSDT")}
    logs = {}
    for s, fs in by.items():
        assert [f["a"] for f in fs] == list(range(5000, 5000 + len(fs)))  # ids strictly +1
        assert all(b["T"] >= a["T"] for a, b in itertools.pairwise(fs))  # time goes on
        p = np.array([float(f["p"]) for f in fs])
        r = np.abs(np.diff(np.log(p)))
        seams = r[[n - 1, 2 * n - 1]]
        assert seams.max() <= np.quantile(r, 0.99)  # the seam is an ordinary step, not a jump
        g = p[n - 1] / p[0]
        np.testing.assert_allclose(p[n : 2 * n], p[:n] * g, rtol=2e-4)  # rebased, not repeated
        assert p[2 * n] > p[n] > p[0]  # each pass starts where the previous ended
        logs[s] = np.log(p[: 3 * n])
    spread = logs["AAAUSDT"] - logs["BBBUSDT"]
    steps = np.abs(np.diff(spread))
    assert steps[[n - 1, 2 * n - 1]].max() <= np.quantile(steps, 0.99)  # no spread jump


async def test_rest_endpoints_agree_with_the_stream(tmp_path: Path) -> None:
    path = _walk(tmp_path / "r.jsonl", n=200)
    async with ReplayServer([path], speed=None, clock="original") as srv:
        async with _ws(f"{srv.ws_url}/market/stream?streams=aaausdt@aggTrade") as ws:
            frames = await _frames(ws, 200)
        await srv.done.wait()
        async with httpx.AsyncClient(base_url=srv.rest_url) as http:
            kl = await http.get("/fapi/v1/klines", params={"symbol": "AAAUSDT", "interval": "1s"})
            assert kl.status_code == 400 and kl.json()["code"] == -1120
            one_min = {"symbol": "AAAUSDT", "interval": "1m"}
            rows = (await http.get("/fapi/v1/klines", params=one_min)).json()
            last = {"symbol": "AAAUSDT", "limit": 1000}
            trades = (await http.get("/fapi/v1/trades", params=last)).json()
            t24 = (await http.get("/fapi/v1/ticker/24hr", params={"symbol": "AAAUSDT"})).json()
            price = (await http.get("/fapi/v2/ticker/price", params={"symbol": "AAAUSDT"})).json()
            prem = await http.get("/fapi/v1/premiumIndex", params={"symbol": "AAAUSDT"})
            wide = await http.get("/fapi/v1/aggTrades", params={
                "symbol": "AAAUSDT", "startTime": T0_MS, "endTime": T0_MS + 3_600_000})  # fmt: skip
            depth = await http.get("/fapi/v1/depth", params={"symbol": "AAAUSDT", "limit": 5})
            bad = await http.get("/fapi/v1/depth", params={"symbol": "AAAUSDT", "limit": 7})
    p = np.array([float(f["p"]) for f in frames])
    q = np.array([float(f["q"]) for f in frames])
    minute = np.array([f["T"] // 60_000 * 60_000 for f in frames])
    assert [r[0] for r in rows] == sorted(set(minute.tolist()))
    for r in rows:
        sel = minute == r[0]
        assert r[1:5] == [f"{x:.2f}" for x in (p[sel][0], p[sel].max(), p[sel].min(), p[sel][-1])]
        assert r[5] == f"{q[sel].sum():.3f}" and r[8] == int(sel.sum()) and r[6] == r[0] + 59_999
    assert [t["price"] for t in trades] == [f["p"] for f in frames]
    assert t24["lastPrice"] == frames[-1]["p"] and t24["count"] == 200
    assert price["price"] == frames[-1]["p"]
    assert "markPrice" in prem.headers["X-Statarb-Synthesised"]
    body = prem.json()
    assert body["markPrice"] == frames[-1]["p"] and body["indexPrice"] != body["markPrice"]
    assert wide.status_code == 400 and wide.json()["code"] == -1127
    assert depth.status_code == 200 and len(depth.json()["bids"]) == 1  # book from quotes
    assert bad.json()["code"] == -1130


def _apply(book: dict[str, dict[str, float]], frame: dict[str, Any]) -> None:
    for side, key in (("bids", "b"), ("asks", "a")):
        for p, qty in frame[key]:
            if float(qty) == 0:
                book[side].pop(p, None)
            else:
                book[side][p] = float(qty)


async def _rebuild(srv: ReplayServer, sym: str, n_after: int) -> tuple[dict, list[dict], dict]:
    """Binance's local-book procedure: buffer diffs, snapshot, drop old, chain on ``pu``."""
    async with (
        _ws(f"{srv.ws_url}/public/stream?streams={sym.lower()}@depth@0ms") as ws,
        httpx.AsyncClient(base_url=srv.rest_url, verify=False) as http,
    ):
        buffered = await _frames(ws, 3)
        snap = (await http.get("/fapi/v1/depth", params={"symbol": sym, "limit": 1000})).json()
        book = {"bids": {p: float(q) for p, q in snap["bids"]},
                "asks": {p: float(q) for p, q in snap["asks"]}}  # fmt: skip
        last = snap["lastUpdateId"]
        applied: list[dict] = []
        pending = buffered

        async def feed(until: Any) -> None:
            nonlocal pending
            while not until():
                if not pending:
                    pending = await _frames(ws, 1)
                f = pending.pop(0)
                if f["u"] < last:
                    continue
                if not applied:
                    assert f["U"] <= last <= f["u"]
                else:
                    assert f["pu"] == applied[-1]["u"]
                _apply(book, f)
                applied.append(f)

        await feed(lambda: len(applied) >= n_after)
        check = (await http.get("/fapi/v1/depth", params={"symbol": sym, "limit": 1000})).json()
        await feed(lambda: applied[-1]["u"] >= check["lastUpdateId"])
        assert applied[-1]["u"] == check["lastUpdateId"]
    return book, applied, check


def _top(book: dict[str, dict[str, float]], n: int) -> tuple[list, list]:
    bids = sorted(book["bids"].items(), key=lambda kv: -float(kv[0]))[:n]
    asks = sorted(book["asks"].items(), key=lambda kv: float(kv[0]))[:n]
    return bids, asks


async def test_a_client_rebuilds_the_recorded_book(shared_data: Path) -> None:
    path = shared_data / "binance-usdm-recorded" / "btcusdt_20240808.gz"
    srv = ReplayServer([path], speed=4.0)
    async with srv:
        book, applied, check = await _rebuild(srv, "BTCUSDT", 40)
    want_b = [(p, float(q)) for p, q in check["bids"][:50]]
    want_a = [(p, float(q)) for p, q in check["asks"][:50]]
    assert _top(book, 50) == (want_b, want_a)
    assert all(len(p.split(".")[1]) == 2 for f in applied for p, _ in f["b"])  # "61800.30"


async def test_the_book_survives_loop_seams(tmp_path: Path) -> None:
    path = _walk(tmp_path / "r.jsonl", n=60)
    srv = ReplayServer([path], speed=None, loop=True)
    async with srv:
        book, _, check = await _rebuild(srv, "AAAUSDT", 200)  # three passes and more
    bids, asks = _top(book, 5)
    assert (bids, asks) == ([(p, float(q)) for p, q in check["bids"]],
                            [(p, float(q)) for p, q in check["asks"]])  # fmt: skip
    assert len(bids) == len(asks) == 1 and float(bids[0][0]) < float(asks[0][0])


async def test_exchange_info_precision_and_payload_decimals(shared_data: Path) -> None:
    path = shared_data / "binance-usdm-recorded" / "btcusdt_20240718.gz"
    async with ReplayServer([path], speed=None) as srv, httpx.AsyncClient() as http:
        info = (await http.get(f"{srv.rest_url}/fapi/v1/exchangeInfo")).json()
        async with _ws(f"{srv.ws_url}/public/stream?streams=btcusdt@trade") as ws:
            trades = await _frames(ws, 100)
    btc = info["symbols"][0]
    assert (btc["pricePrecision"], btc["quantityPrecision"]) == (2, 3)
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.10"
    assert filters["LOT_SIZE"]["stepSize"] == "0.001"
    assert all(len(t["p"].split(".")[1]) == 2 and len(t["q"].split(".")[1]) == 3 for t in trades)


async def test_tls_with_a_self_signed_certificate(tmp_path: Path) -> None:
    pytest.importorskip("cryptography", reason="the cryptography package is not installed")
    srv = ReplayServer([_walk(tmp_path / "r.jsonl", n=50)], speed=None, tls=True)
    async with srv:
        assert srv.ws_url.startswith("wss://") and srv.rest_url.startswith("https://")
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        async with _ws(f"{srv.ws_url}/market/ws/aaausdt@aggTrade", ssl=ctx) as ws:
            assert (await _frames(ws, 3))[0]["e"] == "aggTrade"
        async with httpx.AsyncClient(verify=False) as http:
            assert (await http.get(f"{srv.rest_url}/fapi/v1/ping")).json() == {}


def test_clock_and_tls_options_are_checked(tmp_path: Path) -> None:
    from statarb.errors import InputError

    path = _walk(tmp_path / "r.jsonl", n=5)
    with pytest.raises(InputError, match="clock"):
        ReplayServer([path], clock="later")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="certfile"):
        ReplayServer([path], certfile=tmp_path / "c.pem")
