"""A local Binance USD-M compatible server replaying recorded data (WebSocket and REST, one port).

Point the live client at it with ``STATARB_BINANCE_WS_URL=ws://127.0.0.1:<port>`` and
``STATARB_BINANCE_REST_URL=http://127.0.0.1:<port>``. Like the exchange, the recording's clock
starts when the first client connects and keeps running while clients come and go: a client
that was away misses those frames, and the trades exist only on ``/fapi/v1/aggTrades`` (which
serves only trades whose time has come).

Served: ``/market/stream?streams=``, ``/market/ws/<s1>/<s2>``, ``/public/stream``, ``/public/ws``;
legacy ``/ws`` and ``/stream`` carry public streams only (market streams ACK and stay silent);
control requests with Binance's replies and errors (:mod:`._control`); server pings;
limits on incoming messages per second, streams per connection and connection age. REST:
``/fapi/v1/aggTrades``, ``/fapi/v1/exchangeInfo``, ``/fapi/v1/ping``, ``/fapi/v1/time`` with
``X-MBX-USED-WEIGHT-1M``, HTTP 429 + ``Retry-After`` over the weight limit, ``-1121`` for unknown
symbols. Mark prices (``<s>@markPrice`` every 3 s, ``@markPrice@1s``) are synthesised from the
last trade price. Fault switches for tests (all off by default): ``disconnect_every``,
``skip_ids``, ``stall``, ``malformed``, ``reorder_every``, ``duplicate_every`` and a small
``max_connection_age`` (the 24 h cut).
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import websockets
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from statarb.errors import InputError
from statarb.model import BarBatch
from statarb.venue._clock import Clock, ClockMode
from statarb.venue._control import ConnState, handle_control, parse_path, stream_route
from statarb.venue._data import KIND_DEPTH, KIND_QUOTE, KIND_TRADE, Recording, load_recording
from statarb.venue._depth import Book
from statarb.venue._faults import MALFORMED_KINDS, spoilt
from statarb.venue._market import KLINE_MS, Market, kline_payload
from statarb.venue._plan import STREAM_KINDS, PassPlan, build_plan, mark_triggers
from statarb.venue._rest import RestApi
from statarb.venue._tls import server_ssl_context
from statarb.venue._wire import text_frame

log = logging.getLogger(__name__)


#: frames queued for one connection above which the player waits for its sender
_HIGH_WATER = 4096
#: events the ``--max`` fast path hands out per event-loop step
_CHUNK = 2048


class _Client:
    """One WebSocket connection: its subscriptions and outgoing frames (encoded, in order)."""

    def __init__(self, ws: ServerConnection, state: ConnState) -> None:
        self.ws = ws
        self.state = state
        self.out: list[bytes] = []
        self.ctl: list[int] = []  #: positions in ``out`` of control replies (not data frames)
        self.ready = asyncio.Event()  #: ``out`` has frames
        self.room = asyncio.Event()  #: the sender took ``out``
        self.sent = 0
        self.incoming: deque[float] = deque()
        self.lut: tuple[int, np.ndarray] | None = None  #: (subscription version, plan stream mask)

    def put(self, frame: bytes, *, data: bool = True) -> None:
        """Queue one encoded frame."""
        if not data:
            self.ctl.append(len(self.out))
        self.out.append(frame)
        self.ready.set()


class ReplayServer:
    """Serve recordings as a Binance USD-M futures endpoint.

    Parameters
    ----------
    files
        Recordings readable by :func:`statarb.ingest.files.read_file` (1m kline CSVs of symbols
        without trades are played as a tape synthesised from the klines, see :mod:`._klines`).
    host, port
        Where to listen (``port=0`` picks a free port; see :attr:`port`).
    speed
        Replay speed factor (2.0 = twice real time); ``None`` = as fast as clients take it.
    disconnect_every
        Drop every connection after sending this many data frames.
    skip_ids
        ``{"BTCUSDT": (first_id, last_id)}``: those trades are never sent live (REST has them).
    stall
        ``(after_frames, seconds)``: after that many data frames in total, send nothing for
        ``seconds`` while the clock runs on (connections stay open, pings continue).
    loop
        Start over at the end, ids and times shifted forward.
    malformed
        ``{"BTCUSDT": {trade_id: kind}}``: that trade is sent spoilt instead (REST has it intact).
        Kinds (:data:`MALFORMED_KINDS`): ``"json"`` cut-off JSON text; ``"id"``, ``"time"``,
        ``"side"`` the trade id, time or maker flag as a string; ``"price"`` price ``"0"``;
        ``"nan"`` price ``"NaN"``; ``"size"`` a negative quantity.
    reorder_every
        Every n-th trade of a symbol is held back and sent after the trade that follows it.
    duplicate_every
        Every n-th trade of a symbol is sent twice in a row.
    max_connection_age
        Seconds after which the server closes a connection (code 1001), like Binance at 24 h.
    klines
        More 1m klines to play as tapes (symbols without trades in ``files``).
    kline_start_us
        Open time of the first kline the tapes play (default: each symbol's first kline).
    autoplay
        Start playing at the first WebSocket connection; ``False``: at :meth:`play` (a client
        whose streams span several connections then misses nothing at the start).
    """

    def __init__(
        self,
        files: Sequence[Path | str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float | None = 1.0,
        disconnect_every: int | None = None,
        skip_ids: Mapping[str, tuple[int, int]] | None = None,
        stall: tuple[int, float] | None = None,
        loop: bool = False,
        malformed: Mapping[str, Mapping[int, str]] | None = None,
        reorder_every: int | None = None,
        duplicate_every: int | None = None,
        ping_interval: float = 180.0,
        ping_timeout: float = 600.0,
        max_streams: int = 1024,
        max_incoming_per_second: int = 10,
        max_connection_age: float = 24 * 3600.0,
        rest_weight_limit: int = 2400,
        clock: ClockMode = "now",
        tls: bool = False,
        certfile: Path | str | None = None,
        keyfile: Path | str | None = None,
        klines: Sequence[BarBatch] = (),
        kline_start_us: int | None = None,
        autoplay: bool = True,
    ) -> None:
        self.autoplay = autoplay
        if speed is not None and not speed > 0:
            raise InputError(f"speed must be positive or None (as fast as possible), got {speed}")
        if disconnect_every is not None and disconnect_every < 1:
            raise InputError(f"disconnect_every must be >= 1, got {disconnect_every}")
        if not files and not klines:
            raise InputError("ReplayServer needs at least one recording or klines")
        for label, nth in (("reorder_every", reorder_every), ("duplicate_every", duplicate_every)):
            if nth is not None and nth < 1:
                raise InputError(f"{label} must be >= 1, got {nth}")
        self.malformed = {k.upper(): dict(v) for k, v in (malformed or {}).items()}
        bad = {k for v in self.malformed.values() for k in v.values()} - set(MALFORMED_KINDS)
        if bad:
            raise InputError(f"malformed kinds {sorted(bad)} unknown; use {MALFORMED_KINDS}")
        self.reorder_every, self.duplicate_every = reorder_every, duplicate_every
        self.files = [Path(f) for f in files]
        self.klines, self.kline_start_us = list(klines), kline_start_us
        self.host, self._port = host, port
        self.speed = speed
        self.disconnect_every = disconnect_every
        self.skip_ids = {k.upper(): v for k, v in (skip_ids or {}).items()}
        self.stall = stall
        self.loop = loop
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.max_streams = max_streams
        self.max_incoming = max_incoming_per_second
        self.max_age = max_connection_age
        self.rec: Recording | None = None
        self.rest: RestApi | None = None
        self.released: dict[str, int] = {}
        self.clients: set[_Client] = set()
        self.done = asyncio.Event()
        self.frames_sent = 0
        self.connections = 0
        self._weight_limit = rest_weight_limit
        self._server: Server | None = None
        self._player: asyncio.Task[None] | None = None
        self._stall_until = 0.0
        self._next_mark = 0
        self._last_price: dict[str, float] = {}
        self._stalled = False
        self._held: dict[str, int] = {}
        if clock not in ("now", "original"):
            raise InputError(f"clock must be 'now' or 'original', got {clock!r}")
        if (certfile is None) != (keyfile is None):
            raise InputError("give both certfile and keyfile, or neither")
        self.clock_mode: ClockMode = clock
        self.tls = tls or certfile is not None
        self._certfile, self._keyfile = certfile, keyfile
        self.clock: Clock | None = None
        self.market: Market | None = None
        self.books: dict[str, Book] = {}
        self._depth_pass: dict[str, int] = {}
        self._depth_next: dict[str, tuple[int, int]] = {}
        self._depth_pending: dict[tuple[str, int], list[Any]] = {}
        self._partial_due: dict[tuple[str, int, int], int] = {}
        self._kline_due: dict[tuple[str, str], int] = {}
        self._mid: dict[str, float] = {}
        self._mark_avg: dict[str, tuple[float, int, int]] = {}
        self._mark_ma: dict[str, float] = {}
        self._targets_cache: dict[str, list[_Client]] = {}
        self._kline_open: dict[tuple[str, str], int] = {}
        self._depth_watched: set[str] = set()
        self._faulty = bool(self.skip_ids or self.malformed or reorder_every or duplicate_every
                            or stall)  # fmt: skip
        self._book_at: dict[str, tuple[int, int]] = {}  #: (pass, frames applied) of each book
        self._depth_ms: dict[str, np.ndarray] = {}
        self._plan: PassPlan | None = None
        self._subs_version = 0

    @property
    def port(self) -> int:
        """The port listened on (after :meth:`start`)."""
        if self._server is None:
            raise InputError("ReplayServer.port is known only after start()")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def ws_url(self) -> str:
        """``ws://host:port`` (``wss://`` with TLS; the ``binance_ws_url`` setting)."""
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}"

    @property
    def rest_url(self) -> str:
        """``http://host:port`` (``https://`` with TLS; the ``binance_rest_url`` setting)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    async def start(self) -> None:
        """Load the recordings and listen."""
        self.rec = rec = await asyncio.to_thread(
            load_recording, self.files, klines=self.klines, kline_start_us=self.kline_start_us
        )
        self.released = dict.fromkeys(rec.symbols, 0)
        self.clock = Clock(self.clock_mode, int(rec.ts[0]) if len(rec) else 0, self.speed)
        self.market = Market(rec, self.clock)
        for sym, tape in rec.depth.items():
            pr = rec.prec[sym]
            book = self.books[sym] = Book()
            book.reset({pr.price(p): q for p, q in tape.snap_bids},
                       {pr.price(p): q for p, q in tape.snap_asks}, tape.snap_id)  # fmt: skip
            self._depth_pass[sym] = 0
            self._depth_next[sym] = (0, 0)
            self._book_at[sym] = (0, 0)
            self._depth_ms[sym] = np.array([fr.T for fr in tape.frames], dtype=np.int64)
        self.rest = RestApi(self, weight_limit=self._weight_limit)
        ssl = None
        if self.tls:
            ssl = await asyncio.to_thread(
                server_ssl_context, self.host, self._certfile, self._keyfile
            )
        self._server = await serve(
            self._handle, self.host, self._port, process_request=self._process_request,
            ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
            compression=None, max_size=2**20, ssl=ssl, close_timeout=2.0,
        )  # fmt: skip

    async def stop(self) -> None:
        """Stop playing and close every connection."""
        if self._player is not None:
            self._player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._player
        if self._server is not None:
            self._server.close()
            try:
                async with asyncio.timeout(5.0):
                    await self._server.wait_closed()
            except TimeoutError:  # a client that never completes the closing handshake
                for c in list(self.clients):
                    c.ws.transport.abort()
                log.warning("replay: %d connection(s) aborted at stop", len(self.clients))

    def play(self) -> None:
        """Start playing (once; the first connection does it unless ``autoplay=False``)."""
        if self._player is None:
            self._player = asyncio.create_task(self._play())

    def subscriptions(self) -> set[str]:
        """The streams the connected clients receive."""
        return {n for c in self.clients for n in c.state.subs}

    async def __aenter__(self) -> ReplayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- HTTP ---------------------------------------------------------------------------------
    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        path = request.path
        if path.startswith("/fapi/"):
            assert self.rest is not None
            status, body, extra = self.rest.handle(path)
            headers = Headers()
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(body))
            headers["Connection"] = "close"  # one request per connection: no stale keep-alive
            for k, v in extra.items():
                headers[k] = v
            return Response(status, http.HTTPStatus(status).phrase, headers, body)
        if parse_path(path) is None:
            return conn.respond(404, "not found\n")
        return None

    # -- WebSocket ----------------------------------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        parsed = parse_path(ws.request.path)
        if parsed is None:
            return
        route, combined, names = parsed
        client = _Client(ws, ConnState(route, combined, [n for n in names if stream_route(n)]))
        if len(client.state.subs) > self.max_streams:
            await ws.close(1008, "too many streams")
            return
        self.connections += 1
        self.clients.add(client)
        self._subs_changed()
        if self._player is None and self.autoplay:
            self.play()
        sender = asyncio.create_task(self._send_loop(client))
        try:
            async with asyncio.timeout(self.max_age):
                await self._read_loop(client)
        except TimeoutError:
            await ws.close(1001, "connection age limit")
        finally:
            self.clients.discard(client)
            self._subs_changed()
            sender.cancel()

    async def _read_loop(self, client: _Client) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for msg in client.ws:
                now = time.monotonic()
                client.incoming.append(now)
                while client.incoming and client.incoming[0] < now - 1.0:
                    client.incoming.popleft()
                if len(client.incoming) > self.max_incoming:
                    await client.ws.close(1008, "too many requests")
                    return
                reply = handle_control(client.state, msg, max_streams=self.max_streams)
                self._subs_changed()
                client.put(text_frame(orjson.dumps(reply)), data=False)
                if len(client.state.subs) > self.max_streams:
                    await client.ws.close(1008, "too many streams")
                    return

    async def _send_loop(self, client: _Client) -> None:
        """Write every queued frame in one socket write, then wait for the socket to drain."""
        ws = client.ws
        try:
            while True:
                if not client.out:
                    client.ready.clear()
                    await client.ready.wait()
                    continue
                batch, ctl = client.out, client.ctl
                client.out, client.ctl = [], []
                client.room.set()
                data = len(batch) - len(ctl)
                every = self.disconnect_every or 0
                cut = every > 0 and client.sent + data >= every
                if cut:
                    room, controls, keep = every - client.sent, set(ctl), 0
                    while room:
                        room -= keep not in controls
                        keep += 1
                    batch = batch[:keep]
                    data = keep - sum(1 for p in ctl if p < keep)
                async with ws.send_context():
                    ws.transport.write(b"".join(batch))
                client.sent += data
                if cut:
                    ws.transport.abort()
                    return
        except websockets.ConnectionClosed:
            return
        finally:
            client.room.set()

    # -- playback -----------------------------------------------------------------------------
    async def _play(self) -> None:
        rec, clock, market = self.rec, self.clock, self.market
        assert rec is not None and clock is not None and market is not None
        if not len(rec):
            self.done.set()
            return
        clock.start()
        market.reset()
        self._plan = None
        t0 = time.monotonic()
        rnd = 0
        while True:
            await self._play_round(rec, rnd, t0)
            if not self.loop:
                break
            rnd += 1
        self.done.set()

    async def _play_round(self, rec: Recording, rnd: int, t0: float) -> None:
        i, n = 0, len(rec)
        while i < n:
            if self._fast_ok():
                i = await self._play_runs(rec, rnd, t0, i)
            else:
                i = await self._play_events(rec, rnd, t0, i)

    def _fast_ok(self) -> bool:
        """Whether runs of events can be handed out whole (no per-event work is asked for)."""
        return not (self._faulty or self._kline_due or self._depth_watched)

    async def _play_events(self, rec: Recording, rnd: int, t0: float, start: int) -> int:
        """Play event by event from ``start``; return where the ``--max`` fast path may resume."""
        market = self.market
        assert market is not None
        base, dur = int(rec.ts[0]), rec.duration_us
        lower = [s.lower() for s in rec.symbols]
        passes = {s: market.trades(s, rnd) for s in rec.trades}
        kinds, syms, rows, tss = rec.kind.tolist(), rec.sym.tolist(), rec.row.tolist(), rec.ts
        for i in range(start, len(rec)):
            if self.speed is not None:
                due = t0 + (int(tss[i]) - base + rnd * dur) / 1e6 / self.speed
                wait = due - time.monotonic()
                if wait > 0.001:
                    await asyncio.sleep(wait)
                elif i % 64 == 0:  # behind the clock: still let the connections send
                    await asyncio.sleep(0)
                if i % 64 == 0 and self._fast_ok():
                    return i
            elif i % 64 == 0:
                await self._yield_to_clients()
                if self._fast_ok():
                    return i
            si, j = syms[i], rows[i]
            sym = rec.symbols[si]
            kind = kinds[i]
            if kind == KIND_TRADE:
                n = len(rec.trades[sym])
                self.released[sym] = rnd * n + j + 1
                tp = passes[sym]
                self._last_price[sym] = float(tp.price[j])
                now_ms = int(tp.T[j])
                self._deliver_trade(sym, lower[si], j, rnd, tp)
                if self._kline_due:
                    self._deliver_klines(sym, lower[si], now_ms)
            elif kind == KIND_DEPTH:
                now_ms = self._deliver_depth(sym, lower[si], j, rnd)
            else:
                q = rec.quotes[sym]
                self._mid[sym] = float(q.bid[j] + q.ask[j]) / 2 * market.factor(sym, rnd)
                data = market.book_ticker_json(sym, j, rnd)
                now_ms = market.present_ms_one(int(q.ts[j]), rnd)
                if targets := self._targets(f"{lower[si]}@bookTicker"):
                    self._push(f"{lower[si]}@bookTicker", targets, data)
            if now_ms >= self._next_mark:
                self._deliver_marks(now_ms)
        return len(rec)

    async def _play_runs(self, rec: Recording, rnd: int, t0: float, start: int) -> int:
        """The fast path: hand out runs of events, each run's frames in one go.

        With ``--max`` a run is the next :data:`_CHUNK` events; paced, it is every event whose
        time has come (as :meth:`_play_events` plays them without pausing), then the player
        sleeps until the next one is due. A run also ends at the event that makes mark prices
        due, so that the marks follow the same frames as in :meth:`_play_events`; frames,
        released trades, quotes and depth positions come out as they would event by event
        (books catch up when read: :meth:`_sync_book`).
        """
        market = self.market
        assert market is not None
        plan = self._plan
        if plan is None or plan.rnd != rnd:
            plan = self._plan = build_plan(rec, market, rnd, self._depth_ms)
        n = len(rec)
        due = (mark_triggers(plan.now_ms[start:], self._next_mark) + start).tolist()
        due.append(n)
        at: np.ndarray | None = None
        if self.speed is not None:
            at = t0 + (rec.ts - int(rec.ts[0]) + rnd * rec.duration_us) / 1e6 / self.speed
        k, i = 0, start
        while i < n and self._fast_ok():
            if at is None:
                end = min(n, i + _CHUNK)
            else:
                now = time.monotonic()
                wait = float(at[i]) - now
                if wait > 0.001:
                    await asyncio.sleep(wait)
                    continue
                end = min(n, i + _CHUNK, max(i + 1, int(np.searchsorted(at, now + 0.001, "right"))))
            while due[k] < i:
                k += 1
            marks = due[k] < end
            if marks:
                end = due[k] + 1
            self._emit_run(rec, plan, i, end)
            if marks:
                self._deliver_marks(int(plan.now_ms[end - 1]))
            i = end
            if at is None:
                await self._yield_to_clients()
            elif i < n and at[i] - time.monotonic() <= 0.001:
                await asyncio.sleep(0)  # behind the clock: still let the connections send
        return i

    def _emit_run(self, rec: Recording, plan: PassPlan, i0: int, i1: int) -> None:
        """Queue the frames of events ``i0 .. i1 - 1`` and move the venue's state past them."""
        e0, e1 = np.searchsorted(plan.ev, (i0, i1)).tolist()
        if e1 > e0:
            sids = plan.sid[e0:e1]
            anyone = np.zeros(e1 - e0, dtype=bool)
            for combined in (False, True):
                group = [c for c in self.clients if c.state.combined is combined]
                if not group:
                    continue
                masks = [self._stream_mask(c)[sids] for c in group]
                union = masks[0] if len(masks) == 1 else np.logical_or.reduce(masks)
                idx = np.flatnonzero(union)
                if not len(idx):
                    continue
                anyone |= union
                frames = plan.frames(idx + e0, combined)
                for c, m in zip(group, masks, strict=True):
                    if m is union:
                        c.out.extend(frames)
                    else:
                        pos = np.searchsorted(idx, np.flatnonzero(m)).tolist()
                        c.out.extend(map(frames.__getitem__, pos))
                    c.ready.set()
            self.frames_sent += int(np.count_nonzero(anyone))
        # the last event of each kind and symbol sets the state the per-event player leaves
        nsym = len(rec.symbols)
        key = rec.kind[i0:i1].astype(np.int64) * nsym + rec.sym[i0:i1]
        kinds, first = np.unique(key[::-1], return_index=True)
        rnd, market = plan.rnd, self.market
        assert market is not None
        for kk, ev in zip(kinds.tolist(), (i1 - 1 - first).tolist(), strict=True):
            kind, si = divmod(kk, nsym)
            sym, j = rec.symbols[si], int(rec.row[ev])
            if kind == KIND_TRADE:
                self.released[sym] = rnd * len(rec.trades[sym]) + j + 1
                self._last_price[sym] = float(market.trades(sym, rnd).price[j])
            elif kind == KIND_QUOTE:
                q = rec.quotes[sym]
                self._mid[sym] = float(q.bid[j] + q.ask[j]) / 2 * market.factor(sym, rnd)
            else:
                nd = len(rec.depth[sym])
                self._depth_next[sym] = (rnd, j + 1) if j + 1 < nd else (rnd + 1, -1)
                self._depth_pass[sym] = rnd

    def _stream_mask(self, c: _Client) -> np.ndarray:
        """Which of the plan's streams client ``c`` takes (by stream id)."""
        if c.lut is None or c.lut[0] != self._subs_version:
            assert self.rec is not None
            names = [f"{s.lower()}@{k}" for s in self.rec.symbols for k in STREAM_KINDS]
            c.lut = (self._subs_version, np.array([c.state.delivers(x) for x in names], bool))
        return c.lut[1]

    # -- mark price ---------------------------------------------------------------------------
    def _deliver_marks(self, now_ms: int) -> None:
        """Mark prices every second of presented time (synthesised: see :func:`mark_price`)."""
        sec = now_ms // 1000
        self._next_mark = (sec + 1) * 1000
        for sym in list(self._last_price):
            payload = self.mark_state(sym, sec * 1000, update=True)
            if payload is None:
                continue
            data = orjson.dumps(payload).decode()
            low = sym.lower()
            if targets := self._targets(f"{low}@markPrice@1s"):
                self._push(f"{low}@markPrice@1s", targets, data)
            if sec % 3 == 0 and (targets := self._targets(f"{low}@markPrice")):
                self._push(f"{low}@markPrice", targets, data)

    def mark_state(self, sym: str, t_ms: int, *, update: bool = False) -> dict[str, Any] | None:
        """A ``markPriceUpdate`` payload of ``sym`` now (``None`` before its first trade).

        The recordings hold no mark or index price, so they are synthesised: mark = the last
        trade price, index = the mid of the best bid and ask (the last trade without quotes),
        ``ap`` = a 30-second moving average of the mark, ``P`` = the average mark since the
        last funding time, funding rate = the 0.01 % interest-rate component alone.
        """
        price = self._last_price.get(sym)
        if price is None or self.rec is None:
            return None
        pr = self.rec.prec[sym]
        index = self._mid.get(sym, price)
        funding = (t_ms // 28_800_000 + 1) * 28_800_000
        if update:
            total, count, period = self._mark_avg.get(sym, (0.0, 0, funding))
            if period != funding:
                total, count = 0.0, 0
            self._mark_avg[sym] = (total + price, count + 1, funding)
            ma = self._mark_ma.get(sym, price)
            self._mark_ma[sym] = ma + (price - ma) / 30.0
        total, count, _ = self._mark_avg.get(sym, (price, 1, funding))
        settle = total / count if count else price
        return {"e": "markPriceUpdate", "E": t_ms, "s": sym, "p": pr.price(price),
                "ap": pr.price(self._mark_ma.get(sym, price)), "i": f"{index:.8f}",
                "P": f"{settle:.8f}", "r": "0.00010000", "T": funding}  # fmt: skip

    async def _yield_to_clients(self) -> None:
        """Let the senders run; wait while a connection has more than its share queued."""
        await asyncio.sleep(0)
        while full := next((c for c in self.clients if len(c.out) > _HIGH_WATER), None):
            full.room.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.05):  # a connection may go away meanwhile
                    await full.room.wait()

    # -- trades -------------------------------------------------------------------------------
    def _deliver_trade(self, sym: str, low: str, j: int, rnd: int, tp: Any) -> None:
        rec = self.rec
        assert rec is not None
        if (targets := self._targets(f"{low}@trade")) and not self._is_stalled():
            self._push(f"{low}@trade", targets, tp.trade_json[j])
        ag = rec.aggs[sym]
        k = int(ag.of_row[j])
        if int(ag.last[k]) != j:
            return  # the aggregate is not complete yet
        m = len(ag)
        nth = rnd * m + k + 1  # position of this aggregate in the replay (1-based)
        if self.reorder_every and nth % self.reorder_every == 0 and k + 1 < m:
            self._held[sym] = k  # sent after the next aggregate
            return
        self._send_agg(sym, low, k, rnd, tp)
        held = self._held.pop(sym, None)
        if held is not None:
            self._send_agg(sym, low, held, rnd, tp)
        if self.duplicate_every and nth % self.duplicate_every == 0:
            self._send_agg(sym, low, k, rnd, tp)

    def _send_agg(self, sym: str, low: str, k: int, rnd: int, tp: Any) -> None:
        rec = self.rec
        assert rec is not None
        ag = rec.aggs[sym]
        a = ag.id0 + rnd * len(ag) + k
        skip = self.skip_ids.get(sym)
        if skip is not None and skip[0] <= a <= skip[1]:
            return
        name = f"{low}@aggTrade"
        if not (targets := self._targets(name)):
            return
        spoil = self.malformed.get(sym, {}).get(a)
        data = tp.agg_json[k]
        self._push(name, targets, data if spoil is None else spoilt(orjson.loads(data), spoil))

    # -- klines -------------------------------------------------------------------------------
    def _deliver_klines(self, sym: str, low: str, now_ms: int) -> None:
        """``<sym>@kline_<tf>`` updates at most every 250 ms, and the final one of each kline."""
        market = self.market
        assert market is not None
        for (s, tf), due in list(self._kline_due.items()):
            if s != sym or now_ms < due:
                continue
            names = (f"{low}@kline_{tf}", f"{low}_perpetual@continuousKline_{tf}")
            targets = [(n, self._targets(n)) for n in names]
            if not any(t for _, t in targets):
                del self._kline_due[(s, tf)]
                continue
            iv = KLINE_MS[tf]
            start = now_ms // iv * iv
            released = self.released[sym]
            last = self._kline_open.get((sym, tf))
            rows: list[tuple[list[Any], bool]] = []
            if last is not None and last < start:
                done = market.klines(sym, released, iv, start_ms=last, end_ms=last + iv - 1,
                                     limit=1)  # fmt: skip
                rows += [(r, True) for r in done]
            self._kline_open[(sym, tf)] = start
            rows += [(r, False) for r in market.klines(sym, released, iv, start_ms=start,
                                                      end_ms=now_ms, limit=1)]  # fmt: skip
            for row, closed in rows:
                for (name, tg), cont in zip(targets, (False, True), strict=True):
                    if tg:
                        self._push(name, tg, kline_payload(sym, tf, row, now_ms, closed,
                                                           continuous=cont))  # fmt: skip
            self._kline_due[(s, tf)] = now_ms + 250

    # -- depth --------------------------------------------------------------------------------
    def _depth_levels(
        self, sym: str, levels: list[tuple[float, str]], rnd: int
    ) -> list[tuple[str, str]]:
        assert self.rec is not None and self.market is not None
        pr = self.rec.prec[sym]
        f = self.market.factor(sym, rnd)
        return [(pr.price(p * f), q) for p, q in levels]

    def depth_frame(self, sym: str, j: int, rnd: int) -> dict[str, Any]:
        """Diff frame ``j`` of pass ``rnd`` (prices rebased, ids shifted, times presented)."""
        assert self.rec is not None and self.market is not None
        tape = self.rec.depth[sym]
        fr = tape.frames[j]
        shift = rnd * tape.id_span
        t = self.market.present_ms_one(fr.T * 1000, rnd)
        return {"e": "depthUpdate", "E": t, "T": t, "s": sym, "U": fr.U + shift,
                "u": fr.u + shift, "pu": fr.pu + shift,
                "b": self._depth_levels(sym, fr.bids, rnd),
                "a": self._depth_levels(sym, fr.asks, rnd)}  # fmt: skip

    def _seam_frame(self, sym: str, rnd: int, t_ms: int) -> dict[str, Any]:
        """The diff that turns the book at the end of a pass into the rebased start of ``rnd``."""
        assert self.rec is not None
        tape, book = self.rec.depth[sym], self.books[sym]
        bids = dict(self._depth_levels(sym, tape.snap_bids, rnd))
        asks = dict(self._depth_levels(sym, tape.snap_asks, rnd))
        zero = self.rec.prec[sym].qty(0.0)
        b = [(p, zero) for p in book.bids if p not in bids] + list(bids.items())
        a = [(p, zero) for p in book.asks if p not in asks] + list(asks.items())
        last = book.last_id
        return {"e": "depthUpdate", "E": t_ms, "T": t_ms, "s": sym, "U": last + 1,
                "u": tape.snap_id + rnd * tape.id_span, "pu": last, "b": b, "a": a}  # fmt: skip

    def _sync_book(self, sym: str) -> None:
        """Bring the book of ``sym`` to the depth position played (the fast path skips books)."""
        assert self.rec is not None
        tape, book = self.rec.depth[sym], self.books[sym]
        r, j = self._depth_next[sym]
        target = (r, j) if j >= 0 else (r - 1, len(tape))
        at = self._book_at[sym]
        if at == target:
            return
        tr, tj = target
        done = at[1]
        if at[0] != tr or done > tj:  # start over from the pass's opening book (the seam's)
            book.reset(dict(self._depth_levels(sym, tape.snap_bids, tr)),
                       dict(self._depth_levels(sym, tape.snap_asks, tr)),
                       tape.snap_id + tr * tape.id_span)  # fmt: skip
            done = 0
        for k in range(done, tj):
            fr = self.depth_frame(sym, k, tr)
            book.apply(fr["b"], fr["a"], fr["u"])
        self._book_at[sym] = target

    def _deliver_depth(self, sym: str, low: str, j: int, rnd: int) -> int:
        assert self.rec is not None and self.market is not None
        if low not in self._depth_watched:  # nobody takes the diff: the book catches up if read
            tape = self.rec.depth[sym]
            self._depth_next[sym] = (rnd, j + 1) if j + 1 < len(tape) else (rnd + 1, -1)
            self._depth_pass[sym] = rnd
            return self.market.present_ms_one(tape.frames[j].T * 1000, rnd)
        self._sync_book(sym)
        frame = self.depth_frame(sym, j, rnd)
        if rnd != self._depth_pass[sym]:
            seam = self._seam_frame(sym, rnd, frame["E"])
            self._apply_and_send(sym, low, seam)
            self._depth_pass[sym] = rnd
        self._apply_and_send(sym, low, frame)
        n = len(self.rec.depth[sym]) if self.rec is not None else 0
        self._depth_next[sym] = (rnd, j + 1) if j + 1 < n else (rnd + 1, -1)
        self._book_at[sym] = (rnd, j + 1)
        return int(frame["E"])

    def _apply_and_send(self, sym: str, low: str, frame: dict[str, Any]) -> None:
        self.books[sym].apply(frame["b"], frame["a"], frame["u"])
        if low not in self._depth_watched:
            return
        now = frame["E"]
        if targets := self._targets(f"{low}@depth@0ms"):
            self._push(f"{low}@depth@0ms", targets, orjson.dumps(frame).decode())
        for suffix, iv in (("@100ms", 100), ("", 250), ("@500ms", 500)):
            name = f"{low}@depth{suffix}"
            pend = self._depth_pending.get((sym, iv))
            if pend is not None and now >= pend[0]:
                if targets := self._targets(name):
                    m = pend[1]
                    out = dict(m, b=list(m["b"].items()), a=list(m["a"].items()))
                    self._push(name, targets, orjson.dumps(out).decode())
                pend = None
            if pend is None:
                if self._targets(name):
                    merged = dict(frame, b=dict(frame["b"]), a=dict(frame["a"]))
                    self._depth_pending[(sym, iv)] = [(now // iv + 1) * iv, merged]
                else:
                    self._depth_pending.pop((sym, iv), None)
            else:
                m = pend[1]
                m["b"].update(frame["b"])
                m["a"].update(frame["a"])
                m.update(E=frame["E"], T=frame["T"], u=frame["u"])
            for limit in (5, 10, 20):
                pname = f"{low}@depth{limit}{suffix}"
                due = self._partial_due.get((sym, limit, iv), 0)
                if now >= due and (targets := self._targets(pname)):
                    bids, asks = self.books[sym].top(limit)
                    self._push(pname, targets, orjson.dumps(
                        dict(frame, b=bids, a=asks)).decode())  # fmt: skip
                    self._partial_due[(sym, limit, iv)] = (now // iv + 1) * iv

    def depth_snapshot(self, sym: str, limit: int) -> dict[str, Any]:
        """``/fapi/v1/depth``: the current book, one diff ahead (so its id falls in ``[U, u]``)."""
        self._sync_book(sym)
        book = self.books[sym]
        rnd, j = self._depth_next.get(sym, (0, -1))
        view = Book()
        view.reset(dict(book.bids), dict(book.asks), book.last_id)
        t = self.clock.server_ms() if self.clock is not None else 0
        if j >= 0 and rnd == self._depth_pass.get(sym) and (rnd or j or book.last_id):
            nxt = self.depth_frame(sym, j, rnd)
            view.apply(nxt["b"], nxt["a"], nxt["u"])
            t = nxt["E"]
        bids, asks = view.top(limit)
        return {"lastUpdateId": view.last_id, "E": t, "T": t, "bids": bids, "asks": asks}

    # -- sending ------------------------------------------------------------------------------
    def _targets(self, name: str) -> list[_Client]:
        """Connections that get a frame of stream ``name`` now (none while stalled)."""
        hit = self._targets_cache.get(name)
        if hit is None:
            hit = self._targets_cache[name] = [c for c in self.clients if c.state.delivers(name)]
        return [] if not hit or self._is_stalled() else hit

    def _subs_changed(self) -> None:
        self._targets_cache.clear()
        self._subs_version += 1
        self._depth_watched = {
            n.partition("@")[0] for c in self.clients for n in c.state.subs if "@depth" in n
        }
        for c in self.clients:
            for name in c.state.subs:
                sym, sep, tf = name.partition("@kline_")
                if not sep:
                    pair, sep, tf = name.partition("_perpetual@continuousKline_")
                    sym = pair
                if sep and tf in KLINE_MS:
                    self._kline_due.setdefault((sym.upper(), tf), 0)

    def _push(self, name: str, targets: list[_Client], data: str) -> None:
        raw = wrapped = None
        for c in targets:
            if c.state.combined:
                if wrapped is None:
                    wrapped = text_frame(f'{{"stream":"{name}","data":{data}}}'.encode())
                c.put(wrapped)
            else:
                if raw is None:
                    raw = text_frame(data.encode())
                c.put(raw)
        self.frames_sent += 1

    def _is_stalled(self) -> bool:
        if self.stall is None:
            return False
        now = time.monotonic()
        if not self._stalled and self.frames_sent >= self.stall[0]:
            self._stalled = True
            self._stall_until = now + self.stall[1]
            log.info("replay: stalling for %.1f s", self.stall[1])
        return self._stalled and now < self._stall_until


__all__ = ["MALFORMED_KINDS", "ReplayServer"]
