"""Feed faults end to end: replay server -> BinanceFeed -> TickWriter -> SQLite, nothing lost.

Each test injects one fault class through a :class:`ReplayServer` switch (or a combination of
them on real recordings) and then compares the stored ticks with the source recording: the same
trade ids, times, prices, sizes and sides, each exactly once. Trades the live stream did not
deliver intact must come from the client's REST backfill.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _live_helpers import served_trades, write_recording
from statarb.ingest._feed_stats import FeedStats
from statarb.ingest.binance import BinanceFeed, FeedBatch
from statarb.ingest.writer import TickWriter, WriterStats
from statarb.model import TickBatch
from statarb.store import open_store
from statarb.store.base import TickStore
from statarb.venue.server import MALFORMED_KINDS, ReplayServer

SYMS = ("AAAUSDT", "BBBUSDT")


@dataclass(frozen=True)
class Outcome:
    """What one faulty session left behind."""

    source: dict[str, TickBatch]
    stored: dict[str, TickBatch]
    feed: FeedStats
    writer: WriterStats
    connections: int


def _source(files: Sequence[Path]) -> dict[str, TickBatch]:
    return served_trades(files)  # raw trade recordings are served aggregated, like Binance


def _by_id(b: TickBatch) -> TickBatch:
    return b.take(np.argsort(b.trade_id, kind="stable"))


async def _wait_emitted(feed: BinanceFeed, last: dict[str, int], tasks: list[asyncio.Task]) -> None:
    """Until the feed emitted the last source id of every symbol (or a task died)."""
    while True:
        for t in tasks:
            if t.done():
                t.result()  # raises what killed it
                raise AssertionError("a task ended before the session was complete")
        ids = feed.stats.last_ids
        if all(ids.get(s) == i for s, i in last.items()):
            return
        await asyncio.sleep(0.02)


async def _session(
    files: Sequence[Path],
    store: TickStore,
    *,
    symbols: Sequence[str] | None = None,
    last_ids: dict[str, int] | None = None,
    timeout: float = 30.0,
    server: dict[str, Any] | None = None,
    **feed_kw: Any,
) -> Outcome:
    """Stream a recording through the real feed and writer into ``store`` under a fault."""
    source = _source(files)
    first = {s: int(b.trade_id[0]) - 1 for s, b in source.items()}  # "stored up to here"
    opts: dict[str, Any] = {"backoff_base": 0.01, "backoff_cap": 0.05, "silence_timeout": 5.0}
    opts.update(feed_kw)
    async with ReplayServer(files, clock="original", **(server or {"speed": None})) as srv:
        queue: asyncio.Queue[FeedBatch] = asyncio.Queue(maxsize=1000)
        feed = BinanceFeed(symbols or list(source), out=queue, ws_url=srv.ws_url,
                           rest_url=srv.rest_url, last_ids={**first, **(last_ids or {})},
                           **opts)  # fmt: skip
        writer = TickWriter(store, flush_interval=0.02)
        tasks = [asyncio.create_task(feed.run()), asyncio.create_task(writer.run(queue))]
        try:
            last = {s: int(b.trade_id[-1]) for s, b in source.items()}
            await asyncio.wait_for(_wait_emitted(feed, last, tasks), timeout)
        finally:
            feed.stop()
            await asyncio.gather(tasks[0], return_exceptions=True)
            await writer.close()
            await asyncio.gather(tasks[1], return_exceptions=True)
        stored = {s: store.read_ticks(s) for s in source}
        return Outcome(source, stored, feed.stats, writer.stats, srv.connections)


def assert_store_equals_source(out: Outcome) -> None:
    """Every source trade stored once with its recorded values; nothing else; nothing lost."""
    for sym, src in out.source.items():
        got, want = _by_id(out.stored[sym]), _by_id(src)
        assert len(got) == len(want), f"{sym}: stored {len(got)} ticks, source has {len(want)}"
        np.testing.assert_array_equal(got.trade_id, want.trade_id, err_msg=sym)
        np.testing.assert_array_equal(got.ts, want.ts, err_msg=sym)
        np.testing.assert_array_equal(got.price, want.price, err_msg=sym)
        np.testing.assert_array_equal(got.size, want.size, err_msg=sym)
        np.testing.assert_array_equal(got.side, want.side, err_msg=sym)
    total = sum(len(b) for b in out.source.values())
    # the feed emitted each trade exactly once (the store's unique index would hide repeats)
    assert out.feed.ticks == total and out.feed.lost == 0
    rows = total + out.feed.quotes
    assert out.writer.received == out.writer.written == rows and out.writer.dropped == 0


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return write_recording(tmp_path / "rec.jsonl", SYMS, n=400, quotes=False)


@pytest.fixture
def store(tmp_path: Path) -> TickStore:
    st = open_store(f"sqlite:///{tmp_path / 'faults.db'}")
    yield st  # type: ignore[misc]
    st.close()


@pytest.mark.parametrize(("every", "drops"), [(37, 3), (250, 2)])
async def test_disconnect_every_n_frames(
    recording: Path, store: TickStore, every: int, drops: int
) -> None:
    out = await _session([recording], store, server={"speed": 5.0, "disconnect_every": every})
    assert_store_equals_source(out)
    assert out.feed.reconnects >= drops and out.connections >= out.feed.reconnects + 1
    assert out.feed.backfilled > 0  # what was sent while the client reconnected


async def test_id_gaps_longer_than_a_rest_page(tmp_path: Path, store: TickStore) -> None:
    path = write_recording(tmp_path / "long.jsonl", SYMS, n=2600, step_ms=1, quotes=False)
    skips = {"AAAUSDT": (1100, 2350), "BBBUSDT": (1500, 1503)}
    out = await _session([path], store, server={"speed": 5.0, "skip_ids": skips})
    assert_store_equals_source(out)
    assert out.feed.gaps == 2 and out.feed.reconnects == 0
    assert out.feed.backfilled >= sum(b - a + 1 for a, b in skips.values())


@pytest.mark.parametrize(("stall", "silence", "trips"), [(1.0, 0.3, True), (0.3, 2.0, False)])
async def test_stalls(
    recording: Path, store: TickStore, stall: float, silence: float, trips: bool
) -> None:
    out = await _session([recording], store, server={"speed": 5.0, "stall": (150, stall)},
                         silence_timeout=silence)  # fmt: skip
    assert_store_equals_source(out)
    assert (out.feed.watchdog_trips >= 1) is trips
    assert (out.feed.reconnects >= 1) is trips


async def test_malformed_frames_are_counted_never_stored(
    recording: Path, store: TickStore, caplog: pytest.LogCaptureFixture
) -> None:
    bad = {sym: {1040 + 40 * i + k: kind for i, kind in enumerate(MALFORMED_KINDS)}
           for k, sym in enumerate(SYMS)}  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="statarb.ingest.binance"):
        out = await _session([recording], store, server={"speed": 10.0, "malformed": bad})
    assert_store_equals_source(out)  # the spoilt trades came intact from REST
    n_bad = sum(len(v) for v in bad.values())
    assert out.feed.malformed == n_bad and out.feed.backfilled >= n_bad
    assert out.feed.reconnects == 0  # no frame broke the connection's reader
    logged = [r for r in caplog.records if r.getMessage().startswith("malformed frame")]
    assert len(logged) == n_bad


async def test_out_of_order_and_duplicate_trades(recording: Path, store: TickStore) -> None:
    server = {"speed": 10.0, "reorder_every": 29, "duplicate_every": 5}
    out = await _session([recording], store, server=server)
    assert_store_equals_source(out)
    # every 5th trade is repeated (unless held back); every 29th arrives after its successor,
    # which opened a gap that REST filled, so the late one is a repeat too
    assert out.feed.duplicates >= 2 * (400 // 5 - 400 // 145 + 400 // 29)
    assert out.feed.gaps > 0 and out.feed.backfilled > 0


async def test_unknown_symbol_subscription(
    recording: Path, store: TickStore, caplog: pytest.LogCaptureFixture
) -> None:
    # ZZZUSDT was stored before (a delisted symbol: REST answers -1121); QQQUSDT never was
    with caplog.at_level(logging.ERROR, logger="statarb.ingest._sequencer"):
        out = await _session([recording], store, symbols=[*SYMS, "ZZZUSDT", "QQQUSDT"],
                             last_ids={"ZZZUSDT": 41}, server={"speed": 10.0})  # fmt: skip
    assert_store_equals_source(out)
    assert len(store.read_ticks("ZZZUSDT")) == 0 and len(store.read_ticks("QQQUSDT")) == 0
    assert out.feed.last_ids["ZZZUSDT"] == 41 and out.feed.last_ids["QQQUSDT"] is None
    assert any("-1121" in r.getMessage() for r in caplog.records)
    assert out.feed.reconnects == 0


@pytest.mark.parametrize("client_rotates", [False, True])
async def test_connection_age_limit(
    recording: Path, store: TickStore, client_rotates: bool
) -> None:
    # the 24 h cut made 0.4 s: the server closes every connection at that age (code 1001);
    # a client rotating earlier (its 23 h made 0.25 s) switches make-before-break
    rotate = 0.25 if client_rotates else 3600.0
    out = await _session([recording], store, server={"speed": 2.0, "max_connection_age": 0.4},
                         rotate_after=rotate)  # fmt: skip
    assert_store_equals_source(out)
    if client_rotates:
        assert out.feed.rotations >= 3 and out.feed.reconnects == 0 and out.feed.gaps == 0
    else:
        assert out.feed.reconnects >= 3 and out.feed.rotations == 0


async def test_every_fault_at_once_on_real_recordings(shared_data: Path, store: TickStore) -> None:
    d = shared_data / "binance-usdm-recorded"
    files = [d / "btcusdt_20240718.gz", d / "ethusdt_20240718.gz"]
    src = _source(files)
    btc, eth = (int(src[s].trade_id[0]) for s in ("BTCUSDT", "ETHUSDT"))
    server = {
        "speed": 40.0, "disconnect_every": 1500, "reorder_every": 97, "duplicate_every": 13,
        "skip_ids": {"BTCUSDT": (btc + 300, btc + 340), "ETHUSDT": (eth + 900, eth + 1000)},
        "malformed": {"BTCUSDT": {btc + 500 + i: k for i, k in enumerate(MALFORMED_KINDS)},
                      "ETHUSDT": {eth + 77: "price", eth + 1200: "json"}},
        "max_connection_age": 2.0, "stall": (6000, 0.8),
    }  # fmt: skip
    out = await _session(files, store, server=server, streams=("aggTrade", "bookTicker"),
                         silence_timeout=0.5)  # fmt: skip
    assert_store_equals_source(out)
    assert out.feed.quotes > 0 and len(store.read_quotes("BTCUSDT")) > 0
    assert out.feed.malformed >= 1  # (those sent while the client was away never reached it)
    assert out.feed.reconnects >= 2 and out.feed.watchdog_trips >= 1
    assert out.feed.duplicates > 0 and out.feed.gaps > 0
