"""Redis pub/sub between engines and API replicas: one system across processes.

Each process wraps its local WebSocket hub in a :class:`RedisBus`. What its engine publishes
goes to local clients at once and, through Redis, to every other replica whose clients
subscribed to that topic; what other engines publish reaches this replica's clients the same
way. Besides events the bus carries:

- rule changes (``{prefix}:control``), so a rule added on any replica is evaluated by all;
- alert claims (``SET {prefix}:claim:<rule>:<ts> NX``), so a trigger seen by several engines
  (a pair analysed by each, redundant feeds) is recorded, published and delivered once;
- closed bars of symbols owned by other engines, which an engine follows to analyse a pair
  whose legs are ingested by different processes.

Channels are one per topic (``{prefix}:ev:<topic>``), subscribed only while a local client or
the engine wants the topic, so Redis itself knows which topics anyone wants
(``PUBSUB CHANNELS``): an engine builds and sends only events someone listens to. Publishing
never blocks the engine: events wait in a bounded queue drained in pipelines by a task, and are
counted as dropped when Redis is unreachable (live events are not replayed; the store has them).
Both connections reconnect with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from statarb.errors import StatarbError
from statarb.masking import mask_url

log = logging.getLogger(__name__)

#: topics always sent to Redis (rare and wanted by every replica's history)
ALWAYS = frozenset({"alerts"})

Follower = Callable[[str, str, Any], None]


class LocalHub(Protocol):
    """The in-process hub the bus relays to (:class:`statarb.api.ws.BroadcastHub`)."""

    def publish(self, topic: str, type: str, data: Any) -> None: ...

    def wants(self, topic: str) -> bool: ...

    def topics(self) -> set[str]: ...


def _origin() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RedisBus:
    """A hub that fans events out through Redis, plus rule sync and once-only alert claims.

    Parameters
    ----------
    url
        ``redis://host:6379/0`` (``STATARB_REDIS_URL``).
    local
        This process's hub; events from other processes are published on it.
    prefix
        Key and channel prefix; processes with the same prefix form one system.
    max_pending
        Events waiting for Redis before new ones are dropped (and counted).
    refresh
        Seconds between refreshes of the topics other replicas want.
    claim_ttl
        Seconds an alert claim is kept.
    """

    def __init__(
        self,
        url: str,
        local: LocalHub,
        *,
        prefix: str = "statarb",
        max_pending: int = 10_000,
        refresh: float = 0.25,
        claim_ttl: int = 7 * 24 * 3600,
    ) -> None:
        self.url, self.local, self.prefix = url, local, prefix
        self.origin = _origin()
        self.refresh, self.claim_ttl = refresh, claim_ttl
        self._ev = f"{prefix}:ev:"
        self._control = f"{prefix}:control"
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=max_pending)
        self._remote: set[str] = set()
        self._follow: dict[str, list[Follower]] = {}
        self.on_control: Callable[[dict[str, Any]], None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._client: Any = None
        self.connected = False
        self.counts = {"sent": 0, "received": 0, "dropped": 0, "errors": 0,
                       "claims_won": 0, "claims_lost": 0}  # fmt: skip

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect (failing clearly when Redis is unreachable) and start relaying."""
        import redis.asyncio as redis
        from redis.exceptions import RedisError

        self._client = redis.Redis.from_url(
            self.url, socket_timeout=5, socket_connect_timeout=5,
            client_name=f"{self.prefix}:{self.origin}".replace(" ", "_"),
        )  # fmt: skip
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            await self._client.aclose()
            raise StatarbError(
                f"cannot reach Redis at {mask_url(self.url)} (STATARB_REDIS_URL): {exc}"
            ) from exc
        self.connected = True
        self._tasks = [
            asyncio.create_task(self._publisher(), name="statarb-bus-pub"),
            asyncio.create_task(self._subscriber(), name="statarb-bus-sub"),
        ]

    async def stop(self) -> None:
        """Send what is queued (briefly), then disconnect."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._drained(), timeout=2.0)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(BaseException):
                await t
        self._tasks.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.connected = False

    async def _drained(self) -> None:
        while not self._queue.empty():
            await asyncio.sleep(0.01)

    # -- the Hub protocol ----------------------------------------------------------------------
    def wants(self, topic: str) -> bool:
        """Whether a client here or on another replica (or a following engine) wants ``topic``."""
        return self.local.wants(topic) or topic in self._remote or topic in ALWAYS

    def publish(self, topic: str, type: str, data: Any) -> None:
        """Publish to local clients now and to other replicas through Redis; never blocks."""
        self.local.publish(topic, type, data)
        if topic in self._remote or topic in ALWAYS:
            msg = orjson.dumps({"o": self.origin, "y": type, "d": data},
                               option=orjson.OPT_SERIALIZE_NUMPY)  # fmt: skip
            self._put(self._ev + topic, msg)

    # -- cluster operations --------------------------------------------------------------------
    def announce(self, kind: str, **data: Any) -> None:
        """Tell the other processes about a change (e.g. ``announce("rule", op="saved", id=3)``)."""
        self._put(self._control, orjson.dumps({"o": self.origin, "kind": kind, **data}))

    def follow(self, topic: str, callback: Follower) -> None:
        """Call ``callback(topic, type, data)`` for events of ``topic`` from other processes."""
        cbs = self._follow.setdefault(topic, [])
        if callback not in cbs:
            cbs.append(callback)

    def unfollow(self, topic: str) -> None:
        """Stop following ``topic``."""
        self._follow.pop(topic, None)

    async def claim(self, key: str) -> bool:
        """Claim a one-time action across processes; ``True`` for the first claimant only.

        When Redis cannot answer the claim is granted: a duplicate alert beats a lost one.
        """
        from redis.exceptions import RedisError

        if self._client is None:
            return True
        try:
            won = await self._client.set(f"{self.prefix}:claim:{key}", self.origin, nx=True,
                                         ex=self.claim_ttl)  # fmt: skip
        except (RedisError, OSError) as exc:
            self.counts["errors"] += 1
            log.warning("alert claim %s not checked (Redis: %s); firing here", key, exc)
            return True
        self.counts["claims_won" if won else "claims_lost"] += 1
        return bool(won)

    def stats(self) -> dict[str, Any]:
        """Connection, origin, counters and the topics other processes want."""
        return {"url": self.url, "origin": self.origin, "connected": self.connected,
                "pending": self._queue.qsize(), "remote_topics": len(self._remote),
                **self.counts}  # fmt: skip

    # -- tasks ---------------------------------------------------------------------------------
    def _put(self, channel: str, msg: bytes) -> None:
        try:
            self._queue.put_nowait((channel, msg))
        except asyncio.QueueFull:
            self.counts["dropped"] += 1

    async def _publisher(self) -> None:
        from redis.exceptions import RedisError

        backoff = 0.1
        while True:
            batch = [await self._queue.get()]
            while len(batch) < 1000 and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                pipe = self._client.pipeline(transaction=False)
                for channel, msg in batch:
                    pipe.publish(channel, msg)
                await pipe.execute()
                self.counts["sent"] += len(batch)
                backoff = 0.1
            except (RedisError, OSError) as exc:
                self.counts["dropped"] += len(batch)
                self.counts["errors"] += 1
                log.warning("Redis publish failed (%s); %d events dropped", exc, len(batch))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _wanted_channels(self) -> set[str]:
        topics = self.local.topics() | set(self._follow)
        return {self._ev + t for t in topics} | {self._control}

    async def _subscriber(self) -> None:
        from redis.exceptions import RedisError

        backoff = 0.1
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await self._listen(pubsub)
            except (RedisError, OSError) as exc:
                self.connected = False
                self.counts["errors"] += 1
                log.warning("Redis subscription lost (%s); reconnecting in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _listen(self, pubsub: Any) -> None:
        loop = asyncio.get_running_loop()
        subscribed: set[str] = set()
        next_refresh = 0.0
        while True:
            wanted = self._wanted_channels()
            if wanted - subscribed:
                await pubsub.subscribe(*(wanted - subscribed))
            if subscribed - wanted:
                await pubsub.unsubscribe(*(subscribed - wanted))
            subscribed = wanted
            if loop.time() >= next_refresh:
                await self._refresh_remote()
                next_refresh = loop.time() + self.refresh
                self.connected = True
            msg = await pubsub.get_message(timeout=0.05)
            while msg is not None:
                self._dispatch(msg)
                msg = await pubsub.get_message(timeout=0)

    async def _refresh_remote(self) -> None:
        channels = await self._client.pubsub_channels(self._ev + "*")
        n = len(self._ev)
        self._remote = {(c.decode() if isinstance(c, bytes) else c)[n:] for c in channels}

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if msg.get("type") != "message":
            return
        channel = msg["channel"].decode()
        try:
            body = orjson.loads(msg["data"])
        except orjson.JSONDecodeError:
            self.counts["errors"] += 1
            return
        if not isinstance(body, dict) or body.get("o") == self.origin:
            return
        self.counts["received"] += 1
        if channel == self._control:
            if self.on_control is not None:
                try:
                    self.on_control(body)
                except Exception:
                    self.counts["errors"] += 1
                    log.exception("control message %s failed", body)
            return
        topic = channel[len(self._ev) :]
        self.local.publish(topic, body.get("y", ""), body.get("d"))
        for cb in self._follow.get(topic, ()):
            try:
                cb(topic, body.get("y", ""), body.get("d"))
            except Exception:
                self.counts["errors"] += 1
                log.exception("follower of %s failed", topic)


__all__ = ["ALWAYS", "LocalHub", "RedisBus"]
