"""Live feeds: status, start and stop symbols."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from statarb.api.deps import EngineDep, WriteAuth
from statarb.api.routers._common import json_response
from statarb.api.schemas import FeedChange, FeedRequest, FeedsOut

router = APIRouter(prefix="/api/v1/feeds", tags=["feeds"])


@router.get("", response_model=FeedsOut)
async def feeds(engine: EngineDep) -> Response:
    """Running feeds with their counters, and the engine's counters and latencies."""
    return json_response({"feeds": engine.feeds(), "engine": engine.status()})


@router.post("", response_model=FeedChange, dependencies=[WriteAuth])
async def start(req: FeedRequest, engine: EngineDep) -> Response:
    """Start streaming symbols (those already streamed are left as they are)."""
    from statarb.errors import InputError

    try:
        started = await engine.start_feed(req.symbols)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return json_response({"symbols": started, "feeds": engine.feeds()})


@router.delete("", response_model=FeedChange, dependencies=[WriteAuth])
async def stop(req: FeedRequest, engine: EngineDep) -> Response:
    """Stop streaming symbols."""
    stopped = await engine.stop_feed(req.symbols)
    return json_response({"symbols": stopped, "feeds": engine.feeds()})
