"""Live Binance USD-M futures feed: combined streams on routed connections, nothing lost.

:class:`BinanceFeed` subscribes ``<symbol>@aggTrade`` / ``@markPrice`` on
``<ws_url>/market/stream`` and ``<symbol>@bookTicker`` on ``<ws_url>/public/stream`` (one
connection per route, split above ``max_streams_per_connection``), keeps every connection up
(:class:`~statarb.ingest.connection.ManagedConnection`: backoff, watchdog, make-before-break
rotation) and passes every trade through a per-symbol sequencer that drops duplicates and
backfills any id gap (and the tail missed around every reconnect) over REST before the live
trades of that symbol resume. Output: :class:`FeedBatch` objects on an ``asyncio.Queue``.

Backpressure: when ``out`` is full, the feed logs a warning, counts it in
``FeedStats.queue_full`` and then *waits* for room (``await out.put``). While it waits it stops
reading the socket, so the kernel buffers fill and the exchange eventually drops the connection;
the feed then reconnects and backfills the missed trades over REST. Trades are never dropped
silently; book tickers and mark prices missed that way are gone (Binance has no REST history
for them).

Examples
--------
>>> queue: asyncio.Queue[FeedBatch] = asyncio.Queue(maxsize=10_000)  # doctest: +SKIP
>>> feed = BinanceFeed(["BTCUSDT", "ETHUSDT"], out=queue, streams=("aggTrade", "bookTicker"))
>>> asyncio.create_task(feed.run())  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from statarb.config import BINANCE_REST_URL, BINANCE_WS_URL
from statarb.errors import FeedError, InputError
from statarb.ingest._feed_stats import FeedStats, percentile_ms
from statarb.ingest._sequencer import TradeSequencer
from statarb.ingest.backfill import AggTradeClient
from statarb.ingest.connection import ManagedConnection, OpenKind
from statarb.model import Quote, Tick
from statarb.protocol.binance import (
    EV_MARK,
    EV_QUOTE,
    EV_REPLY,
    EV_TRADE,
    STREAM_ROUTES,
    MarkPrice,
    QuoteRow,
    Reply,
    Route,
    TradeRow,
    check_symbols,
    control_message,
    decode_frame,
    quote_row,
    stream_name,
    stream_url,
    tick_row,
)

log = logging.getLogger(__name__)

StreamKind = Literal["aggTrade", "bookTicker", "markPrice"]
#: SUBSCRIBE params per control message
_PARAMS_PER_MESSAGE = 50


@dataclass(frozen=True)
class FeedBatch:
    """What the feed puts on its queue: events in arrival order (trades in per-symbol id order).

    Trades and quotes travel as tuples in :class:`~statarb.model.Tick` /
    :class:`~statarb.model.Quote` field order (building frozen objects per message would cost
    more than parsing it); :attr:`ticks` and :attr:`quotes` build the objects on first use.
    """

    trade_rows: list[TradeRow] = field(default_factory=list)
    quote_rows: list[QuoteRow] = field(default_factory=list)
    marks: list[MarkPrice] = field(default_factory=list)

    @classmethod
    def of(
        cls, ticks: Iterable[Tick] = (), quotes: Iterable[Quote] = (),
        marks: Iterable[MarkPrice] = (),
    ) -> FeedBatch:  # fmt: skip
        """A batch from :class:`~statarb.model.Tick` / :class:`~statarb.model.Quote` objects."""
        return cls([tick_row(t) for t in ticks], [quote_row(q) for q in quotes], list(marks))

    @cached_property
    def ticks(self) -> list[Tick]:
        """The trades as :class:`~statarb.model.Tick` objects."""
        return [Tick(*r) for r in self.trade_rows]

    @cached_property
    def quotes(self) -> list[Quote]:
        """The best bid/ask updates as :class:`~statarb.model.Quote` objects."""
        return [Quote(*r) for r in self.quote_rows]

    def __len__(self) -> int:
        return len(self.trade_rows) + len(self.quote_rows) + len(self.marks)


class _Slot:
    """One managed connection and the streams it carries."""

    def __init__(self, route: Route, streams: list[str]) -> None:
        self.route = route
        self.streams = streams
        self.conn: ManagedConnection | None = None
        self.task: asyncio.Task[None] | None = None


class BinanceFeed:
    """Stream trades (and optionally book tickers and mark prices) of USD-M futures symbols.

    Parameters
    ----------
    symbols
        Instruments, e.g. ``["BTCUSDT", "ETHUSDT"]`` (case-insensitive).
    ws_url, rest_url
        WebSocket and REST bases (``Settings.binance_ws_url`` / ``binance_rest_url``); point
        them at ``statarb replay`` for tests.
    out
        Bounded queue that receives :class:`FeedBatch` items.
    streams
        Stream kinds per symbol.
    last_ids
        Highest stored trade id per symbol (``TickStore.last_trade_id``): the first connection
        backfills everything after it.
    max_streams_per_connection
        Streams per socket before another one is opened.
    rotate_after
        Seconds after which a connection is replaced make-before-break (Binance cuts at 24 h).
    silence_timeout
        Seconds without any frame after which a connection is considered dead.
    backoff_base, backoff_cap, healthy_after
        Reconnect backoff (see :func:`~statarb.protocol.binance.backoff_delay`).
    batch_max, flush_every
        A batch is put on ``out`` when it holds ``batch_max`` events or is ``flush_every`` s old.
    """

    def __init__(
        self,
        symbols: Iterable[str],
        *,
        out: asyncio.Queue[FeedBatch],
        ws_url: str = BINANCE_WS_URL,
        rest_url: str = BINANCE_REST_URL,
        streams: Sequence[StreamKind] = ("aggTrade",),
        last_ids: Mapping[str, int] | None = None,
        max_streams_per_connection: int = 200,
        rotate_after: float = 23 * 3600.0,
        silence_timeout: float = 60.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        healthy_after: float = 60.0,
        batch_max: int = 1000,
        flush_every: float = 0.005,
        ack_timeout: float = 10.0,
    ) -> None:
        kinds = list(dict.fromkeys(streams))
        bad = [k for k in kinds if k not in STREAM_ROUTES]
        if bad or not kinds:
            raise InputError(
                f"streams {bad or kinds} not valid; use some of {sorted(STREAM_ROUTES)}"
            )
        if max_streams_per_connection < 1 or batch_max < 1 or flush_every <= 0:
            raise InputError("max_streams_per_connection, batch_max, flush_every must be positive")
        self.symbols = check_symbols(symbols)
        self.out = out
        self.ws_url, self.rest_url = ws_url, rest_url
        self.kinds: list[str] = list(kinds)
        self.max_streams = max_streams_per_connection
        self._conn_opts: dict[str, Any] = {
            "rotate_after": rotate_after, "silence_timeout": silence_timeout,
            "backoff_base": backoff_base, "backoff_cap": backoff_cap,
            "healthy_after": healthy_after,
        }  # fmt: skip
        self.batch_max = batch_max
        self._flush_us = int(flush_every * 1e6)
        self.ack_timeout = ack_timeout
        self._rest = AggTradeClient(rest_url)
        self._ticks: list[TradeRow] = []
        self._seq = TradeSequencer(self._rest, self._ticks.append, self._flush)
        ids = {k.upper(): int(v) for k, v in (last_ids or {}).items()}
        for s in self.symbols:
            self._seq.add(s, ids.get(s))
        self._slots: list[_Slot] = []
        self._quotes: list[QuoteRow] = []
        self._marks: list[MarkPrice] = []
        self._last_flush = 0
        self._last_quote: dict[str, int] = {}
        self._last_mark: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._stop = asyncio.Event()
        self._running = False
        self._latency: deque[int] = deque(maxlen=4096)
        self._messages = 0
        self._n = {"ticks": 0, "quotes": 0, "marks": 0, "malformed": 0,
                   "queue_full": 0}  # fmt: skip
        self._last_msg: int | None = None
        self._retired = {"reconnects": 0, "rotations": 0, "watchdog_trips": 0}

    # -- public API ---------------------------------------------------------------------------
    @property
    def stats(self) -> FeedStats:
        """A frozen snapshot of the counters."""
        lat = sorted(self._latency)
        conns = [s.conn for s in self._slots if s.conn is not None]
        return FeedStats(
            messages=self._messages, ticks=self._n["ticks"], quotes=self._n["quotes"],
            marks=self._n["marks"], gaps=self._seq.gaps, backfilled=self._seq.backfilled,
            duplicates=self._seq.duplicates, lost=self._seq.lost,
            reconnects=self._retired["reconnects"] + sum(c.reconnects for c in conns),
            rotations=self._retired["rotations"] + sum(c.rotations for c in conns),
            watchdog_trips=self._retired["watchdog_trips"] + sum(c.watchdog_trips for c in conns),
            malformed=self._n["malformed"], queue_full=self._n["queue_full"],
            last_message_ts=self._last_msg,
            latency_p50_ms=percentile_ms(lat, 0.50), latency_p99_ms=percentile_ms(lat, 0.99),
            connected=bool(conns) and all(c.connected for c in conns),
            last_ids={s: st.last_id for s, st in self._seq.states.items()},
        )  # fmt: skip

    async def run(self) -> None:
        """Connect every route and stream until :meth:`stop`; flushes the last batch on exit."""
        if self._running:
            raise FeedError("BinanceFeed.run() is already running")
        self._running = True
        self._stop.clear()
        self._add_streams([stream_name(s, k) for k in self.kinds for s in self.symbols])
        flusher = asyncio.create_task(self._flush_loop())
        try:
            await self._supervise()
        finally:
            for slot in self._slots:
                if slot.conn is not None:
                    slot.conn.stop()
            await asyncio.gather(*(s.task for s in self._slots if s.task), return_exceptions=True)
            flusher.cancel()
            await self._seq.cancel_all()
            await self._flush()
            await self._rest.close()
            for slot in self._slots:
                self._retire(slot)
            self._slots.clear()
            self._running = False

    async def _supervise(self) -> None:
        """Wait for :meth:`stop`; restart a connection whose task died of an unexpected error."""
        while not self._stop.is_set():
            stop = asyncio.ensure_future(self._stop.wait())
            tasks = {s.task for s in self._slots if s.task is not None}
            done, _ = await asyncio.wait({stop, *tasks}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            for slot in list(self._slots):
                if slot.task in done and not self._stop.is_set() and slot.streams:
                    exc = slot.task.exception() if not slot.task.cancelled() else None
                    log.error("%s connection task ended (%r); restarting it", slot.route, exc)
                    self._retire(slot)
                    self._start(slot)

    def stop(self) -> None:
        """Ask :meth:`run` to return (connections closed, pending events flushed)."""
        self._stop.set()

    async def subscribe(self, symbols: Iterable[str]) -> None:
        """Add symbols (all configured stream kinds) on the live connections.

        Sends SUBSCRIBE requests (paced under the 10 messages/s limit) and waits for the ACKs;
        streams that do not fit open a new connection. Raises :class:`FeedError` on an error reply.
        """
        new = [s for s in check_symbols(symbols) if s not in self._seq.states]
        for s in new:
            self.symbols.append(s)
            self._seq.add(s)
        if self._running and new:
            await self._send_for(self._add_streams(
                [stream_name(s, k) for k in self.kinds for s in new]), "SUBSCRIBE")  # fmt: skip

    async def unsubscribe(self, symbols: Iterable[str]) -> None:
        """Remove symbols: UNSUBSCRIBE on their connections; their events stop being emitted."""
        gone = [s for s in check_symbols(symbols) if s in self._seq.states]
        names = {stream_name(s, k) for k in self.kinds for s in gone}
        for s in gone:
            self.symbols.remove(s)
            self._seq.remove(s)
            self._last_quote.pop(s, None)
            self._last_mark.pop(s, None)
        per_slot: list[tuple[_Slot, list[str]]] = []
        for slot in self._slots:
            mine = [n for n in slot.streams if n in names]
            if mine:
                slot.streams[:] = [n for n in slot.streams if n not in names]
                per_slot.append((slot, mine))
        await self._send_for(per_slot, "UNSUBSCRIBE")
        for slot, _ in per_slot:
            if not slot.streams and slot.conn is not None:
                slot.conn.stop()
                if slot.task is not None:
                    await slot.task
                self._retire(slot)
                self._slots.remove(slot)

    async def list_subscriptions(self) -> list[str]:
        """Streams the server reports for every connection (LIST_SUBSCRIPTIONS)."""
        out: list[str] = []
        for slot in self._slots:
            if slot.conn is not None and slot.streams:
                out.extend(await self._request(slot.conn, "LIST_SUBSCRIPTIONS", None) or [])
        return sorted(set(out))

    # -- connections --------------------------------------------------------------------------
    def _add_streams(self, names: list[str]) -> list[tuple[_Slot, list[str]]]:
        """Place streams on slots with room; start connections for new slots."""
        placed: list[tuple[_Slot, list[str]]] = []
        for name in names:
            route = STREAM_ROUTES[name.split("@", 1)[1]]
            slot = next((s for s in self._slots if s.route == route and s.conn is not None
                         and len(s.streams) < self.max_streams), None)  # fmt: skip
            if slot is None:
                slot = next((s for s in self._slots if s.route == route and s.conn is None
                             and len(s.streams) < self.max_streams), None)  # fmt: skip
            if slot is None:
                slot = _Slot(route, [])
                self._slots.append(slot)
            slot.streams.append(name)
            if slot.conn is not None:
                entry = next((p for p in placed if p[0] is slot), None)
                if entry is None:
                    placed.append((slot, [name]))
                else:
                    entry[1].append(name)
        for slot in self._slots:
            if slot.conn is None:
                self._start(slot)
        return placed

    def _retire(self, slot: _Slot) -> None:
        if slot.conn is not None:
            for k in self._retired:
                self._retired[k] += getattr(slot.conn, k)
            slot.conn = None

    def _start(self, slot: _Slot) -> None:
        idx = sum(1 for s in self._slots if s.route == slot.route and s.conn is not None)
        name = f"{slot.route}#{idx}"

        def on_open(kind: OpenKind) -> None:
            if kind == "rotate":
                return
            for n in slot.streams:
                if n.endswith("@aggTrade"):
                    self._seq.catch_up(n.split("@", 1)[0].upper())

        slot.conn = ManagedConnection(
            name, lambda: stream_url(self.ws_url, slot.route, slot.streams),
            self.handle_frames, on_open, **self._conn_opts,
        )  # fmt: skip
        slot.task = asyncio.create_task(slot.conn.run(), name=f"binance-{name}")

    async def _send_for(self, per_slot: list[tuple[_Slot, list[str]]], method: str) -> None:
        for slot, names in per_slot:
            assert slot.conn is not None
            for i in range(0, len(names), _PARAMS_PER_MESSAGE):
                await self._request(slot.conn, method, names[i : i + _PARAMS_PER_MESSAGE])

    async def _request(self, conn: ManagedConnection, method: str, params: list[str] | None) -> Any:
        req_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        try:
            if not await conn.send(control_message(method, req_id, params)):
                return None  # not connected: the next connect URL carries the streams
            return await asyncio.wait_for(fut, self.ack_timeout)
        except TimeoutError:
            raise FeedError(f"{method} {params}: no reply within {self.ack_timeout} s") from None
        finally:
            self._pending.pop(req_id, None)

    # -- frames -------------------------------------------------------------------------------
    async def handle_frame(self, raw: str | bytes, recv: int) -> None:
        """Process one received frame (``recv`` = receipt time, epoch µs).

        Public so recorded traffic can be replayed through the real handlers.
        """
        await self.handle_frames((raw,), recv)

    async def handle_frames(self, raws: Sequence[str | bytes], recv: int) -> None:
        """Process the frames of one socket read, in order (``recv`` = receipt time, epoch µs).

        This is what the reader calls: every frame is parsed and sequenced in one pass, and the
        batch is put on ``out`` when it is full or ``flush_every`` old (checked per frame
        against ``batch_max``, once per read against the age).
        """
        self._messages += len(raws)
        self._last_msg = recv
        decode, on_tick, lat = decode_frame, self._seq.on_tick, self._latency.append
        ticks, cap = self._ticks, self.batch_max  # the sequencer appends to this very list
        for raw in raws:
            try:
                kind, ev = decode(raw, recv)
            except (ValueError, KeyError, TypeError) as exc:
                self._n["malformed"] += 1
                log.warning("malformed frame (%s): %.200r", exc, raw)
                continue
            if kind == EV_TRADE:
                lat(recv - ev[1])
                on_tick(ev)
            elif kind == EV_QUOTE:
                self._on_quote(ev)
            elif kind == EV_MARK:
                self._on_mark(ev)
            elif kind == EV_REPLY:
                self._on_reply(ev)
            if len(ticks) + len(self._quotes) >= cap:
                await self._flush()
        if recv - self._last_flush >= self._flush_us:
            await self._flush()

    def _on_quote(self, q: QuoteRow) -> None:
        sym, uid = q[0], q[6]
        last = self._last_quote.get(sym)
        if last is None:
            if sym not in self._seq.states:
                return
        elif uid <= last:  # type: ignore[operator]
            return  # overlap of a rotation
        self._last_quote[sym] = uid  # type: ignore[assignment]
        self._latency.append(q[7] - q[1])  # type: ignore[operator]
        self._n["quotes"] += 1
        self._quotes.append(q)

    def _on_mark(self, m: MarkPrice) -> None:
        last = self._last_mark.get(m.symbol)
        if (last is None and m.symbol not in self._seq.states) or (
            last is not None and m.ts <= last
        ):
            return
        self._last_mark[m.symbol] = m.ts
        self._n["marks"] += 1
        self._marks.append(m)

    def _on_reply(self, r: Reply) -> None:
        fut = self._pending.get(r.id) if isinstance(r.id, int) else None
        if fut is None or fut.done():
            return
        if r.error is not None:
            fut.set_exception(FeedError(f"request {r.id} failed: {r.error}"))
        else:
            fut.set_result(r.result)

    async def _flush(self) -> None:
        self._last_flush = time.time_ns() // 1000
        if not (self._ticks or self._quotes or self._marks):
            return
        batch = FeedBatch(self._ticks[:], self._quotes, self._marks)
        self._ticks.clear()  # the sequencer appends to this very list
        self._quotes, self._marks = [], []
        self._n["ticks"] += len(batch.trade_rows)
        try:
            self.out.put_nowait(batch)
        except asyncio.QueueFull:
            self._n["queue_full"] += 1
            log.warning("feed queue full (%d batches): waiting for the writer, socket reads "
                        "paused", self.out.qsize())  # fmt: skip
            await self.out.put(batch)

    async def _flush_loop(self) -> None:
        period = self._flush_us / 1e6
        while True:
            await asyncio.sleep(period)
            with contextlib.suppress(Exception):
                await self._flush()


__all__ = ["BinanceFeed", "FeedBatch", "FeedStats", "MarkPrice"]
