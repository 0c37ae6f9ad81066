"""Paper trading of the book: positions, orders, fills, P&L; start and stop a strategy."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from statarb.api.deps import EngineDep, StoreDep, TimeRange, WriteAuth
from statarb.api.routers._common import json_response
from statarb.api.schemas_paper import (
    PaperEventOut,
    PaperFillOut,
    PaperOrderOut,
    PaperPnlOut,
    PaperPositionOut,
    PaperStartIn,
    PaperStatusOut,
    PaperStopIn,
    PaperStrategyOut,
)
from statarb.errors import InputError
from statarb.paper import pnl_report

router = APIRouter(prefix="/api/v1/paper", tags=["paper"])

Limit = Annotated[int, Query(ge=1, le=10_000, description="most rows returned, newest first")]
PairFilter = Annotated[int | None, Query(ge=1, le=2**62, description="only this book pair")]
OrderStatus = Annotated[str | None, Query(pattern="^(working|filled|cancelled)$")]


@router.get("/status", response_model=PaperStatusOut)
async def status(engine: EngineDep) -> Response:
    """Running strategies with their settings, positions and working orders."""
    return json_response(engine.paper.status())


@router.get("/positions", response_model=list[PaperPositionOut])
async def positions(engine: EngineDep) -> Response:
    """The position of every running strategy (marked at its pair's last bar close)."""
    return json_response(engine.paper.positions())


@router.get("/orders", response_model=list[PaperOrderOut])
async def orders(
    store: StoreDep, times: TimeRange, pair_id: PairFilter = None, status: OrderStatus = None,
    limit: Limit = 100,
) -> Response:  # fmt: skip
    """Orders sent in ``[start, end)``, newest first."""
    rows = await asyncio.to_thread(store.paper.orders, pair_id=pair_id, status=status,
                                   start=times[0], end=times[1], limit=limit)  # fmt: skip
    return json_response(rows)


@router.get("/fills", response_model=list[PaperFillOut])
async def fills(
    store: StoreDep, times: TimeRange, pair_id: PairFilter = None, limit: Limit = 100
) -> Response:
    """Fills in ``[start, end)``, newest first."""
    rows = await asyncio.to_thread(store.paper.fills, pair_id=pair_id, start=times[0],
                                   end=times[1], limit=limit)  # fmt: skip
    return json_response(rows)


@router.get("/events", response_model=list[PaperEventOut])
async def events(
    store: StoreDep, times: TimeRange, pair_id: PairFilter = None, limit: Limit = 100
) -> Response:
    """The strategies' steps (signals, orders, fills, legging retries and unwinds), newest first."""
    rows = await asyncio.to_thread(store.paper.events, pair_id=pair_id, start=times[0],
                                   end=times[1], limit=limit)  # fmt: skip
    return json_response(rows)


@router.get("/pnl", response_model=PaperPnlOut)
async def pnl(
    engine: EngineDep, store: StoreDep, times: TimeRange, pair_id: PairFilter = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="most fills in the curve")] = 10_000,
) -> Response:  # fmt: skip
    """P&L per running strategy and in total; the curve sums ``realised - fee`` over the
    fills in ``[start, end)`` (the newest ``limit``)."""
    rows = await asyncio.to_thread(store.paper.fills, pair_id=pair_id, start=times[0],
                                   end=times[1], limit=limit)  # fmt: skip
    pos = [p for p in engine.paper.positions() if pair_id is None or p["pair_id"] == pair_id]
    return json_response(pnl_report(pos, rows))


@router.post("/start", response_model=PaperStrategyOut, dependencies=[WriteAuth])
async def start(body: PaperStartIn, engine: EngineDep) -> Response:
    """Attach a strategy to a pair of the book (or re-configure it); it trades from the next
    bar close. A position kept by an earlier stop is resumed."""
    try:
        row = await engine.paper.start(body.pair_id, body.settings.model_dump())
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return json_response(row)


@router.post("/stop", response_model=PaperStrategyOut, dependencies=[WriteAuth])
async def stop(body: PaperStopIn, engine: EngineDep) -> Response:
    """Stop a strategy: working orders are cancelled and the position kept, or with
    ``flatten`` closed at market first (``stopping`` until the exit orders fill)."""
    try:
        row = await engine.paper.stop(body.pair_id, flatten=body.flatten)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return json_response(row)
