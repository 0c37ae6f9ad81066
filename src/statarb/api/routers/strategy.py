"""Strategy research on stored history: OU bands of a pair, guarded sweeps, a book of pairs.

Read-only computations (GET, no token); each runs in a worker thread, inputs are bounded.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response

from statarb.api.deps import StoreDep, TimeRange
from statarb.api.routers._common import check_symbol, json_response
from statarb.api.routers.bars import TfQuery
from statarb.api.schemas import StrategyBookOut, StrategyOUOut, StrategySweepOut

router = APIRouter(prefix="/api/v1/strategy", tags=["strategy"])

Method = Literal["kalman", "rolling-ols", "expanding", "static"]
Sizing = Literal["equal", "inverse-vol", "risk"]
MAX_PAIRS = 50
MAX_GRID = 100

WindowQ = Annotated[int, Query(ge=10, le=5000, description="z-score (and rolling hedge) window")]
EntryQ = Annotated[float, Query(gt=0, le=10, description="enter when |z| exceeds this")]
ExitQ = Annotated[float, Query(ge=-10, le=10, description="exit when z is back inside this")]
FeeQ = Annotated[float, Query(ge=0, le=100, description="taker fee per leg (bps)")]
SlipQ = Annotated[float, Query(ge=0, le=100, description="slippage per leg (bps)")]
TimeStopQ = Annotated[
    float | None, Query(gt=0, le=100, description="close after this many half-lives")
]


def _numbers(text: str, name: str, kind: type) -> list[Any]:
    try:
        vals = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise HTTPException(422, f"{name} must be comma-separated numbers, got {text!r}") from None
    if not vals or len(vals) > 20:
        raise HTTPException(422, f"{name} takes 1 to 20 values")
    return vals


def _pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for item in text.split(","):
        a, sep, b = item.strip().partition("/")
        if not sep:
            raise HTTPException(422, f"pairs: {item!r} is not of the form Y/X")
        out.append((check_symbol(a), check_symbol(b)))
    if not out or len(out) > MAX_PAIRS:
        raise HTTPException(422, f"pairs takes 1 to {MAX_PAIRS} pairs")
    return out


async def _compute(fn: Any) -> Response:
    from statarb.errors import InputError, StatarbError

    try:
        return json_response(await asyncio.to_thread(fn))
    except (InputError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    except StatarbError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None


def _frame(store: Any, symbols: list[str], tf: str, times: tuple[int | None, int | None]) -> Any:
    from statarb.errors import InputError
    from statarb.history import load_aligned

    frame = load_aligned(store, symbols, tf, *times).dropna()
    if len(frame) == 0:
        raise InputError(f"no aligned {tf} bars of {', '.join(symbols)} in that range")
    return frame


def _config(tf: str, **kw: Any) -> Any:
    from statarb.backtest import BacktestConfig
    from statarb.model import Timeframe

    return BacktestConfig(bar_seconds=Timeframe.parse(tf).seconds, **kw)


@router.get("/ou/{a}/{b}", response_model=StrategyOUOut)
async def ou_bands(
    a: str,
    b: str,
    store: StoreDep,
    times: TimeRange,
    tf: TfQuery = "1m",
    method: Method = "rolling-ols",
    window: WindowQ = 60,
    fee_bps: FeeQ = 4.0,
    slippage_bps: SlipQ = 1.0,
    time_stop: TimeStopQ = None,
) -> Response:
    """OU fit of the spread ``a`` on ``b`` and Bertram's return- and Sharpe-optimal bands."""
    sa, sb = check_symbol(a), check_symbol(b)
    if sa == sb:
        raise HTTPException(422, "a and b must differ")

    def run() -> dict[str, Any]:
        from statarb.backtest.ou_study import ou_study

        cfg = _config(tf, method=method, window=window, fee_bps=fee_bps,
                      slippage_bps=slippage_bps, time_stop=time_stop)  # fmt: skip
        frame = _frame(store, [sa, sb], tf, times)
        study = ou_study(frame[sa], frame[sb], config=cfg, objective="both")
        return {"a": sa, "b": sb, "timeframe": tf, "bars": len(frame), **study.to_dict()}

    return await _compute(run)


@router.get("/sweep/{a}/{b}", response_model=StrategySweepOut)
async def guarded_sweep(
    a: str,
    b: str,
    store: StoreDep,
    times: TimeRange,
    tf: TfQuery = "1m",
    entries: Annotated[str, Query(max_length=200, description="e.g. 1.5,2,2.5")] = "1.5,2,2.5",
    windows: Annotated[str, Query(max_length=200, description="e.g. 30,60,120")] = "30,60,120",
    method: Method = "rolling-ols",
    fee_bps: FeeQ = 4.0,
    slippage_bps: SlipQ = 1.0,
) -> Response:
    """A sweep of entry x window with every row's deflated Sharpe, and PBO by CSCV."""
    sa, sb = check_symbol(a), check_symbol(b)
    if sa == sb:
        raise HTTPException(422, "a and b must differ")
    ents = _numbers(entries, "entries", float)
    wins = _numbers(windows, "windows", int)
    if len(ents) * len(wins) > MAX_GRID:
        raise HTTPException(422, f"the grid has more than {MAX_GRID} combinations")

    def run() -> dict[str, Any]:
        from statarb.backtest.sweep import sweep_report

        cfg = _config(tf, method=method, fee_bps=fee_bps, slippage_bps=slippage_bps)
        frame = _frame(store, [sa, sb], tf, times)
        rep = sweep_report(frame[sa], frame[sb], config=cfg,
                           grid={"entry": ents, "window": wins})  # fmt: skip
        return {"a": sa, "b": sb, "timeframe": tf, "bars": len(frame), **rep.to_dict()}

    return await _compute(run)


@router.get("/book", response_model=StrategyBookOut)
async def book(
    store: StoreDep,
    times: TimeRange,
    pairs: Annotated[str, Query(max_length=2000, description="Y/X pairs, comma-separated")],
    tf: TfQuery = "1m",
    entry: EntryQ = 2.0,
    exit: ExitQ = 0.0,
    window: WindowQ = 60,
    method: Method = "rolling-ols",
    sizing: Sizing = "equal",
    size: Annotated[float, Query(gt=0, le=10)] = 0.1,
    pair_cap: Annotated[float, Query(gt=0, le=100)] = 0.25,
    gross_cap: Annotated[float, Query(gt=0, le=100)] = 2.0,
    max_open: Annotated[int, Query(ge=1, le=MAX_PAIRS)] = 10,
    stop: Annotated[float | None, Query(gt=0, le=20)] = None,
    time_stop: TimeStopQ = None,
    fee_bps: FeeQ = 4.0,
    slippage_bps: SlipQ = 1.0,
) -> Response:
    """Backtest a book of pairs with shared capital: book and per-pair metrics, contribution."""
    plist = _pairs(pairs)

    def run() -> dict[str, Any]:
        from statarb.backtest.portfolio import PortfolioConfig, run_portfolio
        from statarb.model import Timeframe

        cfg = PortfolioConfig(
            entry=entry, exit=exit, window=window, method=method, sizing=sizing, size=size,
            pair_cap=pair_cap, gross_cap=gross_cap, max_open=max_open, stop=stop,
            time_stop=time_stop, fee_bps=fee_bps, slippage_bps=slippage_bps,
            bar_seconds=Timeframe.parse(tf).seconds,
        )  # fmt: skip
        symbols = sorted({s for p in plist for s in p})
        frame = _frame(store, symbols, tf, times)
        res = run_portfolio(plist, frame, config=cfg, index=frame.index)
        corr = res.correlation()
        return {"timeframe": tf, "start": frame.index[0].isoformat(),
                "end": frame.index[-1].isoformat(), **res.to_dict(),
                "correlation": {"pairs": list(res.pairs),
                                "matrix": [[None if v != v else float(v) for v in row]
                                           for row in corr.to_numpy()]}}  # fmt: skip

    return await _compute(run)
