"""Health, symbols and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from statarb.api.deps import EngineDep, StoreDep
from statarb.api.metrics import CONTENT_TYPE, exposition, make_registry
from statarb.api.routers._common import json_response
from statarb.api.schemas import Health, SymbolOut

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "the engine is not running"}},
)
async def health(engine: EngineDep, store: StoreDep) -> Response:
    """``ok`` while the engine runs and the store takes its writes; else ``degraded`` (503)."""
    from statarb import __version__

    running = engine.running
    store_ok = not engine.store_failing
    ok = running and store_ok
    bus = "off" if engine.bus is None else "redis" if engine.bus.connected else "disconnected"
    return json_response({"status": "ok" if ok else "degraded", "engine": running,
                          "store": store.url.split("://")[0], "version": __version__,
                          "bus": bus, "store_ok": store_ok}, 200 if ok else 503)  # fmt: skip


@router.get("/api/v1/symbols", response_model=list[SymbolOut], tags=["ticks"])
async def symbols(store: StoreDep) -> Response:
    """Every stored symbol with counts and time range."""
    infos = await asyncio.to_thread(store.symbols)
    return json_response([i.to_dict() for i in infos])


_METRICS = {200: {"description": "Prometheus text format 0.0.4",
                  "content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}}  # fmt: skip


def _registry(request: Request) -> Any:
    reg = getattr(request.app.state, "metrics_registry", None)
    if reg is None:
        state = request.app.state
        reg = state.metrics_registry = make_registry(lambda: getattr(state, "engine", None))
    return reg


@router.get("/metrics", response_class=Response, responses=_METRICS)  # type: ignore[arg-type]
async def metrics(request: Request) -> Response:
    """Prometheus metrics: counters ``_total``, latencies as histograms in seconds."""
    body = await asyncio.to_thread(exposition, _registry(request))
    return Response(body, media_type=CONTENT_TYPE)


@router.head("/metrics", response_class=Response, responses=_METRICS)  # type: ignore[arg-type]
async def metrics_head(request: Request) -> Response:
    """Headers of ``GET /metrics`` (for probes)."""
    body = await asyncio.to_thread(exposition, _registry(request))
    return Response(media_type=CONTENT_TYPE, headers={"Content-Length": str(len(body))})
