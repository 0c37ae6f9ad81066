"""Stream live symbols into the store: feed -> bounded queue -> writer (+ 1m bars).

Used by ``statarb stream`` and the engine. See :mod:`statarb.ingest.binance` for what the feed
guarantees and :mod:`statarb.ingest.writer` for how rows reach the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statarb.errors import InputError
from statarb.ingest._feed_stats import FeedStats
from statarb.ingest.writer import TickWriter, WriterStats

if TYPE_CHECKING:
    from statarb.config import Settings
    from statarb.ingest.binance import FeedBatch, StreamKind


@dataclass(frozen=True, slots=True)
class StreamResult:
    """What :func:`run_stream` did."""

    seconds: float
    feed: FeedStats
    writer: WriterStats

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "seconds": self.seconds,
            "feed": self.feed.to_dict(),
            "writer": self.writer.to_dict(),
        }

    def summary(self) -> str:
        """One line."""
        return f"{self.seconds:.1f}s {self.feed.summary()} | {self.writer.summary()}"


StatusCallback = Callable[[FeedStats, WriterStats], None]


async def run_stream(
    settings: Settings,
    symbols: Sequence[str],
    *,
    seconds: float | None = None,
    on_status: StatusCallback | None = None,
    streams: Sequence[StreamKind] = ("aggTrade",),
    bar_timeframe: str | None = "1m",
    status_every: float = 1.0,
    stop: asyncio.Event | None = None,
) -> StreamResult:
    """Stream symbols into the configured store until ``seconds`` pass, ``stop`` is set or Ctrl-C.

    Wires :class:`~statarb.ingest.binance.BinanceFeed` -> bounded queue -> :class:`TickWriter`
    (with 1m bars by default), resumes each symbol after its last stored trade id, and on the
    way out stops the feed and flushes everything received.
    """
    from statarb.ingest.binance import BinanceFeed
    from statarb.store import open_store

    if seconds is not None and seconds <= 0:
        raise InputError(f"seconds must be positive, got {seconds}")
    store = await asyncio.to_thread(open_store, settings.store_url)
    if bar_timeframe:  # load the bar kernels now, not in the writer's first flush
        from statarb.ingest.warm import warm_bar_kernels

        await asyncio.to_thread(warm_bar_kernels)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        syms = [s.upper() for s in symbols]
        last = {s: i for s in syms if (i := store.last_trade_id(s)) is not None}
        queue: asyncio.Queue[FeedBatch] = asyncio.Queue(maxsize=max(16, settings.queue_size // 100))
        feed = BinanceFeed(
            syms, out=queue, ws_url=settings.binance_ws_url, rest_url=settings.binance_rest_url,
            streams=streams, last_ids=last,
        )  # fmt: skip
        writer = TickWriter(store, batch_size=settings.batch_size,
                            flush_interval=settings.flush_interval,
                            bar_timeframes=[bar_timeframe] if bar_timeframe else [])  # fmt: skip
        t0 = time.monotonic()
        tasks = [asyncio.create_task(feed.run()), asyncio.create_task(writer.run(queue))]
        end = None if seconds is None else t0 + seconds
        while not stop.is_set() and not any(t.done() for t in tasks):
            left = status_every if end is None else min(status_every, end - time.monotonic())
            if left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), left)
            if on_status is not None:
                on_status(feed.stats, writer.stats)
        feed.stop()
        await tasks[0]
        await writer.close()
        await tasks[1]
        return StreamResult(time.monotonic() - t0, feed.stats, writer.stats)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)
        await asyncio.to_thread(store.close)


__all__ = ["StatusCallback", "StreamResult", "run_stream"]
