"""Bars and summary statistics of one symbol."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response

from statarb.api.deps import StoreDep, TimeRange
from statarb.api.routers._common import (
    OutFormat,
    arrow_bytes,
    arrow_response,
    bar_columns,
    bars_json,
    check_symbol,
    json_response,
    table_responses,
)
from statarb.api.routers._stream import stream_csv, stream_json
from statarb.api.schemas import BarOut, StatsOut

router = APIRouter(prefix="/api/v1", tags=["bars"])

#: most bars one response holds; a wider range asks for ``limit`` or a narrower range
MAX_BARS = 1_000_000
TfQuery = Annotated[str, Query(pattern=r"^[0-9]{1,6}(ms|s|m|h|d|w)$", examples=["1m"])]


async def _load(store: Any, symbol: str, tf: str, start: int | None, end: int | None) -> Any:
    from statarb.errors import InputError
    from statarb.history import load_bars

    try:
        return await asyncio.to_thread(load_bars, store, symbol, tf, start, end)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/bars/{symbol}", response_model=list[BarOut], responses=table_responses(BarOut))
async def get_bars(
    symbol: str,
    store: StoreDep,
    times: TimeRange,
    tf: TfQuery = "1m",
    limit: Annotated[int | None, Query(ge=1, le=1_000_000, description="last N bars")] = None,
    format: OutFormat = "json",
) -> Response:
    """Bars with open time in ``[start, end)`` (stored, or built from finer bars or ticks)."""
    sym = check_symbol(symbol)
    bars = await _load(store, sym, tf, *times)
    if limit is not None and len(bars) > limit:
        bars = bars.take(slice(len(bars) - limit, None))
    if len(bars) > MAX_BARS:
        raise HTTPException(
            422,
            [{"loc": ["query", "limit"], "type": "value_error",
              "msg": f"{len(bars):,} {tf} bars in that range; one response holds at most "
                     f"{MAX_BARS:,}: pass limit or narrow start/end"}],
        )  # fmt: skip
    if format == "csv":
        from statarb.export import bars_frame

        return await stream_csv(lambda: bars_frame(bars), f"{sym}_{tf}_bars")
    if format == "arrow":
        body = await asyncio.to_thread(arrow_bytes, bar_columns(bars))
        return arrow_response(body, f"{sym}_{tf}_bars")
    return stream_json(lambda lo, hi: bars_json(bars.take(slice(lo, hi))), len(bars))


@router.get("/stats/{symbol}", response_model=StatsOut)
async def get_stats(symbol: str, store: StoreDep, times: TimeRange, tf: TfQuery = "1m") -> Response:
    """Summary statistics of the bar closes (``statarb.analytics.rolling.price_summary``)."""
    sym = check_symbol(symbol)
    from statarb.analytics.rolling import price_summary

    bars = await _load(store, sym, tf, *times)
    if len(bars) == 0:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {tf} bars of {sym} in that range")
    summary = await asyncio.to_thread(price_summary, bars.close)
    out = summary.to_dict()
    return json_response({"symbol": sym, "timeframe": tf, "bars": len(bars), **out})
