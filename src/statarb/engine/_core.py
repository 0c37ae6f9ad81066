"""The engine: feeds -> one consumer -> store writer, bar builders, pair analytics, alerts, hub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from statarb.alerts.evaluator import AlertEvaluator
from statarb.alerts.notify import Notifier
from statarb.alerts.rules import metric_key, parse_rule
from statarb.bars import BarBuilder
from statarb.engine._alert_journal import AlertJournal, spill_path_for
from statarb.engine._alerting import AlertsMixin
from statarb.engine._book import PairBook
from statarb.engine._cluster import ClusterMixin
from statarb.engine._events import (
    Hub,
    NullHub,
    bar_dict,
    bar_obj,
    feed_batch,
    group_rows,
    tick_dict,
    with_recv,
)
from statarb.engine._feeds import FeedsMixin, _FeedRun
from statarb.engine._latency import LatencyStats
from statarb.engine._live import PairFrame, RecentBars, symbol_bar_metrics, timeframe_names
from statarb.engine._pairs import PairsMixin
from statarb.engine._paper import PaperTrader
from statarb.errors import AlertRuleError, InputError, StatarbError
from statarb.model import BarBatch, Tick, TickBatch, Timeframe
from statarb.timeutil import us_to_iso

if TYPE_CHECKING:
    from statarb.config import Settings
    from statarb.engine._bus import RedisBus
    from statarb.ingest.binance import FeedBatch
    from statarb.ingest.writer import TickWriter
    from statarb.store.base import TickStore

log = logging.getLogger(__name__)

PairMethod = Literal["ols", "huber", "theil-sen", "kalman"]


@dataclass(slots=True)
class _Ingest:
    batch: FeedBatch
    done: asyncio.Future[None] | None = None


def _now_us() -> int:
    return time.time_ns() // 1000


class Engine(PairsMixin, AlertsMixin, FeedsMixin, ClusterMixin):
    """Own the live state: feeds, the single store writer, bars, pair analytics and alerts.

    Every tick, from a feed or posted through the API (:meth:`ingest`), goes through one queue
    and one consumer task: stored by the batched :class:`~statarb.ingest.writer.TickWriter`,
    built into bars for each of ``settings.timeframes``, turned into metric values (see
    :mod:`statarb.alerts.rules` for the keys), evaluated against the alert rules and published
    on the hub (topics ``ticks:SYM``, ``bars:SYM:TF``, ``pair:A:B``, ``alerts``). With a
    :class:`~statarb.engine._bus.RedisBus` attached (:meth:`attach_bus`) it is one of several
    engines forming one system.

    Parameters
    ----------
    settings
        Timeframes, writer batch size and flush interval, queue size, Binance URLs.
    store
        The store; the engine is its single writer while running.
    hub
        Where live events go (default: nowhere).
    notifier
        Webhook delivery (default: a :class:`~statarb.alerts.notify.Notifier`).
    pairs
        Pairs ``("A", "B")`` analysed live from the start; rules on a pair add it too.
    window_bars
        Closed bars kept per symbol and timeframe, and analysed per pair.
    z_window
        Bars in the z-score window.
    method
        Hedge-ratio estimator passed to :func:`statarb.analytics.pair.analyze_pair`.
    analytics_timeframes
        Timeframes with pair analytics (default: those of at least one minute).
    close_grace
        Seconds of exchange time after its end at which the open bar of a symbol without new
        trades is closed by the trades of other symbols (later trades of it are then late).
    clock
        Wall clock in epoch µs (receipt times, latencies).
    """

    def __init__(
        self,
        settings: Settings,
        store: TickStore,
        *,
        hub: Hub | None = None,
        notifier: Notifier | None = None,
        pairs: Iterable[tuple[str, str]] = (),
        window_bars: int = 1000,
        z_window: int = 60,
        method: PairMethod = "ols",
        analytics_timeframes: Sequence[str] | None = None,
        close_grace: float = 2.0,
        clock: Callable[[], int] = _now_us,
    ) -> None:
        if window_bars < 30 or z_window < 2 or z_window > window_bars:
            raise InputError(
                f"need window_bars >= 30 and 2 <= z_window <= window_bars, got {window_bars}, "
                f"{z_window}"
            )
        self.settings, self.store = settings, store
        self.hub: Hub = hub or NullHub()
        self.bus: RedisBus | None = None
        self._pending_fires: set[asyncio.Task[None]] = set()
        self._preload: asyncio.Task[None] | None = None
        self.notifier = notifier or Notifier(allow=settings.webhook_allow)
        self.journal = AlertJournal(store, spill_path_for(settings.store_url, settings.spill_path))
        self.window_bars, self.z_window, self.method = window_bars, z_window, method
        self.clock = clock
        self.timeframes = timeframe_names(list(settings.timeframes))
        minute = Timeframe.parse("1m").us
        default_atf = [t for t in self.timeframes if Timeframe.parse(t).us >= minute]
        self.analytics_timeframes = timeframe_names(
            list(analytics_timeframes) if analytics_timeframes is not None
            else default_atf or self.timeframes
        )  # fmt: skip
        self.evaluator = AlertEvaluator()
        self.values: dict[str, float] = {}
        self.latency = LatencyStats()
        self.counts = {"ticks": 0, "bars": 0, "analyses": 0, "alerts": 0, "errors": 0,
                       "duplicates": 0, "writer_restarts": 0}  # fmt: skip
        self._pairs: dict[tuple[str, str], dict[str, PairFrame]] = {}
        for a, b in pairs:
            self.watch_pair(a, b)
        self._builders: dict[str, dict[str, BarBuilder]] = {}
        self._recent: dict[tuple[str, str], RecentBars] = {}
        self._last_id: dict[str, int] = {}
        self._last_price: dict[str, float] = {}
        # end (exchange µs) of each open bar, to close bars of quiet symbols on time
        self._bar_end: dict[tuple[str, str], int] = {}
        self.close_grace_us = int(close_grace * 1_000_000)
        self._queue: asyncio.Queue[FeedBatch | _Ingest | None] | None = None
        self._wq: asyncio.Queue[FeedBatch] | None = None
        self._writer: TickWriter | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._feeds: list[_FeedRun] = []
        self._flush_lock: asyncio.Lock | None = None
        self._closing = False
        self.started_at: int | None = None
        self.book = PairBook(
            store, lambda: self.hub, timeframes=self.timeframes, on_metrics=self._book_metrics,
            on_latency=lambda us: self.latency.add("book", us), clock=clock,
            on_update=lambda *a: self.paper.on_update(*a),
        )  # fmt: skip
        self.paper = PaperTrader(
            store, self.book, lambda: self.hub, on_metrics=self._book_metrics,
            on_latency=lambda us: self.latency.add("paper", us), clock=clock,
        )  # fmt: skip

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether :meth:`start` ran and :meth:`stop` did not."""
        return self._consumer is not None and not self._consumer.done()

    async def start(self) -> None:
        """Load alert rules from the store and start the consumer and the writer."""
        if self.running:
            return
        try:  # alert events a previous run could not store come first
            await asyncio.to_thread(self.journal.replay_spill)
        except StatarbError as exc:
            log.error("alert events kept in %s not recorded yet (kept): %s",
                      self.journal.spill_path, exc)  # fmt: skip
        self.journal.start()
        for data in await asyncio.to_thread(self.store.list_alert_rules):
            try:
                rule = parse_rule(data)
                self._install_rule(rule)
            except AlertRuleError as exc:
                log.error("stored alert rule %s is invalid and ignored: %s", data.get("id"), exc)
                continue
            last = await asyncio.to_thread(self.store.list_alert_events, rule_id=rule.id, limit=1)
            if last:  # a cooldown running at shutdown keeps running after a restart
                self.evaluator.prime(rule.id, last_fired=int(last[0]["ts"]))
        if self.timeframes:  # the bar kernels load now, not in the first flush of the writer
            from statarb.ingest.warm import warm_bar_kernels

            await asyncio.to_thread(warm_bar_kernels)
        self._queue = asyncio.Queue(maxsize=max(16, self.settings.queue_size // 100))
        self._wq = asyncio.Queue()
        self._flush_lock = asyncio.Lock()
        self._start_writer()
        self._consumer = asyncio.create_task(self._consume(), name="statarb-engine")
        self._preload = asyncio.create_task(asyncio.to_thread(self._preload_analytics))
        self.started_at = self.clock()
        await self.book.load()
        await self.paper.load()
        for a, b in self.pairs:
            await self.warm_up(a, b)

    async def warm_up(self, a: str, b: str) -> None:
        """Seed the recent bars of a pair's legs from the store and analyse them once.

        Bars with open time before the current wall-clock interval are read with
        :func:`statarb.history.load_bars`, so analytics are ready without waiting for
        ``window_bars`` live bars.
        """
        from statarb.history import load_bars

        now = self.clock()
        for tf in self.analytics_timeframes:
            step = Timeframe.parse(tf).us
            end = now - now % step
            for sym in (a, b):
                try:
                    bars = await asyncio.to_thread(load_bars, self.store, sym, tf,
                                                   end - self.window_bars * step, end)  # fmt: skip
                except StatarbError as exc:
                    log.debug("no history for %s %s: %s", sym, tf, exc)
                    continue
                recent = self._recent.setdefault((sym, tf), RecentBars(self.window_bars))
                recent.seed(bars)
            if (a, b) in self._pairs:
                self._analyze(a, b, tf, 0)

    def _start_writer(self) -> None:
        from statarb.ingest.writer import TickWriter

        assert self._wq is not None
        self._writer = TickWriter(
            self.store, batch_size=self.settings.batch_size,
            flush_interval=self.settings.flush_interval, bar_timeframes=self.timeframes,
            spill=self.journal.spill_rows,
        )  # fmt: skip
        self._writer_task = asyncio.create_task(self._writer.run(self._wq))

    def _check_writer(self) -> None:
        """Restart the writer if it died (its error is logged and counted, never silent)."""
        task = self._writer_task
        if task is None or not task.done() or self._closing:
            return
        exc = None if task.cancelled() else task.exception()
        self.counts["errors"] += 1
        self.counts["writer_restarts"] += 1
        log.error("the store writer stopped (%r); restarting it", exc)
        self._start_writer()

    async def stop(self) -> None:
        """Stop the feeds, process what they delivered, flush the store, finish deliveries."""
        if self._consumer is None or self._queue is None:
            return
        self._closing = True
        for run in list(self._feeds):
            run.feed.stop()
        for run in list(self._feeds):
            with contextlib.suppress(Exception):
                await run.task
        self._feeds.clear()
        await self._queue.put(None)
        await self._consumer
        self._consumer = None
        if self._preload is not None:
            await asyncio.gather(self._preload, return_exceptions=True)
        if self._pending_fires:  # alerts waiting for their claim are recorded before exit
            await asyncio.gather(*self._pending_fires, return_exceptions=True)
        if self._writer is not None and self._writer_task is not None:
            await self._writer.close()
            await asyncio.gather(self._writer_task, return_exceptions=True)
        await self.paper.close()
        await self.notifier.aclose()
        await self.journal.close()  # what the store refuses now goes to the spill file

    async def flush(self) -> None:
        """Wait until everything queued so far is processed and committed to the store."""
        if self._queue is None or self._flush_lock is None or self._writer is None:
            return
        async with self._flush_lock:
            await self._queue.join()
            await self.paper.flush()
            self._check_writer()
            writer, task = self._writer, self._writer_task
            if task is None:
                await writer.sync()
                return
            synced = asyncio.ensure_future(writer.sync())
            await asyncio.wait({synced, task}, return_when=asyncio.FIRST_COMPLETED)
            if synced.done():
                synced.result()
                return
            synced.cancel()  # the writer died (counted); a new one commits what is still queued
            self._check_writer()
            await self._writer.sync()

    # -- ingestion -----------------------------------------------------------------------------
    async def ingest(self, ticks: Sequence[Tick], *, wait: bool = False) -> int:
        """Push ticks through the same path as feed ticks; return how many were queued.

        With ``wait`` the call returns once they are processed (bars, analytics, alerts) and
        committed to the store.
        """
        if self._queue is None or not self.running:
            raise StatarbError("the engine is not running")
        if not ticks:
            return 0
        now = self.clock()
        ticks = [t if t.recv_ts else with_recv(t, now) for t in ticks]
        return await self.ingest_batch(feed_batch(ticks), wait=wait)

    async def ingest_batch(self, batch: FeedBatch, *, wait: bool = False) -> int:
        """:meth:`ingest` of trade rows already in a :class:`FeedBatch` (receipt times set)."""
        if self._queue is None or not self.running:
            raise StatarbError("the engine is not running")
        if not len(batch):
            return 0
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Ingest(batch, done))
        await done
        await self.journal.flush()  # the alerts these ticks fired are recorded
        if wait:
            await self.flush()
        return len(batch)

    async def _consume(self) -> None:
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            try:
                if item is None:
                    return
                batch = item.batch if isinstance(item, _Ingest) else item
                try:
                    self._process(batch)
                except Exception:  # one bad batch must not stop the live path
                    self.counts["errors"] += 1
                    log.exception("engine failed to process a batch")
                if isinstance(item, _Ingest) and item.done is not None and not item.done.done():
                    item.done.set_result(None)
            finally:
                self._queue.task_done()

    def _process(self, batch: FeedBatch) -> None:
        assert self._wq is not None
        self._check_writer()
        self._wq.put_nowait(batch)
        if batch.quote_rows and self.paper.active:
            self.paper.on_quotes(batch.quote_rows)
        if batch.marks and self.paper.active:
            self.paper.on_marks(batch.marks)
        rows = batch.trade_rows
        if not rows:
            return
        self.counts["ticks"] += len(rows)
        newest = None
        recv_last = 0
        for sym, tb in group_rows(rows).items():
            has_recv = tb.recv_ts > 0
            if has_recv.any():
                recv = tb.recv_ts[has_recv]
                self.latency.extend("receipt", np.maximum(recv - tb.ts[has_recv], 0))
                recv_last = max(recv_last, int(recv.max()))
            self._on_symbol(sym, self._fresh(sym, tb))
            if len(tb):
                top = int(tb.ts.max())
                newest = top if newest is None else max(newest, top)
        if newest is not None:
            self._close_quiet(newest - self.close_grace_us, recv_last)
        if recv_last:
            self.latency.add("processed", max(0, self.clock() - recv_last))

    def _close_quiet(self, until: int, recv_ts: int) -> None:
        """Close open bars of quiet symbols whose interval ended before ``until`` (exchange time).

        A bar otherwise closes with its symbol's next trade; this keeps a quiet leg's bars (and
        the pair analytics that need both legs) on time.
        """
        due = [k for k, end in self._bar_end.items() if end <= until]
        for sym, tf in due:
            del self._bar_end[(sym, tf)]
            closed = self._builders[sym][tf].close_until(until)
            if len(closed):
                self._on_bars(sym, tf, closed, recv_ts)

    def _fresh(self, sym: str, tb: TickBatch) -> TickBatch:
        """Drop ticks whose trade id was already seen (the writer still gets everything)."""
        ids = tb.trade_id
        last = self._last_id.get(sym)
        has_id = ids >= 0
        if has_id.any():
            top = int(ids[has_id].max())
            self._last_id[sym] = top if last is None else max(last, top)
            if last is not None:
                keep = ~has_id | (ids > last)
                if not keep.all():
                    self.counts["duplicates"] += int(len(keep) - keep.sum())
                    return tb.take(np.flatnonzero(keep))
        return tb

    # -- per symbol ----------------------------------------------------------------------------
    def _on_symbol(self, sym: str, tb: TickBatch) -> None:
        if len(tb) == 0:
            return
        recv_ts = int(tb.recv_ts.max()) if len(tb.recv_ts) else 0
        if self.hub.wants(f"ticks:{sym}"):
            self.hub.publish(f"ticks:{sym}", "ticks", [tick_dict(t) for t in tb.to_ticks()])
        last = int(np.argmax(tb.ts))
        price, ts = float(tb.price[last]), int(tb.ts[last])
        self._last_price[sym] = price
        pkey = metric_key("price", sym)
        if self.evaluator.reads(pkey):  # every tick counts for a per-tick price rule
            for p, t in zip(tb.price.tolist(), tb.ts.tolist(), strict=True):
                self.values[pkey] = p
                self._evaluate({pkey}, t, recv_ts)
        self.values[pkey] = price
        changed: set[str] = set()
        if self.paper.active:  # on the tape before this batch closes bars: orders sent at a
            self.paper.on_trades(sym, tb)  # close fill at the first trade after it
        builders = self._builders.setdefault(
            sym, {tf: BarBuilder(sym, tf) for tf in self.timeframes}
        )
        for tf, builder in builders.items():
            closed = builder.update(tb)
            if len(closed):
                self._on_bars(sym, tf, closed, recv_ts)
            partial = builder.partial
            if partial is not None:
                self._bar_end[(sym, tf)] = partial.open_time + builder.timeframe.us
                topic = f"bars:{sym}:{tf}"
                if self.hub.wants(topic):
                    self.hub.publish(topic, "partial", bar_obj(partial))
        changed |= self._live_pairs(sym)
        self._evaluate(changed, ts, recv_ts)

    def watch_pair(self, a: str, b: str) -> tuple[str, str]:
        """Analyse the pair ``a``/``b`` live (idempotent); return it normalised.

        With a bus attached, bars of a leg ingested by another engine are followed.
        """
        key = super().watch_pair(a, b)
        self._follow_legs(*key)
        return key

    def _on_bars(
        self, sym: str, tf: str, closed: BarBatch, recv_ts: int, *, publish: bool = True
    ) -> None:
        recent = self._recent.setdefault((sym, tf), RecentBars(self.window_bars))
        topic = f"bars:{sym}:{tf}"
        wants = publish and self.hub.wants(topic)
        for i in range(len(closed)):
            recent.add(closed.take(slice(i, i + 1)))
            self.counts["bars"] += 1
            bar = bar_dict(closed, i)
            if wants:
                self.hub.publish(topic, "bar", bar)
            _, closes = recent.arrays()
            vals = symbol_bar_metrics(sym, bar, closes, tf, self.z_window)
            self.values.update(vals)
            end = int(closed.open_time[i]) + Timeframe.parse(tf).us
            self._evaluate(set(vals), end, recv_ts)
        self.book.on_bars(sym, tf, closed, recv_ts)
        if tf in self.analytics_timeframes:
            for a, b in self._pairs:
                if sym in (a, b):
                    self._analyze(a, b, tf, recv_ts)

    @property
    def store_failing(self) -> bool:
        """Whether the last write of ticks or alert events was refused by the store."""
        w = self._writer.stats if self._writer is not None else None
        return self.journal.failing or bool(w is not None and getattr(w, "failing", False))

    def status(self) -> dict[str, Any]:
        """Counters, queue depths, writer and latency figures."""
        w = self._writer.stats.to_dict() if self._writer is not None else None
        latency: dict[str, Any] = self.latency.to_dict()
        if w is not None:
            latency["stored"] = {
                "count": w.get("written"),
                "p50_ms": w.get("store_latency_p50_ms"),
                "p99_ms": w.get("store_latency_p99_ms"),
                "max_ms": None,
            }
        store_errors = (w or {}).get("store_errors", 0) + self.journal.counts["store_errors"]
        return {
            "running": self.running,
            "started_at": None if self.started_at is None else us_to_iso(self.started_at),
            "counts": {**self.counts, "errors": self.counts["errors"] + store_errors},
            "store": {
                "failing": self.store_failing,
                "errors": store_errors,
                "alert_journal": self.journal.pending,
            },
            "queue": None if self._queue is None else self._queue.qsize(),
            "writer_queue": None if self._wq is None else self._wq.qsize(),
            "writer": w,
            "latency": latency,
            "feeds": self.feeds(),
            "pairs": [f"{a}/{b}" for a, b in self._pairs],
            "timeframes": self.timeframes,
            "analytics_timeframes": self.analytics_timeframes,
            "rules": len(self.evaluator.rules),
            "webhooks": {**self.notifier.counts, "pending": self.notifier.pending},
            "bus": None if self.bus is None else self.bus.stats(),
            "book": {"pairs": len(self.book.entries), **self.book.counts},
            "paper": {"strategies": len(self.paper.desk.strategies), **self.paper.counts},
        }

    def _book_metrics(self, values: dict[str, float], ts: int, recv_ts: int) -> None:
        self.values.update(values)
        self._evaluate(set(values), ts, recv_ts)


__all__ = ["Engine", "PairMethod"]
