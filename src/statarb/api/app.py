"""The FastAPI application: ``create_app(settings)`` with a lifespan that runs the engine.

REST under ``/api/v1``, WebSocket at ``/ws`` (protocol: docs/websocket.md), ``/health``,
Prometheus ``/metrics``, schema at ``/openapi.json``, Swagger UI at ``/docs`` and ReDoc at
``/redoc`` (served offline). Every error is RFC 9457 problem details
(:mod:`statarb.api.problems`). Write endpoints need ``Authorization: Bearer $STATARB_API_TOKEN``
(see :mod:`statarb.api.deps`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from statarb.api import heap, problems
from statarb.api._hosts import TrustedHosts, trusted_hosts
from statarb.api.problems import PROBLEM_MEDIA, problem_bytes, problem_openapi
from statarb.api.routers import alerts, bars, book, feeds, health, pairs, paper, strategy, ticks
from statarb.api.ws import BroadcastHub
from statarb.api.ws import router as ws_router
from statarb.errors import StatarbError

if TYPE_CHECKING:
    from statarb.config import Settings
    from statarb.engine import Engine
    from statarb.store.base import TickStore

log = logging.getLogger(__name__)

#: largest JSON body accepted (ticks batches)
MAX_BODY_BYTES = 64 * 1024 * 1024
#: largest file upload accepted
MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024
#: live pairs watched by default when at most this many symbols are streamed at start
AUTO_PAIR_SYMBOLS = 6

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
                   Awaitable[None]]  # fmt: skip


class _TooLargeError(Exception):
    pass


class BodyLimit:
    """ASGI middleware answering 413 for request bodies over the limit (declared or streamed)."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"].endswith("/ticks/file") else self.max_body
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLargeError
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLargeError:
            if not started:
                await self._reject(send, limit)

    @staticmethod
    async def _reject(send: Any, limit: int) -> None:
        body = problem_bytes(413, f"request body too large: the limit is {limit:,} bytes; "
                             "split the data into smaller requests")  # fmt: skip
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM_MEDIA.encode()),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def _default_pairs(symbols: list[str]) -> list[tuple[str, str]]:
    if 2 <= len(symbols) <= AUTO_PAIR_SYMBOLS:
        return list(itertools.combinations(symbols, 2))
    return []


def create_app(
    settings: Settings,
    *,
    store: TickStore | None = None,
    engine: Engine | None = None,
    feed_urls: tuple[str, str] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    analytics_timeframes: list[str] | None = None,
    live_pairs: list[tuple[str, str]] | None = None,
) -> FastAPI:
    """Build the API app; its lifespan opens the store (unless given) and runs the engine.

    Parameters
    ----------
    settings
        Built by the entry point (``statarb serve``) and passed down.
    store
        Use this store instead of opening ``settings.store_url`` (left open on exit).
    engine
        Use this engine (started and stopped with the app if it is not running yet).
    feed_urls
        ``(ws_url, rest_url)`` for the feeds started from ``settings.symbols`` (e.g. a replay
        server); default ``settings.binance_ws_url`` / ``binance_rest_url``.
    max_body_bytes, max_upload_bytes
        Larger requests are answered 413 (JSON bodies; file uploads).
    analytics_timeframes
        Timeframes of live pair analytics (default: the engine's, those of at least 1m).
    live_pairs
        Pairs the engine analyses live (default: every pair of ``settings.symbols`` when there
        are at most :data:`AUTO_PAIR_SYMBOLS`).
    """
    hub = BroadcastHub(
        max_connections=settings.ws_max_connections, max_per_ip=settings.ws_max_per_ip
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from statarb.engine import Engine, NullHub
        from statarb.store import open_store

        own_store = store is None and engine is None
        st = engine.store if engine is not None else store or open_store(settings.store_url)
        live = _default_pairs(settings.symbols) if live_pairs is None else live_pairs
        eng = engine or Engine(settings, st, hub=hub, pairs=live,
                               analytics_timeframes=analytics_timeframes)  # fmt: skip
        if isinstance(eng.hub, NullHub):
            eng.hub = hub
        app.state.settings, app.state.store, app.state.engine = settings, st, eng
        app.state.hub = eng.hub
        bus = None
        if settings.redis_url and eng.bus is None and isinstance(eng.hub, BroadcastHub):
            from statarb.engine import RedisBus

            bus = RedisBus(settings.redis_url, eng.hub, prefix=settings.redis_prefix)
            try:
                await bus.start()
            except StatarbError:
                if own_store:
                    st.close()
                raise
            eng.attach_bus(bus)
        own_engine = not eng.running
        if own_engine:
            await eng.start()
        try:
            await asyncio.to_thread(heap.settle)  # full collections walk only what comes next
            if settings.symbols and own_engine:
                ws_url, rest_url = feed_urls or (None, None)
                await eng.start_feed(settings.symbols, ws_url=ws_url, rest_url=rest_url)
            yield
        finally:
            if own_engine:
                await eng.stop()
            if bus is not None:
                await bus.stop()
            if own_store:
                st.close()

    app = FastAPIOffline(  # Swagger UI and ReDoc assets served from the package, no CDN
        static_url="/docs-assets",
        title="statarb",
        summary="Live statistical-arbitrage analytics for Binance USD-M futures",
        version=_version(),
        lifespan=lifespan,
    )
    app.state.settings, app.state.hub = settings, hub
    for r in (health.router, ticks.router, bars.router, pairs.router, alerts.router,
              book.router, strategy.router, feeds.router, paper.router, ws_router):  # fmt: skip
        app.include_router(r)
    problems.install(app)
    app.openapi = problem_openapi(app)  # type: ignore[method-assign]
    app.add_middleware(BodyLimit, max_body=max_body_bytes, max_upload=max_upload_bytes)
    app.add_middleware(TrustedHosts, hosts=trusted_hosts(settings.trusted_hosts, settings.api_host))
    return app


def _version() -> str:
    from statarb import __version__

    return __version__


__all__ = ["MAX_BODY_BYTES", "MAX_UPLOAD_BYTES", "BodyLimit", "create_app"]
