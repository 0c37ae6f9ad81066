"""Read history from a store: bars at any timeframe (stored or resampled) and aligned legs.

``load_bars`` prefers, in order: stored bars of exactly the timeframe (completed from the
ticks before the first and after the last stored bar: the live writer stores closed bars only,
and a store may hold ticks from before bars were kept); stored bars of the
coarsest finer timeframe that divides it (resampled with :func:`statarb.bars.resample_bars`);
the stored ticks, streamed in chunks through a :class:`statarb.bars.BarBuilder` so memory stays
constant and a bar spanning two chunks is built once.

Ranges select bars by open time: ``start <= open_time < end`` (epoch µs, ``None`` unbounded),
and every returned bar is complete (built from all data of its interval).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from statarb.errors import InputError
from statarb.model import BAR_COLUMNS, BarBatch, Timeframe

if TYPE_CHECKING:
    import pandas as pd

    from statarb.store.base import SymbolInfo, TickStore

#: rows per chunk when bars are built from stored ticks
TICK_CHUNK = 1_000_000


def _info(store: TickStore, symbol: str) -> SymbolInfo:
    infos = store.symbols()
    for info in infos:
        if info.symbol == symbol:
            return info
    known = ", ".join(i.symbol for i in infos) or "none"
    raise InputError(f"symbol {symbol!r} is not in the store (stored symbols: {known})")


def available_timeframes(store: TickStore, symbol: str) -> list[str]:
    """Timeframes with stored bars for ``symbol``, shortest first (``[]`` when none).

    Raises
    ------
    InputError
        When the store holds nothing for ``symbol``.
    """
    info = _info(store, symbol.upper())
    return sorted(info.bars, key=lambda tf: Timeframe.parse(tf).us)


def load_bars(
    store: TickStore,
    symbol: str,
    timeframe: str | Timeframe,
    start: int | None = None,
    end: int | None = None,
    *,
    empty: Literal["omit", "carry"] = "omit",
) -> BarBatch:
    """Bars of one symbol with open time in ``[start, end)``, from the best stored source.

    Parameters
    ----------
    store
        Any :class:`~statarb.store.base.TickStore`.
    symbol
        Instrument (case-insensitive).
    timeframe
        Bar interval, e.g. ``"1m"`` or ``"1h"``.
    start, end
        Epoch µs bounds on the bar open time.
    empty
        ``"carry"`` fills empty intervals after the first bar with the previous close, up to
        ``end`` but not past the symbol's last stored tick or bar; ``"omit"`` returns only
        intervals with data.

    Raises
    ------
    InputError
        Unknown symbol, bad timeframe or range.
    """
    from statarb.bars import fill_empty, resample_bars
    from statarb.bars._resample import ceil_open, check_empty

    tf = Timeframe.parse(timeframe)
    check_empty(empty)
    if start is not None and end is not None and start >= end:
        raise InputError(f"start ({start}) must be before end ({end})")
    symbol = symbol.upper()
    info = _info(store, symbol)
    lo = None if start is None else ceil_open(start, tf.us)
    hi = None if end is None else ceil_open(end, tf.us)
    if lo is not None and hi is not None and lo >= hi:
        bars = BarBatch.empty(symbol, tf.name)
    elif tf.name in info.bars:
        bars = _stored_with_ticks(store, info, tf, lo, hi)
    else:
        finer = [s for s in info.bars if tf.us % Timeframe.parse(s).us == 0]
        if finer:
            src = max(finer, key=lambda s: Timeframe.parse(s).us)
            bars = resample_bars(store.read_bars(symbol, src, lo, hi), tf)
        else:
            bars = _bars_from_ticks(store, symbol, tf, lo, hi)
    if empty == "carry" and len(bars):
        # carry up to ``end`` but never past the last data the store holds for the symbol
        data_end = int(bars.open_time[-1]) + tf.us
        if info.last_ts is not None:
            data_end = max(data_end, info.last_ts + 1)
        bars = fill_empty(bars, end=data_end if end is None else min(end, data_end))
    return bars


def _stored_with_ticks(
    store: TickStore, info: SymbolInfo, tf: Timeframe, lo: int | None, hi: int | None
) -> BarBatch:
    """Stored bars of ``[lo, hi)``, completed from the ticks before the first and after the last.

    A store may hold ticks from before bars were kept, and the live writer stores bars once they
    close; those ends are built from the ticks. The bar holding the store's last tick is left out
    of the tail: the writer has not closed it, so it is not final (and the API never serves an
    open bar as history).
    """
    stored = store.read_bars(info.symbol, tf.name, lo, hi)
    if not info.ticks or info.first_ts is None or info.last_ts is None:
        return stored
    parts = []
    if len(stored) == 0:
        return _bars_from_ticks(store, info.symbol, tf, lo, hi)
    first, after = int(stored.open_time[0]), int(stored.open_time[-1]) + tf.us
    if info.first_ts < first and (lo is None or lo < first):
        parts.append(_bars_from_ticks(store, info.symbol, tf, lo, first))
    parts.append(stored)
    if info.last_ts >= after and (hi is None or hi > after):
        tail = _bars_from_ticks(store, info.symbol, tf, after, hi)
        if len(tail) and int(tail.open_time[-1]) <= info.last_ts < int(tail.open_time[-1]) + tf.us:
            tail = tail.take(slice(0, len(tail) - 1))
        parts.append(tail)
    return _concat(info.symbol, tf.name, parts)


def _concat(symbol: str, tf: str, parts: Sequence[BarBatch]) -> BarBatch:
    import numpy as np

    parts = [p for p in parts if len(p)]
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return BarBatch.empty(symbol, tf)
    names = ("open_time", *BAR_COLUMNS)
    cols = {n: np.concatenate([getattr(p, n) for p in parts]) for n in names}
    return BarBatch(symbol, tf, **cols)


def _bars_from_ticks(
    store: TickStore, symbol: str, tf: Timeframe, lo: int | None, hi: int | None
) -> BarBatch:
    """Stream the stored ticks of ``[lo, hi)`` through a builder, chunk by chunk."""
    from statarb.bars import BarBuilder

    builder = BarBuilder(symbol, tf)
    parts = [builder.update(chunk) for chunk in store.iter_ticks(symbol, lo, hi, TICK_CHUNK)]
    partial = builder.partial
    if partial is not None:
        parts.append(builder.close_until(partial.open_time + tf.us))
    return _concat(symbol, tf.name, parts)


def load_aligned(
    store: TickStore,
    symbols: Sequence[str],
    timeframe: str | Timeframe,
    start: int | None = None,
    end: int | None = None,
    *,
    field: str = "close",
    max_staleness_bars: int = 1,
) -> pd.DataFrame:
    """:func:`statarb.bars.align` of :func:`load_bars` for each symbol.

    ``max_staleness_bars`` is how many bars a leg's last value may be carried forward where
    that leg has no bar (``0``: only times where every leg has a bar).

    Returns
    -------
    pandas.DataFrame
        UTC ``DatetimeIndex`` named ``"time"``, one column per symbol (upper-case).
    """
    from statarb.bars import align

    if isinstance(symbols, str) or len(symbols) == 0:
        raise InputError(f"symbols must be a non-empty list of symbols, got {symbols!r}")
    if max_staleness_bars < 0:
        raise InputError(f"max_staleness_bars must be >= 0, got {max_staleness_bars}")
    tf = Timeframe.parse(timeframe)
    legs = {s.upper(): load_bars(store, s, tf, start, end) for s in symbols}
    if len(legs) != len(symbols):
        raise InputError(f"symbols must be distinct, got {list(symbols)}")
    return align(legs, field=field, max_staleness=max_staleness_bars * tf.us)


__all__ = ["TICK_CHUNK", "available_timeframes", "load_aligned", "load_bars"]
