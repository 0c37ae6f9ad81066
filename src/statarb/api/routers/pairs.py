"""Pair analytics: on stored history, and the engine's live state of watched pairs."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response

from statarb.api.deps import EngineDep, StoreDep, TimeRange, WriteAuth
from statarb.api.routers._common import check_symbol, json_response
from statarb.api.routers.bars import TfQuery

router = APIRouter(prefix="/api/v1/pairs", tags=["pairs"])

Method = Literal["ols", "huber", "theil-sen", "kalman"]


@router.get("")
async def list_pairs(engine: EngineDep) -> Response:
    """Pairs the engine analyses live."""
    return json_response([{"a": a, "b": b} for a, b in engine.pairs])


@router.get("/{a}/{b}")
async def get_pair(
    a: str,
    b: str,
    store: StoreDep,
    times: TimeRange,
    tf: TfQuery = "1m",
    method: Method = "ols",
    window: Annotated[int | None, Query(ge=10, le=100_000, description="rolling bars")] = None,
    z_window: Annotated[int, Query(ge=2, le=100_000)] = 60,
) -> Response:
    """Hedge ratio, spread, z-score, cointegration and half-life of ``a`` on ``b`` from history."""
    from statarb.errors import InputError, StatarbError
    from statarb.history import load_aligned
    from statarb.model import Timeframe

    sa, sb = check_symbol(a), check_symbol(b)
    if sa == sb:
        raise HTTPException(422, "a and b must differ")

    def run() -> dict[str, Any]:
        from statarb.analytics.pair import analyze_pair

        frame = load_aligned(store, [sa, sb], tf, *times).dropna()
        if len(frame) == 0:
            raise InputError(f"no aligned {tf} bars of {sa} and {sb} in that range")
        res = analyze_pair(frame[sa].to_numpy(), frame[sb].to_numpy(), method=method,
                           window=window, bar_seconds=Timeframe.parse(tf).seconds,
                           z_window=z_window)  # fmt: skip
        return {"timeframe": tf, "start": frame.index[0].isoformat(),
                "end": frame.index[-1].isoformat(), **res.to_dict()}  # fmt: skip

    try:
        return json_response(await asyncio.to_thread(run))
    except (InputError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    except StatarbError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None


@router.get("/{a}/{b}/live")
async def get_live(a: str, b: str, engine: EngineDep) -> Response:
    """The engine's latest analysis of a watched pair, per timeframe."""
    from statarb.errors import InputError

    try:
        return json_response(engine.pair_state(check_symbol(a), check_symbol(b)))
    except InputError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.put("/{a}/{b}/watch", dependencies=[WriteAuth])
async def watch(a: str, b: str, engine: EngineDep) -> Response:
    """Analyse a pair live (its events go to topic ``pair:A:B``)."""
    from statarb.errors import InputError

    try:
        pa, pb = engine.watch_pair(check_symbol(a), check_symbol(b))
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    await engine.warm_up(pa, pb)
    return json_response({"a": pa, "b": pb, "topic": f"pair:{pa}:{pb}"})


@router.delete("/{a}/{b}/watch", dependencies=[WriteAuth])
async def unwatch(a: str, b: str, engine: EngineDep) -> Response:
    """Stop analysing a pair live."""
    if not engine.unwatch_pair(check_symbol(a), check_symbol(b)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"pair {a}/{b} is not watched")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
