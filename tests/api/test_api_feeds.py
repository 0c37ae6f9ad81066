"""Feeds through the API: start symbols on a local replay of the packaged sample, stop them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_helpers import AUTH
from fastapi.testclient import TestClient

from statarb.sample import files
from statarb.venue.server import ReplayServer


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    loop = asyncio.new_event_loop()
    server = ReplayServer(files(), speed=30.0, loop=True)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def _until(fn: Callable[[], Any], tries: int = 200) -> Any:
    for _ in range(tries):
        out = fn()
        if out:
            return out
        time.sleep(0.05)
    raise AssertionError("condition never met")


def test_start_status_stop(app_factory: Callable[..., TestClient], replay: ReplayServer) -> None:
    client = app_factory(binance_ws_url=replay.ws_url, binance_rest_url=replay.rest_url)
    assert client.post("/api/v1/feeds", json={"symbols": ["btcusdt"]}).status_code == 401
    r = client.post("/api/v1/feeds", json={"symbols": ["btcusdt", "ethusdt"]}, headers=AUTH)
    assert r.status_code == 200 and r.json()["symbols"] == ["BTCUSDT", "ETHUSDT"]
    again = client.post("/api/v1/feeds", json={"symbols": ["BTCUSDT"]}, headers=AUTH).json()
    assert again["symbols"] == []  # already streaming
    feeds = _until(lambda: [f for f in client.get("/api/v1/feeds").json()["feeds"]
                            if f["stats"]["ticks"] > 100])  # fmt: skip
    assert feeds[0]["running"] and feeds[0]["symbols"] == ["BTCUSDT", "ETHUSDT"]
    _until(lambda: {s["symbol"] for s in client.get("/api/v1/symbols").json()} >= {"BTCUSDT"})
    r = client.request("DELETE", "/api/v1/feeds", json={"symbols": ["BTCUSDT", "ETHUSDT"]},
                       headers=AUTH)  # fmt: skip
    assert r.json() == {"symbols": ["BTCUSDT", "ETHUSDT"], "feeds": []}
    bad = client.post("/api/v1/feeds", json={"symbols": ["BTC/USDT"]}, headers=AUTH)
    assert bad.status_code == 422
