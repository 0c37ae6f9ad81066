"""Synthetic recordings and a feed runner shared by the live-feed and replay tests."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from statarb.ingest.binance import BinanceFeed, FeedBatch
from statarb.model import Quote, Tick, TickBatch
from statarb.venue._data import load_recording
from statarb.venue.server import ReplayServer

T0_MS = 1_700_000_000_000


def write_recording(
    path: Path,
    symbols: Sequence[str] = ("AAAUSDT", "BBBUSDT"),
    *,
    n: int = 400,
    start_id: int = 1000,
    step_ms: int = 10,
    quotes: bool = True,
) -> Path:
    """Combined-stream aggTrade (and bookTicker) frames, one per line, ``n`` trades per symbol."""
    lines = []
    for i in range(n):
        for k, s in enumerate(symbols):
            a = start_id + i
            t = T0_MS + i * step_ms + k
            price = f"{100 + k * 10 + (i % 7) * 0.1:.1f}"
            d = {"e": "aggTrade", "E": t, "a": a, "s": s, "p": price, "q": f"{1 + i % 3}.5",
                 "f": a * 2, "l": a * 2 + 1, "T": t, "m": i % 2 == 0}  # fmt: skip
            lines.append(orjson.dumps({"stream": f"{s.lower()}@aggTrade", "data": d}))
            if quotes:
                q = {"e": "bookTicker", "u": 10_000 + i, "s": s, "b": "99.9", "B": "1.0",
                     "a": "100.1", "A": "2.0", "T": t + 1, "E": t + 1}  # fmt: skip
                lines.append(orjson.dumps({"stream": f"{s.lower()}@bookTicker", "data": q}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def feed_for(server: ReplayServer, symbols: Sequence[str], queue: asyncio.Queue[FeedBatch],
             **kw: Any) -> BinanceFeed:  # fmt: skip
    """A feed pointed at the replay server with fast test backoff."""
    opts: dict[str, Any] = {"backoff_base": 0.01, "backoff_cap": 0.05, "silence_timeout": 5.0}
    opts.update(kw)
    return BinanceFeed(symbols, out=queue, ws_url=server.ws_url, rest_url=server.rest_url, **opts)


class Collected:
    """Everything a feed emitted, per symbol."""

    def __init__(self) -> None:
        self.ticks: dict[str, list[Tick]] = defaultdict(list)
        self.quotes: dict[str, list[Quote]] = defaultdict(list)

    def add(self, batch: FeedBatch) -> None:
        for t in batch.ticks:
            self.ticks[t.symbol].append(t)
        for q in batch.quotes:
            self.quotes[q.symbol].append(q)

    def ids(self, symbol: str) -> list[int]:
        return [t.trade_id for t in self.ticks[symbol]]  # type: ignore[misc]


async def run_until(
    feed: BinanceFeed,
    queue: asyncio.Queue[FeedBatch],
    expect: dict[str, int],
    *,
    timeout: float = 20.0,
) -> Collected:
    """Run ``feed`` until it emitted ``expect[symbol]`` trades per symbol; stop; drain."""
    got = Collected()
    task = asyncio.create_task(feed.run())
    try:
        async with asyncio.timeout(timeout):
            while any(len(got.ticks[s]) < n for s, n in expect.items()):
                got.add(await queue.get())
    finally:
        feed.stop()
        await task
        while not queue.empty():
            got.add(queue.get_nowait())
    return got


def served_trades(files: Sequence[Path]) -> dict[str, TickBatch]:
    """The aggregate trades the venue serves for recordings, in id order (``a`` as trade id).

    Raw ``trade`` recordings are aggregated like Binance (same time, price and taker side in a
    row); aggregate-trade recordings are served one row per aggregate.
    """
    rec = load_recording(list(files))
    out: dict[str, TickBatch] = {}
    for s, b in rec.trades.items():
        ag = rec.aggs[s]
        size = np.add.reduceat(b.size, ag.first) if len(ag) else b.size[:0]
        size = np.round(size, rec.prec[s].qty_decimals)  # written at the step size
        ids = ag.id0 + np.arange(len(ag), dtype=np.int64)
        out[s] = TickBatch(s, b.ts[ag.last], b.price[ag.first], size, b.side[ag.first], ids)
    return out
