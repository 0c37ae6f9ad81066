"""Batch resampling: ticks -> bars, fine bars -> coarse bars, and carrying empty intervals."""

from __future__ import annotations

from typing import Literal

import numpy as np

from statarb._typing import Float64Array, Int8Array, Int64Array
from statarb.errors import InputError
from statarb.model import BAR_COLUMNS, BarBatch, TickBatch, Timeframe

EmptyBars = Literal["omit", "carry"]
#: most bars ``fill_empty`` will create in one call (a guard against absurd ranges)
MAX_FILL = 50_000_000


def check_empty(empty: str) -> None:
    """Raise :class:`InputError` unless ``empty`` is ``"omit"`` or ``"carry"``."""
    if empty not in ("omit", "carry"):
        raise InputError(f"empty={empty!r} is not valid; use 'omit' or 'carry'")


def ceil_open(ts: int, step: int) -> int:
    """The first bar open time at or after ``ts``."""
    return -((-ts) // step) * step


def tick_columns(
    symbol: str,
    tf: Timeframe,
    ts: Int64Array,
    price: Float64Array,
    size: Float64Array,
    side: Int8Array,
) -> tuple[list[np.ndarray], Int64Array]:
    """Run the tick kernel (stable-sorting first when the ticks are out of order).

    Returns the nine bar columns (open_time, open, high, low, close, volume, notional, trades,
    taker_buy_volume) and the tick times in the order the kernel read them.
    """
    from statarb.bars import _kernels as k

    status, blocks = _run_tick_kernel(ts, price, size, side, tf.us)
    if status == k.UNSORTED:
        order = np.argsort(ts, kind="stable")
        ts, price, size, side = ts[order], price[order], size[order], side[order]
        status, blocks = _run_tick_kernel(ts, price, size, side, tf.us)
    ints, floats = blocks
    out = [ints[0], *floats[:6], ints[1], floats[6]]
    if not np.isfinite(out[6]).all():
        bad = np.flatnonzero(~(np.isfinite(price) & np.isfinite(size)))
        if len(bad) == 0:
            raise InputError(f"{symbol}: price * size overflows float64 in a bar's notional")
        i = int(bad[0])
        raise InputError(
            f"{symbol}: tick at ts={int(ts[i])} has a non-finite price {float(price[i])!r} "
            f"or size {float(size[i])!r}; prices and sizes must be finite"
        )
    return out, ts


def _run_tick_kernel(
    ts: Int64Array, price: Float64Array, size: Float64Array, side: Int8Array, step: int
) -> tuple[int, tuple[np.ndarray, np.ndarray]]:
    from statarb.bars import _kernels as k

    cap = k.bar_capacity(ts, step)
    ints = np.empty((2, cap), dtype=np.int64)
    floats = np.empty((7, cap), dtype=np.float64)
    status, m = k.ohlcv_from_ticks(ts, price, size, side, np.int64(step), ints, floats)
    return int(status), (ints[:, :m], floats[:, :m])


def ticks_to_bars(
    symbol: str,
    tf: Timeframe,
    ts: Int64Array,
    price: Float64Array,
    size: Float64Array,
    side: Int8Array,
) -> BarBatch:
    """Bars of the non-empty intervals of these ticks (see :func:`tick_columns`)."""
    cols, _ = tick_columns(symbol, tf, ts, price, size, side)
    return BarBatch(symbol, tf.name, *cols)


def resample(
    ticks: TickBatch,
    timeframe: str | Timeframe,
    *,
    empty: EmptyBars = "omit",
    start: int | None = None,
    end: int | None = None,
) -> BarBatch:
    """OHLCV bars of ``timeframe`` from one symbol's ticks, aligned to the UTC epoch.

    Parameters
    ----------
    ticks
        One symbol's ticks, in any order (they are stable-sorted by ``ts`` when unsorted, so
        ticks sharing a timestamp keep their input order).
    timeframe
        Bar interval, e.g. ``"1s"``, ``"1m"``, ``"1h"`` or a :class:`~statarb.model.Timeframe`.
    empty
        ``"omit"`` returns only intervals with trades; ``"carry"`` also emits the empty
        intervals after the first bar (up to the last bar, or up to ``end``) with
        open = high = low = close = the previous close and zero volume, notional and trades.
        Intervals before the first trade have no known price and are never emitted.
    start, end
        Epoch µs. Only bars whose open time lies in ``[start, end)`` are built (each from all
        ticks of its interval); ``None`` means unbounded.

    Returns
    -------
    BarBatch
        ``open_time = ts - ts % tf.us``; open/high/low/close of the prices in time order;
        ``volume`` = sum of sizes, ``notional`` = sum of price*size, ``trades`` = count,
        ``taker_buy_volume`` = sum of sizes of ticks whose buyer was the taker.

    Raises
    ------
    InputError
        On a bad timeframe or ``empty`` option, ``start >= end``, or a non-finite price/size.

    Examples
    --------
    >>> import numpy as np
    >>> t = TickBatch("BTCUSDT", np.array([0, 30_000_000, 61_000_000]),
    ...               np.array([10.0, 12.0, 11.0]), np.array([1.0, 1.0, 2.0]))
    >>> resample(t, "1m").close.tolist()
    [12.0, 11.0]
    """
    tf = Timeframe.parse(timeframe)
    check_empty(empty)
    _check_range(start, end)
    ts, price, size, side = ticks.ts, ticks.price, ticks.size, ticks.side
    if start is not None or end is not None:
        lo = ceil_open(start, tf.us) if start is not None else None
        hi = ceil_open(end, tf.us) if end is not None else None
        keep = np.ones(len(ts), dtype=bool)
        if lo is not None:
            keep &= ts >= lo
        if hi is not None:
            keep &= ts < hi
        ts, price, size, side = ts[keep], price[keep], size[keep], side[keep]
    bars = ticks_to_bars(ticks.symbol, tf, ts, price, size, side)
    if empty == "carry":
        bars = fill_empty(bars, start=start, end=end)
    return bars


def resample_bars(bars: BarBatch, timeframe: str | Timeframe) -> BarBatch:
    """Coarser bars from finer bars of one symbol (e.g. stored 1m klines -> 5m or 1h).

    Open is the first bar's open, high/low the extremes, close the last close, and volume,
    notional, trades and taker-buy volume are summed. Input bars without trades or volume
    (carried empty intervals) only set the prices of a target bar that has nothing else.

    Raises
    ------
    InputError
        When the target timeframe is not a whole multiple of ``bars.timeframe``, or the
        input open times are not strictly increasing.
    """
    from statarb.bars import _kernels as k

    tf = Timeframe.parse(timeframe)
    src = Timeframe.parse(bars.timeframe)
    if tf.us % src.us:
        raise InputError(
            f"cannot build {tf.name} bars from {src.name} bars: {tf.name} is not a whole "
            f"multiple of {src.name}"
        )
    out = k.ohlcv_from_bars(
        bars.open_time,
        bars.open,
        bars.high,
        bars.low,
        bars.close,
        bars.volume,
        bars.notional,
        bars.trades,
        bars.taker_buy_volume,
        np.int64(tf.us),
    )
    if out[9] == k.UNSORTED:
        i = int(out[10])
        raise InputError(
            f"{bars.symbol}: bar open times must be strictly increasing; row {i} "
            f"({int(bars.open_time[i])}) follows {int(bars.open_time[i - 1])}"
        )
    return BarBatch(bars.symbol, tf.name, *out[:9])


def fill_empty(
    bars: BarBatch,
    *,
    start: int | None = None,
    end: int | None = None,
    prev_close: float | None = None,
) -> BarBatch:
    """Insert the empty intervals of ``bars`` carrying the previous close.

    Fills the intervals opening in ``[start, end)`` (default: from the first to the last bar).
    Inserted bars have open = high = low = close = the previous close and zero volume,
    notional and trades. Before the first bar the price is unknown, so nothing is filled there
    unless ``prev_close`` gives it. Bars outside the range are returned unchanged.

    Raises
    ------
    InputError
        When the range would hold more than :data:`MAX_FILL` bars.
    """
    step = Timeframe.parse(bars.timeframe).us
    ot = bars.open_time
    lo = ceil_open(start, step) if start is not None else (int(ot[0]) if len(ot) else None)
    hi = ceil_open(end, step) - step if end is not None else (int(ot[-1]) if len(ot) else None)
    if lo is None or hi is None or hi < lo:
        return bars
    before = int(np.searchsorted(ot, lo))
    after = int(np.searchsorted(ot, hi, side="right"))
    if before:
        prev_close = float(bars.close[before - 1])
    if prev_close is None:  # nothing known before the first bar in the range
        if before == after:
            return bars
        lo = int(ot[before])
    n = (hi - lo) // step + 1
    if n > MAX_FILL:
        raise InputError(
            f"{bars.symbol}: filling {bars.timeframe} bars from {lo} to {hi} (epoch µs) would "
            f"create {n:,} bars including empty bars (limit {MAX_FILL:,}); narrow the range, "
            "use a longer timeframe or empty='omit'"
        )
    mid = _fill_range(bars.take(slice(before, after)), lo, n, step, prev_close)
    if before == 0 and after == len(bars):
        return mid
    parts = (bars.take(slice(0, before)), mid, bars.take(slice(after, None)))
    return BarBatch(
        bars.symbol,
        bars.timeframe,
        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("open_time", *BAR_COLUMNS)),
    )


def _fill_range(bars: BarBatch, lo: int, n: int, step: int, prev_close: float | None) -> BarBatch:
    """All ``n`` intervals from ``lo``: the bars where present, else carried closes."""
    src = np.full(n, -1, dtype=np.int64)
    src[(bars.open_time - lo) // step] = np.arange(len(bars))
    has = src >= 0
    last = np.maximum.accumulate(np.where(has, np.arange(n), -1))
    # the close to carry: the latest bar at or before each interval, else prev_close
    closes = np.append(bars.close, np.nan if prev_close is None else prev_close)
    carried = np.where(last >= 0, closes[src[np.maximum(last, 0)]], closes[-1])
    idx = np.maximum(src, 0)

    def col(values: np.ndarray, fill: np.ndarray | float) -> np.ndarray:
        if len(values) == 0:
            return np.broadcast_to(fill, (n,))
        return np.where(has, values[idx], fill)

    return BarBatch(
        bars.symbol,
        bars.timeframe,
        lo + np.arange(n, dtype=np.int64) * step,
        col(bars.open, carried),
        col(bars.high, carried),
        col(bars.low, carried),
        col(bars.close, carried),
        col(bars.volume, 0.0),
        col(bars.notional, 0.0),
        col(bars.trades, 0),
        col(bars.taker_buy_volume, 0.0),
    )


def _check_range(start: int | None, end: int | None) -> None:
    if start is not None and end is not None and start >= end:
        raise InputError(f"start ({start}) must be before end ({end})")
