"""The book of watched pairs: list, add, remove (analysed live by the engine)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import Response

from statarb.api.deps import EngineDep, WriteAuth
from statarb.api.routers._common import json_response
from statarb.api.schemas import BookPairIn, BookRowOut
from statarb.errors import InputError

router = APIRouter(prefix="/api/v1/book", tags=["book"])

PairId = Annotated[int, Path(ge=1, le=2**62, description="book pair id")]


@router.get("", response_model=list[BookRowOut])
async def list_book(engine: EngineDep) -> Response:
    """Every pair of the book with its latest analytics, health and recent z-scores."""
    return json_response(engine.book.rows())


@router.post("", response_model=BookRowOut, status_code=201, dependencies=[WriteAuth])
async def add_pair(pair: BookPairIn, engine: EngineDep) -> Response:
    """Watch a pair (or re-configure it): warmed up from stored bars, then updated each bar."""
    try:
        entry = await engine.book.add(pair.a, pair.b, pair.timeframe, pair.settings.model_dump())
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    row = next(r for r in engine.book.rows() if r["id"] == entry.id)
    return json_response(row, 201)


@router.delete("/{pair_id}", status_code=204, dependencies=[WriteAuth])
async def remove_pair(pair_id: PairId, engine: EngineDep) -> Response:
    """Stop watching a pair."""
    if not await engine.book.remove(pair_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"book pair {pair_id} does not exist")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
