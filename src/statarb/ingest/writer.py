"""Live path to the store: a bounded queue of :class:`FeedBatch` drained into batched writes.

:class:`TickWriter` groups trades and book tickers by symbol into
:class:`~statarb.model.TickBatch` / :class:`~statarb.model.QuoteBatch` and writes each flush as
ONE store transaction in a worker thread (``asyncio.to_thread``), so a slow disk never blocks the
socket reader. While one flush is being written the next batch keeps filling; at most one
write is in flight. Closed bars (``bar_timeframes``, via :class:`statarb.bars.BarBuilder`) are
written in the same transaction as the ticks that closed them.

Nothing is dropped here: the writer takes everything from the queue; when the store is slower
than the feed the queue fills and the FEED applies backpressure (see
:mod:`statarb.ingest.binance`). A failing store (locked, disk full, connection lost) is treated
as a slow one: the flush is retried with growing pauses until it succeeds, while newer rows wait
in the writer and then in the queue, so the same backpressure applies. Only when the writer is
closed while the store still fails, after ``max_retries`` attempts, are the rows of that flush
counted in ``dropped`` and logged as an error. Mark prices are not stored (the store has no
table for them); they are counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from statarb.errors import InputError, StoreError
from statarb.ingest._feed_stats import percentile_ms
from statarb.model import (
    NO_ID,
    SIDE_UNKNOWN,
    BarBatch,
    Quote,
    QuoteBatch,
    Tick,
    TickBatch,
    Timeframe,
)
from statarb.protocol.binance import QuoteRow, TradeRow, quote_row, tick_row

if TYPE_CHECKING:
    from statarb.bars import BarBuilder
    from statarb.ingest.binance import FeedBatch
    from statarb.store.base import TickStore

log = logging.getLogger(__name__)

_MAX_PAUSE = 2.0  # seconds between attempts of a failing flush, at most


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counters of a :class:`TickWriter`.

    ``written`` counts rows the store took as new (ticks + quotes); ``received`` rows taken from
    the queue; ``store_errors`` failed write attempts (each retried); ``store_latency_*_ms`` is
    receipt-to-committed time of recent ticks.
    """

    received: int
    written: int
    bars: int
    marks: int
    batches: int
    dropped: int
    queue_high_water: int
    flush_p50_ms: float | None
    flush_max_ms: float | None
    store_latency_p50_ms: float | None
    store_latency_p99_ms: float | None
    store_errors: int = 0
    failing: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)

    def summary(self) -> str:
        """One line."""
        p99 = "-" if self.store_latency_p99_ms is None else f"{self.store_latency_p99_ms:.0f}ms"
        return f"written={self.written} flushes={self.batches} hw={self.queue_high_water} p99={p99}"


def _group_into(by_symbol: dict[str, list[Any]], rows: Sequence[Any]) -> None:
    """Append rows (symbol first) to their symbol's list, in order; one C-level pass when the
    rows are all of one symbol (a REST batch, a single-stream feed)."""
    if not rows:
        return
    first = rows[0][0]
    if all(map(first.__eq__, map(itemgetter(0), rows))):
        lst = by_symbol.get(first)
        if lst is None:
            by_symbol[first] = list(rows)
        else:
            lst.extend(rows)
        return
    for r in rows:
        lst = by_symbol.get(r[0])
        if lst is None:
            lst = by_symbol[r[0]] = []
        lst.append(r)


def rows_to_tick_batch(symbol: str, rows: Sequence[TradeRow]) -> TickBatch:
    """One symbol's trade rows (``Tick`` field order) as a :class:`~statarb.model.TickBatch`."""
    _, ts, price, size, maker, tid, source, recv = zip(*rows, strict=True)
    if None in maker:
        maker = tuple(SIDE_UNKNOWN if m is None else m for m in maker)
    if None in tid:
        tid = tuple(NO_ID if i is None else i for i in tid)
    if None in recv:
        recv = tuple(r or 0 for r in recv)
    return TickBatch(
        symbol,
        np.array(ts, dtype=np.int64),
        np.array(price, dtype=np.float64),
        np.array(size, dtype=np.float64),
        np.array(maker, dtype=np.int8),
        np.array(tid, dtype=np.int64),
        np.array(recv, dtype=np.int64),
        source=source[0],
    )


#: a :data:`TradeRow` as one record (``None`` side, id or receipt time do not fit: row-wise path)
_TRADE_RECORD = np.dtype([("symbol", "O"), ("ts", "i8"), ("price", "f8"), ("size", "f8"),
                          ("side", "i1"), ("trade_id", "i8"), ("source", "O"),
                          ("recv", "i8")])  # fmt: skip


def rows_to_tick_batches(rows: Sequence[TradeRow]) -> list[TickBatch]:
    """Trade rows of any symbols as one :class:`~statarb.model.TickBatch` per symbol.

    Symbols come in order of first appearance, each symbol's rows in their order. The rows are
    converted in one C-level pass into a record array and split by symbol with a stable sort;
    rows with a missing side, id or receipt time take the row-wise path.
    """
    if not rows:
        return []
    try:
        rec = np.array(rows, dtype=_TRADE_RECORD)
    except (TypeError, ValueError):
        by_symbol: dict[str, list[TradeRow]] = {}
        _group_into(by_symbol, rows)
        return [rows_to_tick_batch(s, v) for s, v in by_symbol.items()]
    symbols = rec["symbol"].tolist()
    names = list(dict.fromkeys(symbols))
    if len(names) == 1:
        return [_record_batch(names[0], rec)]
    index = {s: i for i, s in enumerate(names)}
    codes = np.fromiter(map(index.__getitem__, symbols), np.int64, len(symbols))
    order = np.argsort(codes, kind="stable")
    cols = {c: rec[c][order] for c in ("ts", "price", "size", "side", "trade_id", "recv")}
    cols["source"] = rec["source"][order]
    starts = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(names)))]).tolist()
    return [
        _record_batch(name, {c: v[lo:hi] for c, v in cols.items()})
        for name, lo, hi in zip(names, starts[:-1], starts[1:], strict=True)
    ]


def _record_batch(symbol: str, rec: Any) -> TickBatch:
    """One symbol's columns (a record array or a dict of columns) as a batch."""
    return TickBatch(symbol, rec["ts"], rec["price"], rec["size"], rec["side"],
                     rec["trade_id"], rec["recv"], source=rec["source"][0])  # fmt: skip


def rows_to_quote_batch(symbol: str, rows: Sequence[QuoteRow]) -> QuoteBatch:
    """One symbol's quote rows (``Quote`` field order) as a :class:`~statarb.model.QuoteBatch`."""
    _, ts, bid, bid_size, ask, ask_size, uid, _recv = zip(*rows, strict=True)
    if None in uid:
        uid = tuple(NO_ID if u is None else u for u in uid)
    return QuoteBatch(
        symbol,
        np.array(ts, dtype=np.int64),
        np.array(bid, dtype=np.float64),
        np.array(bid_size, dtype=np.float64),
        np.array(ask, dtype=np.float64),
        np.array(ask_size, dtype=np.float64),
        np.array(uid, dtype=np.int64),
    )


def ticks_to_batch(symbol: str, ticks: Sequence[Tick]) -> TickBatch:
    """One symbol's :class:`~statarb.model.Tick` list as a :class:`~statarb.model.TickBatch`."""
    return rows_to_tick_batch(symbol, [tick_row(t) for t in ticks])


def quotes_to_batch(symbol: str, quotes: Sequence[Quote]) -> QuoteBatch:
    """One symbol's :class:`~statarb.model.Quote` list as a :class:`~statarb.model.QuoteBatch`."""
    return rows_to_quote_batch(symbol, [quote_row(q) for q in quotes])


class TickWriter:
    """Drain a queue of :class:`~statarb.ingest.binance.FeedBatch` into a store in batches.

    Parameters
    ----------
    store
        The store to write (used from one worker thread at a time).
    batch_size
        Rows that trigger a flush before ``flush_interval`` has passed.
    flush_interval
        Longest time rows wait before their write starts (when the store keeps up).
    bar_timeframes
        Timeframes of bars to build from the ticks and store (e.g. ``("1m",)``).
    max_retries
        Attempts of a failing flush once the writer is closing (while running, a failing flush
        is retried until the store recovers).
    spill
        Called (in the writer thread) with the ticks and quotes the store still refuses when
        the writer closes, to keep them in a file instead of dropping them.
    eager
        Group commit: whenever no write is running, write what has arrived at once, so the
        batch size follows the load and receipt-to-stored latency stays near one write time.
        With ``False`` rows wait for ``batch_size`` or ``flush_interval`` (fewer, larger
        transactions, e.g. for a remote database).
    """

    def __init__(
        self,
        store: TickStore,
        *,
        batch_size: int = 5000,
        flush_interval: float = 0.25,
        bar_timeframes: Sequence[str] = (),
        max_retries: int = 3,
        eager: bool = True,
        spill: Callable[[list[TickBatch], list[QuoteBatch]], None] | None = None,
    ) -> None:
        if batch_size < 1 or flush_interval <= 0 or max_retries < 1:
            raise InputError(
                f"batch_size ({batch_size}), flush_interval ({flush_interval}) and max_retries "
                f"({max_retries}) must be positive"
            )
        self.store = store
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.bar_timeframes = list(bar_timeframes)
        self.max_retries = max_retries
        self.spill = spill
        self._gave_up = False  # closing, the store refused a flush: the rest is spilled at once
        self.eager = eager
        self._builders: dict[tuple[str, str], BarBuilder] = {}
        self._ticks: list[TradeRow] = []
        self._quotes: dict[str, list[QuoteRow]] = {}
        self._rows = 0
        self._inflight: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._done = asyncio.Event()
        self._sync = asyncio.Event()  # a caller of sync() waits
        self._synced: list[asyncio.Future[None]] = []
        self._running = False
        self._c = {"received": 0, "written": 0, "bars": 0, "marks": 0, "batches": 0,
                   "dropped": 0, "hw": 0, "store_errors": 0,
                   "failing": 0}  # fmt: skip
        self._stop = threading.Event()  # set on close: a failing flush gives up
        self._flush_ms: deque[float] = deque(maxlen=1024)
        self._lat: deque[np.ndarray] = deque(maxlen=1024)

    @property
    def stats(self) -> WriterStats:
        """A snapshot of the counters."""
        c = self._c
        fl = sorted(self._flush_ms)
        lat = np.sort(np.concatenate(list(self._lat))) if self._lat else np.empty(0, np.int64)
        return WriterStats(
            received=c["received"], written=c["written"], bars=c["bars"], marks=c["marks"],
            batches=c["batches"], dropped=c["dropped"], queue_high_water=c["hw"],
            flush_p50_ms=fl[len(fl) // 2] if fl else None, flush_max_ms=fl[-1] if fl else None,
            store_latency_p50_ms=percentile_ms(lat.tolist(), 0.5) if len(lat) else None,
            store_latency_p99_ms=percentile_ms(lat.tolist(), 0.99) if len(lat) else None,
            store_errors=c["store_errors"],
            failing=bool(c["failing"]),
        )  # fmt: skip

    async def run(self, queue: asyncio.Queue[FeedBatch]) -> None:
        """Consume ``queue`` until :meth:`close`; then drain it, flush and return."""
        self._running = True
        self._done.clear()
        try:
            deadline = time.monotonic() + self.flush_interval
            while True:
                self._drain(queue)
                now = time.monotonic()
                idle = self._inflight is None or self._inflight.done()
                if self._rows and (self._rows >= self.batch_size or now >= deadline
                                   or (self.eager and idle)):  # fmt: skip
                    await self._flush(wait=self._rows >= 4 * self.batch_size)
                    deadline = time.monotonic() + self.flush_interval
                elif now >= deadline:
                    deadline = now + self.flush_interval
                if self._closing.is_set():
                    break
                if self._sync.is_set():
                    await self._commit_for_sync(queue)
                    continue
                await self._wait(queue, max(0.0, deadline - time.monotonic()))
            self._drain(queue)
            await self._flush(wait=True)
            if self._inflight is not None:
                await self._inflight
        except BaseException as exc:
            failed: BaseException | None = exc
            raise
        else:
            failed = None
        finally:
            self._stop.set()  # also when cancelled: a write still retrying in its thread ends
            self._running = False
            self._done.set()
            for fut in self._synced:  # the final flush committed what they waited for, or not
                if fut.done():
                    continue
                if failed is None:
                    fut.set_result(None)
                else:
                    fut.set_exception(StoreError(f"the store writer stopped: {failed!r}"))
            self._synced.clear()

    async def sync(self) -> None:
        """Commit everything received and queued so far, and keep running.

        Returns once those rows are in the store (a failing store is retried until it recovers,
        as for any flush). When :meth:`run` is not running this is :meth:`close`'s final flush.
        """
        if not self._running:
            await self._flush(wait=True)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._synced.append(fut)
        self._sync.set()
        await fut

    async def _commit_for_sync(self, queue: asyncio.Queue[FeedBatch]) -> None:
        waiting, self._synced = self._synced, []
        self._sync.clear()
        self._drain(queue)
        try:
            await self._flush(wait=True)
        except BaseException as exc:
            for fut in waiting:
                if not fut.done():
                    fut.set_exception(StoreError(f"the store writer stopped: {exc!r}"))
            raise
        for fut in waiting:
            if not fut.done():
                fut.set_result(None)

    async def close(self) -> None:
        """Flush everything received (and still queued) and stop :meth:`run`."""
        self._stop.set()
        self._closing.set()
        if self._running:
            await self._done.wait()
        else:
            await self._flush(wait=True)
            if self._inflight is not None:
                await self._inflight

    async def _wait(self, queue: asyncio.Queue[FeedBatch], timeout: float) -> None:
        if not queue.empty():
            return
        getter = asyncio.ensure_future(queue.get())
        closer = asyncio.ensure_future(self._closing.wait())
        syncer = asyncio.ensure_future(self._sync.wait())
        waits: set[asyncio.Future[Any]] = {getter, closer, syncer}
        if self.eager and self._rows and self._inflight is not None:
            waits.add(self._inflight)  # write the waiting rows as soon as this write ends
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        closer.cancel()
        syncer.cancel()
        if getter in done:
            self._add(getter.result())
        else:
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getter
            if not getter.cancelled():
                self._add(getter.result())

    def _drain(self, queue: asyncio.Queue[FeedBatch]) -> None:
        size = queue.qsize()
        if size > self._c["hw"]:
            self._c["hw"] = size
        while True:
            try:
                self._add(queue.get_nowait())
            except asyncio.QueueEmpty:
                return

    def _add(self, batch: FeedBatch) -> None:
        self._ticks += batch.trade_rows
        _group_into(self._quotes, batch.quote_rows)
        n = len(batch.trade_rows) + len(batch.quote_rows)
        self._rows += n
        self._c["received"] += n
        self._c["marks"] += len(batch.marks)

    async def _flush(self, *, wait: bool) -> None:
        if self._inflight is not None:
            if not self._inflight.done():
                if not wait and self._rows < 4 * self.batch_size:
                    return  # keep filling while the previous write runs
                await asyncio.wait({self._inflight})
            inflight, self._inflight = self._inflight, None
            inflight.result()
        if not self._rows:
            return
        ticks = rows_to_tick_batches(self._ticks)
        quotes = [rows_to_quote_batch(s, v) for s, v in self._quotes.items()]
        self._ticks, self._quotes, rows, self._rows = [], {}, self._rows, 0
        self._inflight = asyncio.create_task(asyncio.to_thread(self._write, ticks, quotes, rows))
        if wait:
            await self._flush(wait=True)

    def _spilled(self, ticks: list[TickBatch], quotes: list[QuoteBatch]) -> bool:
        """Hand what the store refused at close to the spill callback; whether it took them."""
        assert self.spill is not None
        try:
            self.spill(ticks, quotes)
        except OSError:
            log.exception("closing: could not spill the rows the store refused")
            return False
        return True

    def _write(self, ticks: list[TickBatch], quotes: list[QuoteBatch], rows: int) -> None:
        if self._gave_up and self.spill is not None and self._spilled(ticks, quotes):
            return  # shutdown stays bounded: one flush already spent its attempts
        t0 = time.perf_counter()
        bars = [closed for tb in ticks for closed in self._bars(tb)]
        attempt = 0
        while True:
            try:
                written, n_bars = self._write_once(ticks, quotes, bars)
                break
            except StoreError as exc:
                attempt += 1
                self._c["store_errors"] += 1
                self._c["failing"] = 1
                log.error("store write of %d rows failed (attempt %d): %s", rows, attempt, exc)
                if self._stop.is_set():
                    if attempt >= self.max_retries:
                        self._gave_up = True
                        if self.spill is not None and self._spilled(ticks, quotes):
                            return
                        self._c["dropped"] += rows
                        log.error("closing: gave up writing %d rows", rows)
                        return
                    time.sleep(0.1 * attempt)
                else:
                    self._stop.wait(min(0.1 * 2**attempt, _MAX_PAUSE))
        done_us = time.time_ns() // 1000
        self._c["failing"] = 0
        self._c["written"] += written
        self._c["bars"] += n_bars
        self._c["batches"] += 1
        self._flush_ms.append((time.perf_counter() - t0) * 1e3)
        recv = [b.recv_ts[b.recv_ts > 0] for b in ticks]
        if recv:
            self._lat.append(done_us - np.concatenate(recv))

    def _write_once(
        self, ticks: list[TickBatch], quotes: list[QuoteBatch], bars: list[BarBatch]
    ) -> tuple[int, int]:
        written = n_bars = 0
        with self.store.transaction():
            for tb in ticks:
                written += self.store.write_ticks(tb)
            for qb in quotes:
                written += self.store.write_quotes(qb)
            for bb in bars:
                n_bars += self.store.write_bars(bb)
        return written, n_bars

    def _bars(self, tb: TickBatch) -> list[BarBatch]:
        if not self.bar_timeframes:
            return []
        if (tb.symbol, self.bar_timeframes[0]) not in self._builders:
            self._new_builders(tb)
        out = []
        for tf in self.bar_timeframes:
            closed = self._builders[(tb.symbol, tf)].update(tb)
            if len(closed):
                out.append(closed)
        return out

    def _new_builders(self, tb: TickBatch) -> None:
        """Bar builders for a symbol's first ticks, holding the stored ticks of their open bars.

        After a restart (or a crash) the bar in progress is thus rebuilt from everything stored
        for it, not written from the new ticks alone.
        """
        from statarb.bars import BarBuilder

        first = int(tb.ts.min())
        frames = {tf: Timeframe.parse(tf) for tf in self.bar_timeframes}
        seed = self._stored_before(tb, min(f.floor(first) for f in frames.values()), first)
        for tf, frame in frames.items():
            builder = self._builders[(tb.symbol, tf)] = BarBuilder(tb.symbol, frame)
            if seed is not None:
                mine = seed.take(seed.ts >= frame.floor(first))
                if len(mine):
                    builder.update(mine)  # all in the open bar: closes nothing

    def _stored_before(self, tb: TickBatch, start: int, first: int) -> TickBatch | None:
        """Stored ticks from ``start`` up to the batch's first tick (not those in the batch)."""
        try:
            stored = self.store.read_ticks(tb.symbol, start, first + 1)
        except StoreError as exc:
            log.warning("cannot read stored %s ticks for its open bars: %s", tb.symbol, exc)
            return None
        keep = stored.ts < first
        ids = tb.trade_id[tb.trade_id >= 0]
        if len(ids):  # same time as the first new tick: the stored ones with smaller ids
            keep |= (stored.ts == first) & (stored.trade_id >= 0) & (stored.trade_id < ids.min())
        return stored.take(keep)


__all__ = [
    "TickWriter",
    "WriterStats",
    "quotes_to_batch",
    "rows_to_quote_batch",
    "rows_to_tick_batch",
    "rows_to_tick_batches",
    "ticks_to_batch",
]
