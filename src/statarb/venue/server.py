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
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import websockets
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from statarb.errors import InputError
from statarb.venue._control import ConnState, handle_control, parse_path
from statarb.venue._data import (
    KIND_TRADE,
    MALFORMED_KINDS,
    Recording,
    agg_trade,
    book_ticker,
    load_recording,
    spoilt,
)
from statarb.venue._rest import RestApi

log = logging.getLogger(__name__)


class _Client:
    """One WebSocket connection: its subscriptions and outgoing frames."""

    def __init__(self, ws: ServerConnection, state: ConnState) -> None:
        self.ws = ws
        self.state = state
        self.out: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()
        self.sent = 0
        self.incoming: deque[float] = deque()


class ReplayServer:
    """Serve recordings as a Binance USD-M futures endpoint.

    Parameters
    ----------
    files
        Recordings readable by :func:`statarb.ingest.files.read_file`.
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
    ) -> None:
        if speed is not None and not speed > 0:
            raise InputError(f"speed must be positive or None (as fast as possible), got {speed}")
        if disconnect_every is not None and disconnect_every < 1:
            raise InputError(f"disconnect_every must be >= 1, got {disconnect_every}")
        if not files:
            raise InputError("ReplayServer needs at least one recording")
        for label, nth in (("reorder_every", reorder_every), ("duplicate_every", duplicate_every)):
            if nth is not None and nth < 1:
                raise InputError(f"{label} must be >= 1, got {nth}")
        self.malformed = {k.upper(): dict(v) for k, v in (malformed or {}).items()}
        bad = {k for v in self.malformed.values() for k in v.values()} - set(MALFORMED_KINDS)
        if bad:
            raise InputError(f"malformed kinds {sorted(bad)} unknown; use {MALFORMED_KINDS}")
        self.reorder_every, self.duplicate_every = reorder_every, duplicate_every
        self.files = [Path(f) for f in files]
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

    @property
    def port(self) -> int:
        """The port listened on (after :meth:`start`)."""
        if self._server is None:
            raise InputError("ReplayServer.port is known only after start()")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def ws_url(self) -> str:
        """``ws://host:port`` (the ``binance_ws_url`` setting for clients)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def rest_url(self) -> str:
        """``http://host:port`` (the ``binance_rest_url`` setting for clients)."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Load the recordings and listen."""
        self.rec = await asyncio.to_thread(load_recording, self.files)
        self.released = dict.fromkeys(self.rec.symbols, 0)
        self.rest = RestApi(self.rec, self.released, weight_limit=self._weight_limit)
        self._server = await serve(
            self._handle, self.host, self._port, process_request=self._process_request,
            ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
            compression=None, max_size=2**20,
        )  # fmt: skip

    async def stop(self) -> None:
        """Stop playing and close every connection."""
        if self._player is not None:
            self._player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._player
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

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
            status, body, headers = self.rest.handle(path)
            resp = conn.respond(status, "")
            resp.headers["Content-Type"] = "application/json"
            for k, v in headers.items():
                resp.headers[k] = v
            del resp.headers["Content-Length"]
            resp.headers["Content-Length"] = str(len(body))
            resp.body = body
            return resp
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
        from statarb.venue._control import stream_route

        client = _Client(ws, ConnState(route, combined, [n for n in names if stream_route(n)]))
        if len(client.state.subs) > self.max_streams:
            await ws.close(1008, "too many streams")
            return
        self.connections += 1
        self.clients.add(client)
        if self._player is None:
            self._player = asyncio.create_task(self._play())
        sender = asyncio.create_task(self._send_loop(client))
        try:
            async with asyncio.timeout(self.max_age):
                await self._read_loop(client)
        except TimeoutError:
            await ws.close(1001, "connection age limit")
        finally:
            self.clients.discard(client)
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
                client.out.put_nowait((orjson.dumps(reply).decode(), False))
                if len(client.state.subs) > self.max_streams:
                    await client.ws.close(1008, "too many streams")
                    return

    async def _send_loop(self, client: _Client) -> None:
        ws = client.ws
        try:
            while True:
                frame, is_data = await client.out.get()
                await ws.send(frame)
                if is_data:
                    client.sent += 1
                    if self.disconnect_every and client.sent >= self.disconnect_every:
                        ws.transport.abort()
                        return
        except websockets.ConnectionClosed:
            return

    # -- playback -----------------------------------------------------------------------------
    async def _play(self) -> None:
        rec = self.rec
        assert rec is not None
        if not len(rec):
            self.done.set()
            return
        t0 = time.monotonic()
        rnd = 0
        while True:
            await self._play_round(rec, rnd, t0)
            if not self.loop:
                break
            rnd += 1
        self.done.set()

    async def _play_round(self, rec: Recording, rnd: int, t0: float) -> None:
        base, dur = int(rec.ts[0]), rec.duration_us
        lower = [s.lower() for s in rec.symbols]
        for i in range(len(rec)):
            if self.speed is not None:
                due = t0 + (int(rec.ts[i]) - base + rnd * dur) / 1e6 / self.speed
                wait = due - time.monotonic()
                if wait > 0.001:
                    await asyncio.sleep(wait)
            elif i % 64 == 0:
                await self._yield_to_clients()
            now_us = int(rec.ts[i]) + rnd * dur
            if now_us >= self._next_mark:
                self._deliver_marks(now_us)
            si, j = int(rec.sym[i]), int(rec.row[i])
            sym = rec.symbols[si]
            if rec.kind[i] == KIND_TRADE:
                self.released[sym] = rnd * len(rec.trades[sym]) + j + 1
                self._last_price[sym] = float(rec.trades[sym].price[j])
                self._deliver_trade(rec, sym, lower[si], j, rnd)
            else:
                qb = rec.quotes[sym]
                self._deliver(f"{lower[si]}@bookTicker", book_ticker, qb, j, rnd, dur)

    def _deliver_marks(self, now_us: int) -> None:
        """Mark prices (synthesised from the last trade) every second of recording time."""
        sec = now_us // 1_000_000
        self._next_mark = (sec + 1) * 1_000_000
        for sym, price in self._last_price.items():
            payload = mark_price(sym, price, sec * 1000)
            self._deliver(f"{sym.lower()}@markPrice@1s", _same, payload)
            if sec % 3 == 0:
                self._deliver(f"{sym.lower()}@markPrice", _same, payload)

    async def _yield_to_clients(self) -> None:
        await asyncio.sleep(0)
        while any(c.out.qsize() > 2000 for c in self.clients):
            await asyncio.sleep(0.001)

    def _deliver_trade(self, rec: Recording, sym: str, low: str, j: int, rnd: int) -> None:
        n = len(rec.trades[sym])
        nth = rnd * n + j + 1  # position of this trade in the replay (1-based)
        if self.reorder_every and nth % self.reorder_every == 0 and j + 1 < n:
            self._held[sym] = j  # sent after the next trade
            return
        self._send_trade(rec, sym, low, j, rnd)
        held = self._held.pop(sym, None)
        if held is not None:
            self._send_trade(rec, sym, low, held, rnd)
        if self.duplicate_every and nth % self.duplicate_every == 0:
            self._send_trade(rec, sym, low, j, rnd)

    def _send_trade(self, rec: Recording, sym: str, low: str, j: int, rnd: int) -> None:
        b = rec.trades[sym]
        span = rec.id_span(sym)
        tid = int(b.trade_id[j]) + rnd * span
        skip = self.skip_ids.get(sym)
        if skip is not None and skip[0] <= tid <= skip[1]:
            return
        spoil = self.malformed.get(sym, {}).get(tid)
        dur = rec.duration_us
        for name, payload in ((f"{low}@aggTrade", agg_trade), (f"{low}@trade", _trade)):
            if spoil is None:
                self._deliver(name, payload, b, j, rnd, span, dur)
            elif targets := self._targets(name):
                self._push(name, targets, spoilt(payload(b, j, rnd, span, dur), spoil))

    def _deliver(self, name: str, payload: Callable[..., dict[str, Any]], *args: Any) -> None:
        if targets := self._targets(name):
            self._push(name, targets, orjson.dumps(payload(*args)).decode())

    def _targets(self, name: str) -> list[_Client]:
        """Connections that get a frame of stream ``name`` now (none while stalled)."""
        targets = [c for c in self.clients if c.state.delivers(name)]
        return [] if not targets or self._is_stalled() else targets

    def _push(self, name: str, targets: list[_Client], data: str) -> None:
        for c in targets:
            frame = f'{{"stream":"{name}","data":{data}}}' if c.state.combined else data
            c.out.put_nowait((frame, True))
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


def _same(payload: dict[str, Any]) -> dict[str, Any]:
    return payload


def mark_price(symbol: str, price: float, t_ms: int) -> dict[str, Any]:
    """A ``markPriceUpdate`` payload: mark = index = settle = the last trade price."""
    p = repr(price)
    funding = (t_ms // 28_800_000 + 1) * 28_800_000  # next 00:00 / 08:00 / 16:00 UTC
    return {"e": "markPriceUpdate", "E": t_ms, "s": symbol, "p": p, "ap": p, "i": p, "P": p,
            "r": "0.00010000", "T": funding}  # fmt: skip


def _trade(*args: Any) -> dict[str, Any]:
    agg = agg_trade(*args)
    return {"e": "trade", "E": agg["E"], "T": agg["T"], "s": agg["s"], "t": agg["a"],
            "p": agg["p"], "q": agg["q"], "X": "MARKET", "m": agg["m"]}  # fmt: skip


__all__ = ["MALFORMED_KINDS", "ReplayServer"]
