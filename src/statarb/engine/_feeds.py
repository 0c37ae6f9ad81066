"""Live feeds of the engine (a part of :class:`~statarb.engine.Engine`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from statarb.errors import StatarbError

if TYPE_CHECKING:
    from statarb.config import Settings
    from statarb.ingest.binance import BinanceFeed
    from statarb.store.base import TickStore


@dataclass(slots=True)
class _FeedRun:
    feed: BinanceFeed
    task: asyncio.Task[None]
    symbols: set[str] = field(default_factory=set)


class FeedsMixin:
    """Start and stop :class:`~statarb.ingest.binance.BinanceFeed` instances on the engine queue."""

    settings: Settings
    store: TickStore
    _queue: asyncio.Queue[Any] | None
    _feeds: list[_FeedRun]

    async def start_feed(
        self, symbols: Iterable[str], *, ws_url: str | None = None, rest_url: str | None = None
    ) -> list[str]:
        """Stream symbols not streamed yet from Binance (or ``ws_url``); return the new ones."""
        from statarb.ingest.binance import BinanceFeed

        if self._queue is None:
            raise StatarbError("the engine is not running")
        have = {s for r in self._feeds for s in r.symbols}
        new = [s for s in dict.fromkeys(x.strip().upper() for x in symbols) if s and s not in have]
        if not new:
            return []
        last = await asyncio.to_thread(
            lambda: {s: i for s in new if (i := self.store.last_trade_id(s)) is not None}
        )
        feed = BinanceFeed(
            new,
            out=self._queue,
            ws_url=ws_url or self.settings.binance_ws_url,
            rest_url=rest_url or self.settings.binance_rest_url,
            last_ids=last,
            streams=(
                "aggTrade",
                *(("bookTicker",) if self.settings.feed_quotes else ()),
                *(("markPrice",) if self.settings.feed_marks else ()),
            ),
        )
        task = asyncio.create_task(feed.run(), name=f"feed-{'-'.join(new)}")
        self._feeds.append(_FeedRun(feed, task, set(new)))
        return new

    async def stop_feed(self, symbols: Iterable[str]) -> list[str]:
        """Stop streaming symbols; return those that were streamed."""
        gone = {s.strip().upper() for s in symbols}
        stopped: list[str] = []
        for run in list(self._feeds):
            drop = run.symbols & gone
            if not drop:
                continue
            stopped.extend(sorted(drop))
            if drop == run.symbols:
                run.feed.stop()
                with contextlib.suppress(Exception):
                    await run.task
                self._feeds.remove(run)
            else:
                await run.feed.unsubscribe(sorted(drop))
                run.symbols -= drop
        return stopped

    def feeds(self) -> list[dict[str, Any]]:
        """Status and counters of each running feed."""
        out = []
        for run in self._feeds:
            err = None
            if run.task.done() and not run.task.cancelled() and (exc := run.task.exception()):
                err = str(exc) or type(exc).__name__  # some exceptions carry no message
            out.append({"symbols": sorted(run.symbols), "running": not run.task.done(),
                        "error": err, "venue": run.feed.ws_url,
                        "stats": run.feed.stats.to_dict()})  # fmt: skip
        return out
