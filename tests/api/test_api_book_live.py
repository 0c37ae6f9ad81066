"""The demo's 50-pair book live: venue, engine and API on the shipped sample and on the real
recordings, every row updated by live bars."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from statarb import sample
from statarb.cli._demo_book import DEMO_BOOK_SIZE, demo_book, seed_demo_book
from statarb.model import BarBatch
from statarb.venue.server import ReplayServer

#: the venue plays 60 recorded seconds a second on the recording's own clock, so bars close at
#: that pace (today's clock would pace them at wall-clock speed)
SPEED = 60.0


@contextmanager
def _venue(files: list[Path], klines: list[BarBatch]) -> Iterator[ReplayServer]:
    loop = asyncio.new_event_loop()
    server = ReplayServer(files, klines=klines, kline_start_us=sample.TAPE_START_US, speed=SPEED,
                          loop=True, clock="original")  # fmt: skip
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(60), "the venue did not start"
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _until(fn: Callable[[], Any], what: str, safety_s: float = 240.0) -> Any:
    """Poll ``fn`` until it is truthy (the deadline only turns a hang into a failure)."""
    deadline = time.monotonic() + safety_s
    while time.monotonic() < deadline:
        if out := fn():
            return out
        time.sleep(0.1)
    raise AssertionError(f"{what}: never happened")


def _data(kind: str, request: pytest.FixtureRequest) -> tuple[list[Path], list[BarBatch]]:
    if kind == "shipped":
        return sample.files(), sample.history_bars()
    shared: Path = request.getfixturevalue("shared_data")
    rec = shared / "binance-usdm-recorded"
    # 3 recorded minutes with depth, and the seven monthly kline archives as files
    klines = sorted((shared / "binance-usdm-klines-1m").glob("*-1m-2026-02.zip"))
    return [rec / "btcusdt_20240718.gz", rec / "ethusdt_20240718.gz", *klines], []


@pytest.mark.parametrize("kind", ["shipped", "recorded"])
def test_fifty_book_rows_update_live(
    kind: str, sqlite_url: str, app_factory: Callable[..., TestClient],
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    from statarb.store import open_store

    files, klines = _data(kind, request)
    entries = demo_book(sample.DEMO_SYMBOLS, sample.HISTORY_SYMBOLS)
    assert len(set(entries)) == DEMO_BOOK_SIZE == 50
    store = open_store(sqlite_url)
    try:
        assert seed_demo_book(store, entries) == 50
        assert seed_demo_book(store, entries) == 0  # only an empty book is seeded
    finally:
        store.close()
    with _venue(files, klines) as venue:
        assert venue.rec is not None and set(venue.rec.symbols) == set(sample.DEMO_SYMBOLS)
        # no stored history: every row's analytics come from live bars
        urls = {"binance_ws_url": venue.ws_url, "binance_rest_url": venue.rest_url}
        client = app_factory(symbols=list(sample.DEMO_SYMBOLS), timeframes=["1m", "5m"], **urls)
        first = client.get("/api/v1/book").json()
        assert len(first) == 50 and all(r["analytics"] is None for r in first)
        t0 = int(venue.rec.ts[0])

        def all_live() -> list[dict[str, Any]] | None:
            rows = client.get("/api/v1/book").json()
            live = [r for r in rows if r["analytics"] and r["analytics"]["time"] >= t0 - 300e6]
            return rows if len(live) == 50 else None

        rows = _until(all_live, "a live bar for every one of the 50 rows")
    assert {(r["a"], r["b"], r["timeframe"]) for r in rows} == set(entries)
    assert sum(r["timeframe"] == "5m" for r in rows) == 14
