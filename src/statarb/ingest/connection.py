"""One long-lived WebSocket subscription that survives everything a 24/7 feed does.

:class:`ManagedConnection` knows no exchange: it opens the URL a callback names, hands the frames
of every socket read to a callback with their receipt time, and

* reconnects after any drop with exponential backoff, full jitter and a cap; the attempt counter
  resets once a connection has stayed up for ``healthy_after`` seconds;
* closes a connection that has been silent for ``silence_timeout`` seconds (this also catches a
  server that acknowledged a subscription but never sends data) and reconnects;
* rotates the connection before the exchange's lifetime limit make-before-break: the new socket
  is opened (its URL carries the subscriptions) and must deliver a first frame before the old one
  is closed, so the caller sees an overlap (which it dedupes) and never a hole;
* paces outgoing control messages under the exchange's incoming-message limit.

The transport is ``picows`` (a Cython WebSocket client): it parses the frames of each socket
read in one go and hands them to :class:`_Inbox` synchronously, which collects whole messages
(fragments joined) until the reader task takes them all at once. The inbox is bounded: above
``max_queue`` messages the socket is paused until the reader catches up, so a slow consumer
stops reading instead of buffering without limit. Server pings are answered by the library;
client pings after ``ping_interval`` seconds without traffic detect a dead TCP path.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from picows import WSCloseCode, WSError, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from statarb.errors import InputError
from statarb.protocol.binance import backoff_delay

log = logging.getLogger(__name__)

OpenKind = Literal["connect", "reconnect", "rotate"]
FramesHandler = Callable[[Sequence[bytes], int], Awaitable[None]]
OpenHandler = Callable[[OpenKind], None]
#: largest message accepted (bytes)
MAX_MESSAGE = 2**24


def _same(inbox: _Inbox) -> _Inbox:
    return inbox


def now_us() -> int:
    """Wall-clock time, epoch µs."""
    return time.time_ns() // 1000


class _Inbox(WSListener):
    """The messages of one socket, from picows' frame callback to the reader task.

    ``recv_us`` is the receipt time of the oldest message not yet taken, so a message never
    looks younger than it is.
    """

    def __init__(self, max_queue: int) -> None:
        self.frames: list[bytes] = []
        self.recv_us = 0
        self.ready = asyncio.Event()
        self.gone = False
        self.transport: WSTransport | None = None
        self._max = max_queue
        self._paused = False
        self._parts: list[bytes] | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:
            if self._parts is not None:
                self._fail(transport, "a new message inside a fragmented one")
            elif frame.fin:
                self._push(frame.get_payload_as_bytes())
            else:
                self._parts = [frame.get_payload_as_bytes()]
        elif kind is WSMsgType.CONTINUATION:
            if self._parts is None:
                self._fail(transport, "a continuation frame without a message")
                return
            self._parts.append(frame.get_payload_as_bytes())
            if sum(map(len, self._parts)) > MAX_MESSAGE:
                self._fail(transport, f"a message over {MAX_MESSAGE} bytes")
            elif frame.fin:
                self._push(b"".join(self._parts))
                self._parts = None
        elif kind is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.gone = True
        self.ready.set()

    def _fail(self, transport: WSTransport, why: str) -> None:
        log.warning("closing a connection that sent %s", why)
        self._parts = None
        transport.send_close(WSCloseCode.PROTOCOL_ERROR, why.encode())
        transport.disconnect()

    def _push(self, payload: bytes) -> None:
        frames = self.frames
        if not frames:
            self.recv_us = time.time_ns() // 1000
            self.ready.set()
        frames.append(payload)
        if len(frames) >= self._max and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.underlying_transport.pause_reading()

    def take(self) -> tuple[list[bytes], int]:
        """Every message received and not yet taken, and the receipt time of the first."""
        frames, self.frames = self.frames, []
        if not self.gone:
            self.ready.clear()
        if self._paused:
            self._paused = False
            if not self.gone and self.transport is not None:
                self.transport.underlying_transport.resume_reading()
        return frames, self.recv_us


class _Session:
    """One open socket: its reader and silence watchdog."""

    def __init__(self, ws: WSTransport, inbox: _Inbox, owner: ManagedConnection) -> None:
        self.ws = ws
        self.inbox = inbox
        self.owner = owner
        self.opened = time.monotonic()
        self.last_frame = time.monotonic()
        self.first_frame = asyncio.Event()
        self.silent = False
        self.reader = asyncio.create_task(self._read())
        self.watchdog = asyncio.create_task(self._watch())

    @property
    def open(self) -> bool:
        return not self.inbox.gone

    async def _read(self) -> None:
        handler = self.owner.on_frames
        inbox = self.inbox
        mono = time.monotonic
        try:
            while True:
                await inbox.ready.wait()
                frames, recv = inbox.take()
                if not frames:
                    return  # disconnected, and everything received was handed over
                self.last_frame = mono()
                if not self.first_frame.is_set():
                    self.first_frame.set()
                await handler(frames, recv)
        except Exception:
            log.exception("%s: frame handler failed; reconnecting", self.owner.name)
            raise

    async def _watch(self) -> None:
        timeout = self.owner.silence_timeout
        while True:
            await asyncio.sleep(min(timeout / 4, 5.0))
            if time.monotonic() - self.last_frame > timeout:
                self.silent = True
                log.warning("%s: no message for %.1f s, reconnecting", self.owner.name, timeout)
                self.owner.watchdog_trips += 1
                self.ws.send_close(WSCloseCode.OK, b"silent")
                self.ws.disconnect()
                return

    async def close(self) -> None:
        self.watchdog.cancel()
        if self.open:
            with contextlib.suppress(Exception):
                self.ws.send_close(WSCloseCode.OK)
                self.ws.disconnect()
                await asyncio.wait_for(self.ws.wait_disconnected(), 5.0)
        self.ws.underlying_transport.abort()
        self.inbox.gone = True
        self.inbox.ready.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.reader


class ManagedConnection:
    """A reconnecting, self-rotating WebSocket connection.

    Parameters
    ----------
    name
        For logs, e.g. ``"market#0"``.
    url
        Called before every connect; returns the URL (with the current subscriptions).
    on_frames
        ``await on_frames(messages, recv_ts_us)`` with the messages of each socket read, in
        arrival order per socket (``recv_ts_us``: receipt of the first).
    on_open
        Called after every successful open with ``"connect"``, ``"reconnect"`` or ``"rotate"``.
    silence_timeout, rotate_after, healthy_after
        Seconds: watchdog limit, proactive rotation age, age after which backoff resets.
    backoff_base, backoff_cap
        Reconnect delay ``U(0, min(cap, base * 2**attempt))`` seconds.
    control_rate
        Most outgoing control messages per second.
    """

    def __init__(
        self,
        name: str,
        url: Callable[[], str],
        on_frames: FramesHandler,
        on_open: OpenHandler,
        *,
        silence_timeout: float = 60.0,
        rotate_after: float = 23 * 3600.0,
        healthy_after: float = 60.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        control_rate: float = 4.0,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        open_timeout: float = 10.0,
        max_queue: int = 4096,
    ) -> None:
        checks = {"silence_timeout": silence_timeout, "rotate_after": rotate_after,
                  "control_rate": control_rate, "open_timeout": open_timeout,
                  "max_queue": max_queue}  # fmt: skip
        for label, v in checks.items():
            if not v > 0:
                raise InputError(f"{label} must be positive, got {v}")
        backoff_delay(0, base=backoff_base, cap=backoff_cap)  # validates
        self.name = name
        self.url = url
        self.on_frames = on_frames
        self.on_open = on_open
        self.silence_timeout = silence_timeout
        self.rotate_after = rotate_after
        self.healthy_after = healthy_after
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.open_timeout = open_timeout
        self.max_queue = max_queue
        self._send_gap = 1.0 / control_rate
        self._next_send = 0.0
        self._send_lock = asyncio.Lock()
        self._sessions: list[_Session] = []
        self._stop = asyncio.Event()
        self.reconnects = 0
        self.rotations = 0
        self.watchdog_trips = 0
        self._attempt = 0

    @property
    def connected(self) -> bool:
        """Whether a socket is open now."""
        return any(s.open for s in self._sessions)

    def stop(self) -> None:
        """Ask :meth:`run` to close the socket and return."""
        self._stop.set()

    async def send(self, text: str) -> bool:
        """Send a control message on every open socket, paced; ``False`` if none is open."""
        async with self._send_lock:
            wait = self._next_send - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_send = time.monotonic() + self._send_gap
            sent = False
            payload = text.encode()
            for s in list(self._sessions):
                if s.open:
                    s.ws.send(WSMsgType.TEXT, payload)
                    sent = True
            return sent

    async def run(self) -> None:
        """Connect and keep connected until :meth:`stop`."""
        session = await self._open("connect")
        try:
            while session is not None and not self._stop.is_set():
                age = time.monotonic() - session.opened
                stop_wait = asyncio.ensure_future(self._stop.wait())
                done, _ = await asyncio.wait(
                    {session.reader, stop_wait},
                    timeout=max(0.0, self.rotate_after - age),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                stop_wait.cancel()
                if self._stop.is_set():
                    break
                if session.reader in done:
                    session = await self._replace_dropped(session)
                else:
                    session = await self._rotate(session)
        finally:
            for s in list(self._sessions):
                await s.close()
            self._sessions.clear()

    async def _replace_dropped(self, old: _Session) -> _Session | None:
        lived = time.monotonic() - old.opened
        if lived >= self.healthy_after:
            self._attempt = 0
        await old.close()
        self._sessions.remove(old)
        self.reconnects += 1
        log.info("%s: connection lost after %.1f s, reconnecting", self.name, lived)
        return await self._open("reconnect")

    async def _rotate(self, old: _Session) -> _Session | None:
        self.rotations += 1
        log.info("%s: rotating the connection (make-before-break)", self.name)
        new = await self._open("rotate")
        if new is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(new.first_frame.wait(), self.silence_timeout)
        if old in self._sessions:
            await old.close()
            self._sessions.remove(old)
        return new

    async def _open(self, kind: OpenKind) -> _Session | None:
        while not self._stop.is_set():
            if self._attempt:
                delay = backoff_delay(
                    self._attempt - 1, base=self.backoff_base, cap=self.backoff_cap
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                if self._stop.is_set():
                    return None
            url = self.url()
            inbox = _Inbox(self.max_queue)
            idle = self.ping_interval
            try:
                ws, _ = await asyncio.wait_for(
                    ws_connect(
                        functools.partial(_same, inbox),
                        url,
                        websocket_handshake_timeout=self.open_timeout,
                        enable_auto_ping=idle is not None,
                        auto_ping_idle_timeout=idle if idle is not None else 10.0,
                        auto_ping_reply_timeout=self.ping_timeout or 20.0,
                        max_frame_size=MAX_MESSAGE,
                    ),
                    self.open_timeout,
                )
            except (TimeoutError, OSError, WSError) as exc:
                self._attempt += 1
                log.warning("%s: cannot connect to %s (%s)", self.name, url, exc)
                continue
            self._attempt += 1
            session = _Session(ws, inbox, self)
            self._sessions.append(session)
            self.on_open(kind)
            return session
        return None


__all__ = ["ManagedConnection", "OpenKind", "now_us"]
