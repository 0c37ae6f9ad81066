"""TickWriter (queue -> batched store writes, bars) and run_stream end to end."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from _live_helpers import write_recording
from statarb.bars import resample
from statarb.config import Settings
from statarb.errors import InputError
from statarb.ingest.binance import FeedBatch
from statarb.ingest.stream import run_stream
from statarb.ingest.writer import (
    TickWriter,
    quotes_to_batch,
    rows_to_tick_batches,
    ticks_to_batch,
)
from statarb.model import Quote, Tick, TickBatch
from statarb.protocol.binance import tick_row
from statarb.store import open_store
from statarb.venue.server import ReplayServer

T0 = 1_700_000_040_000_000  # epoch µs, 40 s into a minute


def _ticks(symbol: str, n: int, start_id: int = 1, step_us: int = 1_000_000) -> list[Tick]:
    rng = np.random.default_rng(len(symbol) + n)
    return [
        Tick(symbol, T0 + i * step_us, float(100 + rng.normal()), float(rng.uniform(0.1, 2)),
             bool(i % 2), start_id + i, "binance", T0 + i * step_us + 500)
        for i in range(n)
    ]  # fmt: skip


def _quotes(symbol: str, n: int) -> list[Quote]:
    return [Quote(symbol, T0 + i, 99.0, 1.0 + i, 101.0, 2.0, 10 + i, T0 + i + 1) for i in range(n)]


def test_batch_conversion_round_trips() -> None:
    bare = Tick("BTCUSDT", T0 + 99, 1.0, 1.0, source="binance")
    ticks = [*_ticks("BTCUSDT", 50), bare]
    b = ticks_to_batch("BTCUSDT", ticks)
    assert b.to_ticks() == ticks
    assert b.side[-1] == -1 and b.trade_id[-1] == -1 and b.recv_ts[-1] == 0
    q = quotes_to_batch("BTCUSDT", _quotes("BTCUSDT", 3))
    assert q.update_id.tolist() == [10, 11, 12] and q.bid_size.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("bare", [False, True])
def test_rows_of_many_symbols_split_per_symbol_in_order(bare: bool) -> None:
    a, b, c = _ticks("AAAUSDT", 40), _ticks("BBBUSDT", 25, 500), _ticks("CCCUSDT", 1, 9)
    mixed = [a[0], *(t for pair in zip(b, a[1:26], strict=True) for t in pair), *a[26:], *c]
    if bare:  # no side, id or receipt time: the row-wise path, same result
        mixed.insert(3, Tick("AAAUSDT", T0 - 5, 1.0, 1.0, source="binance"))
    got = rows_to_tick_batches([tick_row(t) for t in mixed])
    assert [x.symbol for x in got] == ["AAAUSDT", "BBBUSDT", "CCCUSDT"]
    for batch in got:
        want = [t for t in mixed if t.symbol == batch.symbol]
        assert batch.to_ticks() == want
        assert batch.source == "binance"
    assert rows_to_tick_batches([]) == []


async def test_writer_batches_groups_and_flushes_on_close(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    writer = TickWriter(store, batch_size=100, flush_interval=0.05)
    queue: asyncio.Queue[FeedBatch] = asyncio.Queue(maxsize=100)
    task = asyncio.create_task(writer.run(queue))
    a, b = _ticks("AAAUSDT", 700), _ticks("BBBUSDT", 300, start_id=50)
    for i in range(0, 700, 70):  # interleaved batches of two symbols
        await queue.put(FeedBatch.of(a[i : i + 70], _quotes("AAAUSDT", 2) if i == 0 else []))
        await queue.put(FeedBatch.of(b[i // 70 * 30 : i // 70 * 30 + 30]))
        await asyncio.sleep(0.005)
    await queue.put(FeedBatch.of(a[:10]))  # duplicates: the store keeps one copy
    await writer.close()
    await task
    stats = writer.stats
    assert stats.received == 1012 and stats.written == 1002 and stats.dropped == 0
    assert stats.batches >= 2 and stats.queue_high_water >= 1
    stored = store.read_ticks("AAAUSDT")
    assert stored.trade_id.tolist() == list(range(1, 701))
    np.testing.assert_array_equal(stored.price, [t.price for t in a])
    np.testing.assert_array_equal(stored.side, [int(t.is_buyer_maker) for t in a])  # type: ignore[arg-type]
    assert len(store.read_ticks("BBBUSDT")) == 300 and len(store.read_quotes("AAAUSDT")) == 2
    assert stats.store_latency_p99_ms is not None and stats.store_latency_p99_ms > 0
    store.close()


async def test_close_without_run_still_flushes(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    writer = TickWriter(store)
    queue: asyncio.Queue[FeedBatch] = asyncio.Queue()
    await queue.put(FeedBatch.of(_ticks("AAAUSDT", 5)))
    task = asyncio.create_task(writer.run(queue))
    await asyncio.sleep(0)
    await writer.close()  # long before the 0.25 s flush interval
    await task
    assert len(store.read_ticks("AAAUSDT")) == 5
    store.close()


async def test_closed_bars_match_batch_resample(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    writer = TickWriter(store, batch_size=37, flush_interval=0.01, bar_timeframes=["1m"])
    queue: asyncio.Queue[FeedBatch] = asyncio.Queue()
    ticks = _ticks("AAAUSDT", 400, step_us=700_000)  # ~4.7 minutes
    task = asyncio.create_task(writer.run(queue))
    for i in range(0, 400, 25):
        await queue.put(FeedBatch.of(ticks[i : i + 25]))
        await asyncio.sleep(0.002)
    await writer.close()
    await task
    ref = resample(TickBatch.from_ticks(ticks)["AAAUSDT"], "1m")
    stored = store.read_bars("AAAUSDT", "1m")
    assert len(stored) == len(ref) - 1  # the last bar is still open
    for col in ("open_time", "open", "high", "low", "close", "volume", "trades"):
        np.testing.assert_allclose(getattr(stored, col), getattr(ref, col)[:-1], rtol=1e-12)
    assert writer.stats.bars == len(stored)
    store.close()


@pytest.mark.parametrize("split", [171, 200])
async def test_a_restarted_writer_finishes_the_open_bar_from_the_store(
    sqlite_url: str, split: int
) -> None:
    # pairs of trades share a time; split 171 cuts between the two trades of one pair
    ticks = [replace(t, ts=T0 + i // 2 * 1_400_000) for i, t in enumerate(_ticks("AAAUSDT", 400))]
    store = open_store(sqlite_url)
    for part in (ticks[:split], ticks[split:]):  # a process that stops, then its successor
        writer = TickWriter(store, flush_interval=0.01, bar_timeframes=["1m", "5m"])
        queue: asyncio.Queue[FeedBatch] = asyncio.Queue()
        task = asyncio.create_task(writer.run(queue))
        for i in range(0, len(part), 40):
            await queue.put(FeedBatch.of(part[i : i + 40]))
        await writer.close()
        await task
    whole = TickBatch.from_ticks(ticks)["AAAUSDT"]
    for tf in ("1m", "5m"):
        ref = resample(whole, tf)
        stored = store.read_bars("AAAUSDT", tf)
        assert len(stored) == len(ref) - 1 >= 1
        for col in ("open_time", "open", "high", "low", "close", "volume", "trades"):
            np.testing.assert_allclose(getattr(stored, col), getattr(ref, col)[:-1], rtol=1e-12)
    store.close()


def test_writer_validates_options(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    with pytest.raises(InputError, match="batch_size"):
        TickWriter(store, batch_size=0)
    store.close()


async def test_run_stream_stores_everything_and_stops_cleanly(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.jsonl", ("AAAUSDT", "BBBUSDT"), n=300, step_ms=400)
    db = tmp_path / "live.db"
    seen = []
    async with ReplayServer([path], clock="original", speed=100.0, disconnect_every=250) as srv:
        cfg = Settings(store_url=f"sqlite:///{db}", binance_ws_url=srv.ws_url,
                       binance_rest_url=srv.rest_url, flush_interval=0.05)  # fmt: skip
        result = await run_stream(cfg, ["aaausdt", "BBBUSDT"], seconds=2.5, status_every=0.5,
                                  on_status=lambda f, w: seen.append(f.ticks))  # fmt: skip
    assert seen and result.feed.ticks == 600 and result.writer.written == 600
    store = open_store(f"sqlite:///{db}")
    for sym in ("AAAUSDT", "BBBUSDT"):
        assert store.read_ticks(sym).trade_id.tolist() == list(range(1000, 1300))
        assert store.last_trade_id(sym) == 1299
        # trades from 20 s into one minute to 20 s into the third: two bars closed, one open
        assert store.read_bars(sym, "1m").trades.tolist() == [100, 150]
    store.close()


async def test_failing_store_is_retried_then_counted_as_dropped(sqlite_url: str) -> None:
    open_store(sqlite_url).close()
    store = open_store(sqlite_url, read_only=True)  # every write raises StoreError
    writer = TickWriter(store, max_retries=2)
    queue: asyncio.Queue[FeedBatch] = asyncio.Queue()
    await queue.put(FeedBatch.of(_ticks("AAAUSDT", 7)))
    task = asyncio.create_task(writer.run(queue))
    await writer.close()
    await task
    assert (writer.stats.dropped, writer.stats.written, writer.stats.received) == (7, 0, 7)
    store.close()


async def test_sync_commits_what_arrived_and_the_writer_runs_on(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    # a long interval and a big batch: without sync() nothing would be written for a minute
    writer = TickWriter(store, batch_size=100_000, flush_interval=60.0, eager=False,
                        bar_timeframes=("1m",))  # fmt: skip
    queue: asyncio.Queue[FeedBatch] = asyncio.Queue()
    task = asyncio.create_task(writer.run(queue))
    ticks = _ticks("AAAUSDT", 200)
    await queue.put(FeedBatch.of(ticks[:120]))
    await asyncio.wait_for(writer.sync(), 5)
    assert len(store.read_ticks("AAAUSDT")) == 120 and not task.done()
    await queue.put(FeedBatch.of(ticks[120:]))
    await asyncio.gather(writer.sync(), writer.sync())  # two callers, one commit
    assert len(store.read_ticks("AAAUSDT")) == 200
    assert writer.stats.received == 200 and writer.stats.batches == 2
    await writer.close()
    await task
    # every bar closed by the ticks is stored once, as batch resampling gives them (the last
    # one is still open)
    want = resample(store.read_ticks("AAAUSDT"), "1m").open_time[:-1]
    assert store.read_bars("AAAUSDT", "1m").open_time.tolist() == want.tolist()
    await writer.sync()  # after close: nothing left to do, no error
    store.close()
