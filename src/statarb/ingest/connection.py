"""One long-lived WebSocket subscription that survives everything a 24/7 feed does.

:class:`ManagedConnection` knows no exchange: it opens the URL a callback names, hands every
frame to a callback with its receipt time, and

* reconnects after any drop with exponential backoff, full jitter and a cap; the attempt counter
  resets once a connection has stayed up for ``healthy_after`` seconds;
* closes a connection that has been silent for ``silence_timeout`` seconds (this also catches a
  server that acknowledged a subscription but never sends data) and reconnects;
* rotates the connection before the exchange's lifetime limit make-before-break: the new socket
  is opened (its URL carries the subscriptions) and must deliver a first frame before the old one
  is closed, so the caller sees an overlap (which it dedupes) and never a hole;
* paces outgoing control messages under the exchange's incoming-message limit.

The library answers server pings itself; client pings every ``ping_interval`` seconds detect a
dead TCP path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Literal

import websockets
from websockets.asyncio.client import ClientConnection, connect

from statarb.errors import InputError
from statarb.protocol.binance import backoff_delay

log = logging.getLogger(__name__)

OpenKind = Literal["connect", "reconnect", "rotate"]
FrameHandler = Callable[[str | bytes, int], Awaitable[None]]
OpenHandler = Callable[[OpenKind], None]


def now_us() -> int:
    """Wall-clock time, epoch µs."""
    return time.time_ns() // 1000


class _Session:
    """One open socket: its reader and silence watchdog."""

    def __init__(self, ws: ClientConnection, owner: ManagedConnection) -> None:
        self.ws = ws
        self.owner = owner
        self.opened = time.monotonic()
        self.last_frame = time.monotonic()
        self.first_frame = asyncio.Event()
        self.silent = False
        self.reader = asyncio.create_task(self._read())
        self.watchdog = asyncio.create_task(self._watch())

    async def _read(self) -> None:
        handler = self.owner.on_frame
        mono = time.monotonic
        clock = time.time_ns
        try:
            async for raw in self.ws:
                self.last_frame = mono()
                if not self.first_frame.is_set():
                    self.first_frame.set()
                await handler(raw, clock() // 1000)
        except websockets.ConnectionClosed:
            pass
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
                await self.ws.close(1000, "silent")
                return

    async def close(self) -> None:
        self.watchdog.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5.0)
        self.ws.transport.abort()
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
    on_frame
        ``await on_frame(raw, recv_ts_us)`` for every frame, in arrival order per socket.
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
        on_frame: FrameHandler,
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
    ) -> None:
        checks = {"silence_timeout": silence_timeout, "rotate_after": rotate_after,
                  "control_rate": control_rate, "open_timeout": open_timeout}  # fmt: skip
        for label, v in checks.items():
            if not v > 0:
                raise InputError(f"{label} must be positive, got {v}")
        backoff_delay(0, base=backoff_base, cap=backoff_cap)  # validates
        self.name = name
        self.url = url
        self.on_frame = on_frame
        self.on_open = on_open
        self.silence_timeout = silence_timeout
        self.rotate_after = rotate_after
        self.healthy_after = healthy_after
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.open_timeout = open_timeout
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
        return any(s.ws.state is websockets.State.OPEN for s in self._sessions)

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
            for s in list(self._sessions):
                with contextlib.suppress(websockets.ConnectionClosed):
                    await s.ws.send(text)
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
            try:
                ws = await connect(
                    url,
                    open_timeout=self.open_timeout,
                    ping_interval=self.ping_interval,
                    ping_timeout=self.ping_timeout,
                    max_size=2**24,
                    max_queue=4096,
                    compression=None,
                    close_timeout=2.0,
                )
            except (TimeoutError, OSError, websockets.WebSocketException) as exc:
                self._attempt += 1
                log.warning("%s: cannot connect to %s (%s)", self.name, url, exc)
                continue
            self._attempt += 1
            session = _Session(ws, self)
            self._sessions.append(session)
            self.on_open(kind)
            return session
        return None


__all__ = ["ManagedConnection", "OpenKind", "now_us"]
