"""Pair analytics: on stored history, and the engine's live state of watched pairs."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response

from statarb.api.deps import EngineDep, StoreDep, TimeRange, WriteAuth
from statarb.api.routers._common import check_symbol, csv_response, json_response
from statarb.api.routers.bars import TfQuery
from statarb.api.schemas import PairLiveFrame, PairOut, PairRef, WatchOut

router = APIRouter(prefix="/api/v1/pairs", tags=["pairs"])

Method = Literal["ols", "huber", "theil-sen", "kalman"]
#: most series points one call returns (the latest ones)
MAX_SERIES_POINTS = 100_000
_CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
              "description": "the analysis (JSON); its series as CSV with format=csv"}}  # fmt: skip


@router.get("", response_model=list[PairRef])
async def list_pairs(engine: EngineDep) -> Response:
    """Pairs the engine analyses live."""
    return json_response([{"a": a, "b": b} for a, b in engine.pairs])


def _series(res: Any, points: int) -> tuple[dict[str, Any], bool]:
    """The last ``points`` rows of the analysis series as JSON columns."""
    from statarb.timeutil import us_to_iso

    frame = res.series
    truncated = len(frame) > points
    frame = frame.iloc[len(frame) - points :] if truncated else frame
    ts = frame.index.as_unit("us").asi8.tolist()
    cols = {"a": "y", "b": "x", "hedge_ratio": "beta", "intercept": "alpha", "spread": "spread",
            "zscore": "zscore"}  # fmt: skip
    out: dict[str, Any] = {"time": [us_to_iso(t) for t in ts], "ts": ts}
    for name, col in cols.items():
        out[name] = frame[col].to_numpy()  # orjson writes NaN as null
    return out, truncated


@router.get("/{a}/{b}", response_model=PairOut, responses=_CSV)  # type: ignore[arg-type]
async def get_pair(
    a: str,
    b: str,
    store: StoreDep,
    times: TimeRange,
    tf: TfQuery = "1m",
    method: Method = "ols",
    window: Annotated[int | None, Query(ge=10, le=100_000, description="rolling bars")] = None,
    z_window: Annotated[int, Query(ge=2, le=100_000)] = 60,
    series: Annotated[bool, Query(description="add the per-bar series (JSON)")] = False,
    max_points: Annotated[
        int, Query(ge=1, le=MAX_SERIES_POINTS, description="series points, the latest ones")
    ] = 10_000,
    format: Annotated[
        Literal["json", "csv"],
        Query(
            description="csv: the series as CSV (time, legs, hedge "
            "ratio, intercept, spread, z-score)"
        ),
    ] = "json",
) -> Response:
    """Hedge ratio, spread, z-score, cointegration and half-life of ``a`` on ``b`` from history.

    With ``series=true`` (JSON) or ``format=csv`` the per-bar spread, z-score and hedge ratio come
    too, at most ``max_points`` (the latest); ``series_truncated`` says when older ones were cut.
    """
    from statarb.errors import InputError, StatarbError
    from statarb.history import load_aligned
    from statarb.model import Timeframe

    sa, sb = check_symbol(a), check_symbol(b)
    if sa == sb:
        raise HTTPException(422, [{"loc": ["path", "b"], "msg": "a and b must differ"}])

    def run() -> tuple[dict[str, Any], Any]:
        from statarb.analytics.pair import analyze_pair

        frame = load_aligned(store, [sa, sb], tf, *times).dropna()
        if len(frame) == 0:
            raise InputError(f"no aligned {tf} bars of {sa} and {sb} in that range")
        res = analyze_pair(frame[sa], frame[sb], method=method, window=window,
                           bar_seconds=Timeframe.parse(tf).seconds, z_window=z_window,
                           a=sa, b=sb)  # fmt: skip
        out = {"timeframe": tf, "start": frame.index[0].isoformat(),
               "end": frame.index[-1].isoformat(), **res.to_dict()}  # fmt: skip
        if series or format == "csv":
            cols, truncated = _series(res, max_points)
            out |= {"series": cols, "series_points": len(cols["ts"]),
                    "series_truncated": truncated}  # fmt: skip
        return out, res

    try:
        out, _ = await asyncio.to_thread(run)
    except (InputError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    except StatarbError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    if format == "csv":
        import pandas as pd

        cols = out["series"]
        time = pd.to_datetime(cols["ts"], unit="us", utc=True)
        frame = pd.DataFrame({"time": time, "ts": cols["ts"], sa: cols["a"], sb: cols["b"],
                              **{k: cols[k] for k in ("hedge_ratio", "intercept", "spread",
                                                      "zscore")}})  # fmt: skip
        return csv_response(frame, f"{sa}_{sb}_{tf}_pair")
    return json_response(out)


@router.get("/{a}/{b}/live", response_model=dict[str, PairLiveFrame])
async def get_live(a: str, b: str, engine: EngineDep) -> Response:
    """The engine's latest analysis of a watched pair, per timeframe."""
    from statarb.errors import InputError

    try:
        return json_response(engine.pair_state(check_symbol(a), check_symbol(b)))
    except InputError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.put("/{a}/{b}/watch", response_model=WatchOut, dependencies=[WriteAuth])
async def watch(a: str, b: str, engine: EngineDep) -> Response:
    """Analyse a pair live (its events go to topic ``pair:A:B``)."""
    from statarb.errors import InputError

    try:
        pa, pb = engine.watch_pair(check_symbol(a), check_symbol(b))
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    await engine.warm_up(pa, pb)
    return json_response({"a": pa, "b": pb, "topic": f"pair:{pa}:{pb}"})


@router.delete("/{a}/{b}/watch", status_code=204, dependencies=[WriteAuth])
async def unwatch(a: str, b: str, engine: EngineDep) -> Response:
    """Stop analysing a pair live."""
    if not engine.unwatch_pair(check_symbol(a), check_symbol(b)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"pair {a}/{b} is not watched")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
