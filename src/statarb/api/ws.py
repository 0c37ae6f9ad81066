"""The broadcast hub and the ``/ws`` WebSocket endpoint.

Protocol (JSON text frames; published in ``docs/websocket.md``):

- client -> server ``{"action": "subscribe", "topics": ["ticks:BTCUSDT", "bars:BTCUSDT:1m",
  "pair:BTCUSDT:ETHUSDT", "alerts"]}`` and ``{"action": "unsubscribe", "topics": [...]}``;
  answered with ``{"topic": "control", "type": "subscribed"|"unsubscribed", "data": [topics]}``;
  a subscribe naming a topic the engine never publishes is refused whole with an ``error``.
- client -> server ``{"action": "ticks", "token": "<api token>", "id": <any>, "data": [tick, ...]}``
  pushes ticks through the engine; answered per message with ``{"topic": "control", "type":
  "ack", "data": {"id": ..., "accepted": n, "errors": [{"index", "field", "message"}]}}``.
- server -> client events ``{"topic": ..., "type": ..., "data": ...}``.

Every client has a bounded send queue (events and bytes), and every reply to a client's own
messages counts in it too. The hub never waits for a client: when a client's queue is full the
client is dropped (closed with code 1013, "try again later") so one slow reader can never stall
the engine nor hold much memory.

Limits (unauthenticated clients reach this endpoint, so each is bounded):

- frames: text only (a binary frame closes with 1003) and at most ``Settings.ws_max_frame`` bytes
  (64 KiB by default; the server refuses larger frames before buffering them, 1009);
- topics: at most :data:`MAX_TOPIC_LEN` characters each and :data:`MAX_TOPICS_PER_CLIENT` per
  client (a subscribe beyond either is refused whole with an error reply);
- connections: ``Settings.ws_max_connections`` in total and ``Settings.ws_max_per_ip`` per client
  address; more are refused before the handshake completes (HTTP 403).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    from statarb.engine import Engine

log = logging.getLogger(__name__)

router = APIRouter()

MAX_TOPICS_PER_CLIENT = 64
MAX_TOPIC_LEN = 64
CLOSE_TOO_SLOW = 1013
CLOSE_UNSUPPORTED = 1003
CLOSE_TOO_BIG = 1009


class WsClient:
    """One connected client: its topics and bounded send queue."""

    def __init__(self, max_queue: int, address: str = "") -> None:
        self.address = address
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=max_queue)
        self.topics: set[str] = set()
        self.slow = asyncio.Event()
        self.queued_bytes = 0


class BroadcastHub:
    """Fan events out to subscribed clients without ever blocking the publisher.

    Parameters
    ----------
    max_queue
        Events buffered per client before it counts as too slow and is dropped.
    max_bytes
        Bytes buffered per client before it counts as too slow and is dropped.
    max_connections, max_per_ip
        Clients connected at once, in total and from one address.
    """

    def __init__(
        self,
        *,
        max_queue: int = 2000,
        max_bytes: int = 2 * 1024 * 1024,
        max_connections: int = 1000,
        max_per_ip: int = 32,
    ) -> None:
        self.max_queue, self.max_bytes = max_queue, max_bytes
        self.max_connections, self.max_per_ip = max_connections, max_per_ip
        self._subs: dict[str, set[WsClient]] = {}
        self.clients: set[WsClient] = set()
        self._per_ip: dict[str, int] = {}
        self.counts = {"published": 0, "sent": 0, "dropped_clients": 0, "refused_clients": 0}

    def admit(self, address: str = "") -> WsClient | None:
        """Register a new client from ``address``; ``None`` when a connection limit is reached."""
        if len(self.clients) >= self.max_connections or (
            self._per_ip.get(address, 0) >= self.max_per_ip
        ):
            self.counts["refused_clients"] += 1
            return None
        client = WsClient(self.max_queue, address)
        self.clients.add(client)
        self._per_ip[address] = self._per_ip.get(address, 0) + 1
        return client

    def connect(self) -> WsClient:
        """Register a new client (no connection limit: for in-process subscribers)."""
        client = WsClient(self.max_queue)
        self.clients.add(client)
        return client

    def disconnect(self, client: WsClient) -> None:
        """Forget a client and its subscriptions."""
        if client in self.clients and client.address:
            left = self._per_ip.get(client.address, 1) - 1
            if left > 0:
                self._per_ip[client.address] = left
            else:
                self._per_ip.pop(client.address, None)
        self.clients.discard(client)
        for t in client.topics:
            subs = self._subs.get(t)
            if subs is not None:
                subs.discard(client)
                if not subs:
                    del self._subs[t]
        client.topics.clear()

    def subscribe(self, client: WsClient, topics: list[str]) -> list[str]:
        """Add topics to a client; return the topics it now has.

        Raises
        ------
        ValueError
            A topic is longer than :data:`MAX_TOPIC_LEN` or the client would hold more than
            :data:`MAX_TOPICS_PER_CLIENT` topics (nothing is added then).
        """
        long = next((t for t in topics if len(t) > MAX_TOPIC_LEN), None)
        if long is not None:
            raise ValueError(f"topic {long[:MAX_TOPIC_LEN]!r}... is longer than "
                             f"{MAX_TOPIC_LEN} characters")  # fmt: skip
        if len(client.topics | set(topics)) > MAX_TOPICS_PER_CLIENT:
            raise ValueError(f"at most {MAX_TOPICS_PER_CLIENT} topics per connection; "
                             "unsubscribe some first")  # fmt: skip
        for t in topics:
            client.topics.add(t)
            self._subs.setdefault(t, set()).add(client)
        return sorted(client.topics)

    def unsubscribe(self, client: WsClient, topics: list[str]) -> list[str]:
        """Remove topics from a client; return the topics it still has."""
        for t in topics:
            client.topics.discard(t)
            subs = self._subs.get(t)
            if subs is not None:
                subs.discard(client)
                if not subs:
                    del self._subs[t]
        return sorted(client.topics)

    def topics(self) -> set[str]:
        """The topics at least one client subscribed to."""
        return set(self._subs)

    def wants(self, topic: str) -> bool:
        """Whether any client subscribed to ``topic``."""
        return topic in self._subs

    def publish(self, topic: str, type: str, data: Any) -> None:
        """Queue ``{topic, type, data}`` for the topic's subscribers; drop clients that lag."""
        subs = self._subs.get(topic)
        self.counts["published"] += 1
        if not subs:
            return
        msg = orjson.dumps({"topic": topic, "type": type, "data": data},
                           option=orjson.OPT_SERIALIZE_NUMPY)  # fmt: skip
        for client in list(subs):
            if self.offer(client, msg):
                self.counts["sent"] += 1

    def offer(self, client: WsClient, msg: bytes) -> bool:
        """Queue ``msg`` for ``client`` within its bounds, or drop the client as too slow."""
        size = len(msg)
        try:
            if client.queued_bytes + size > self.max_bytes:
                raise asyncio.QueueFull
            client.queue.put_nowait(msg)
        except asyncio.QueueFull:
            self.counts["dropped_clients"] += 1
            client.slow.set()
            self.disconnect(client)
            return False
        client.queued_bytes += size
        return True

    def stats(self) -> dict[str, Any]:
        """Clients, topics and counters."""
        return {"clients": len(self.clients), "topics": len(self._subs), **self.counts}


def _control(type_: str, data: Any) -> bytes:
    return orjson.dumps({"topic": "control", "type": type_, "data": data})


async def _sender(ws: WebSocket, client: WsClient) -> None:
    while True:
        msg = await client.queue.get()
        client.queued_bytes = max(0, client.queued_bytes - len(msg))
        await ws.send_text(msg.decode())


async def _handle(ws: WebSocket, client: WsClient, msg: Any, engine: Engine) -> bytes:
    from statarb.api.deps import token_ok
    from statarb.api.schemas import parse_tick_rows
    from statarb.api.topics import TOPIC_FORMS, unknown_topics

    hub: BroadcastHub = ws.app.state.hub
    if not isinstance(msg, dict) or not isinstance(msg.get("action"), str):
        return _control("error", {"message": 'send an object with "action": subscribe, '
                                  'unsubscribe or ticks'})  # fmt: skip
    action = msg["action"]
    if action in ("subscribe", "unsubscribe"):
        topics = msg.get("topics")
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            return _control("error", {"message": '"topics" must be a list of strings'})
        too_long = any(len(t) > MAX_TOPIC_LEN for t in topics)  # the bound speaks first
        if action == "subscribe" and not too_long and (bad := unknown_topics(topics)):
            return _control("error", {"message": f"unknown topics {bad}: use {TOPIC_FORMS}; "
                                      "nothing subscribed", "topics": bad})  # fmt: skip
        fn = hub.subscribe if action == "subscribe" else hub.unsubscribe
        try:
            return _control(action + "d", fn(client, topics))
        except ValueError as exc:
            return _control("error", {"message": str(exc)})
    if action == "ticks":
        settings = ws.app.state.settings
        if not token_ok(settings, msg.get("token")):
            return _control("error", {"id": msg.get("id"), "message": "invalid or missing token "
                                      "(set STATARB_API_TOKEN on the server)"})  # fmt: skip
        rows = msg.get("data")
        if not isinstance(rows, list):
            return _control("error", {"id": msg.get("id"), "message": '"data" must be a list'})
        ticks, errors = parse_tick_rows(rows, recv_ts=time.time_ns() // 1000)
        from statarb.errors import StatarbError

        try:
            accepted = await engine.ingest(ticks) if ticks else 0
        except StatarbError as exc:
            return _control("error", {"id": msg.get("id"), "message": str(exc)})
        return _control("ack", {"id": msg.get("id"), "accepted": accepted, "errors": errors})
    return _control("error", {"message": f"unknown action {action!r}"})


@router.websocket("/ws")
async def websocket_endpoint(ws: WebSocket) -> None:
    """Subscribe to live topics and push ticks (see the module docs for the protocol)."""
    hub: BroadcastHub = ws.app.state.hub
    engine: Engine = ws.app.state.engine
    client = hub.admit(ws.client.host if ws.client else "")
    if client is None:
        await ws.close(CLOSE_TOO_SLOW, "too many connections")  # before accept: HTTP 403
        return
    try:
        await ws.accept()
    except BaseException:
        hub.disconnect(client)
        raise
    max_frame = int(getattr(ws.app.state.settings, "ws_max_frame", 64 * 1024))
    sender = asyncio.create_task(_sender(ws, client))
    slow = asyncio.create_task(client.slow.wait())
    try:
        while True:
            recv = asyncio.create_task(ws.receive())
            done, _ = await asyncio.wait({recv, slow, sender}, return_when=asyncio.FIRST_COMPLETED)
            if recv not in done:
                recv.cancel()
                if slow in done:
                    await ws.close(CLOSE_TOO_SLOW, "client too slow: events dropped")
                break
            frame = recv.result()
            if frame["type"] == "websocket.disconnect":
                break
            text = frame.get("text")
            if text is None:
                await ws.close(CLOSE_UNSUPPORTED, "text frames only (JSON)")
                break
            if len(text) > max_frame:  # the server refuses these first; this guards other servers
                await ws.close(CLOSE_TOO_BIG, f"frames are limited to {max_frame} bytes")
                break
            try:
                msg = orjson.loads(text)
            except orjson.JSONDecodeError:
                reply = _control("error", {"message": "frames must be JSON objects"})
            else:
                reply = await _handle(ws, client, msg, engine)
            del text, frame
            if not hub.offer(client, reply):  # replies count in the client's bound too
                await ws.close(CLOSE_TOO_SLOW, "client too slow: replies dropped")
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.disconnect(client)
        for t in (sender, slow):
            t.cancel()
            with contextlib.suppress(BaseException):
                await t


__all__ = [
    "MAX_TOPICS_PER_CLIENT",
    "MAX_TOPIC_LEN",
    "BroadcastHub",
    "WsClient",
    "router",
]
