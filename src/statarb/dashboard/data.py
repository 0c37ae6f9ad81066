"""Data access of the dashboard: cached read-only store reads and calls to the engine's API.

The store handle is one cached resource per URL (opened read-only: the engine is the single
writer). Reads are cached for a few seconds so live panels share them, and live windows read only
their newest bars. Calls to the engine live in :mod:`statarb.dashboard.client`, the assembly of
analytics in :mod:`statarb.dashboard.analysis`.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    import pandas as pd

    from statarb.config import Settings
    from statarb.store.base import TickStore

#: seconds a store read stays cached (live panels refresh on this scale)
LIVE_TTL = 2.0
HISTORY_TTL = 30.0
TIMEFRAMES = ("1s", "1m", "5m", "15m", "1h")


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """The dashboard's settings (from the ``STATARB_*`` environment the launcher passed).

    The first call (every page makes it) also caps BLAS at one thread: the server's session
    threads already share the cores, and a BLAS pool woken for each small product of the pair
    page (dot products, least squares on 86,400 bars) cost it several times its work on a busy
    machine.
    """
    from threadpoolctl import threadpool_limits

    from statarb.config import load_settings

    threadpool_limits(1, user_api="blas")
    return load_settings()


@st.cache_resource(show_spinner=False)
def store(url: str) -> TickStore:
    """The read-only store handle for ``url`` (one per process)."""
    from statarb.store import open_store

    return open_store(url, read_only=True)


def _store() -> TickStore:
    return store(settings().store_url)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def symbols_table(url: str) -> list[dict[str, Any]]:
    """Every stored symbol as :meth:`SymbolInfo.to_dict` rows."""
    return [info.to_dict() for info in store(url).symbols()]


def symbol_names() -> list[str]:
    """Names of the stored symbols (empty when the store holds nothing)."""
    return [row["symbol"] for row in symbols_table(settings().store_url)]


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def symbol_spans(url: str) -> dict[str, tuple[int, int]]:
    """Per symbol: (first, last) epoch µs of its data, ticks and stored bars together.

    The bar ends come from :func:`bar_span` (cached longer: bars of history change rarely).
    """
    out: dict[str, tuple[int, int]] = {}
    for info in store(url).symbols():
        lo = [info.first_ts] if info.first_ts is not None else []
        hi = [info.last_ts] if info.last_ts is not None else []
        if info.bars:
            from statarb.model import Timeframe

            tf = max(info.bars, key=lambda t: Timeframe.parse(t).us)  # the fewest rows
            span = bar_span(url, info.symbol, tf, info.bars[tf])
            if span is not None:
                lo.append(span[0])
                hi.append(span[1])
        if lo and hi:
            out[info.symbol] = (min(lo), max(hi))
    return out


@st.cache_data(show_spinner=False, max_entries=256)
def bar_span(url: str, symbol: str, timeframe: str, count: int) -> tuple[int, int] | None:
    """(first open, last close) epoch µs of the stored ``timeframe`` bars of ``symbol``
    (``count``, the number stored, keys the cache: it changes when bars are added, so a
    month of history is read once, not on every refresh)."""
    from statarb.model import Timeframe

    b = store(url).read_bars(symbol, timeframe)
    if not len(b):
        return None
    return int(b.open_time[0]), int(b.open_time[-1]) + Timeframe.parse(timeframe).us - 1


@st.cache_data(ttl=HISTORY_TTL, show_spinner=False, max_entries=64)
def bars_end_before(url: str, symbol: str, timeframe: str, before: int) -> int | None:
    """End (epoch µs) of the last stored ``timeframe`` bar of ``symbol`` opening before
    ``before`` (``None`` when there is none): where stored history stops before live data."""
    from statarb.model import Timeframe

    b = store(url).read_bars(symbol, timeframe, None, before)
    return int(b.open_time[-1]) + Timeframe.parse(timeframe).us if len(b) else None


@st.cache_data(ttl=LIVE_TTL, show_spinner=False, max_entries=32)
def bars(url: str, symbol: str, timeframe: str, start: int | None, end: int | None) -> pd.DataFrame:
    """Bars of one symbol as :func:`statarb.export.bars_frame` (time, OHLCV, ...)."""
    from statarb.export import bars_frame
    from statarb.history import load_bars

    return bars_frame(load_bars(store(url), symbol, timeframe, start, end))


@st.cache_data(ttl=LIVE_TTL, show_spinner=False, max_entries=32)
def aligned_closes(
    url: str, symbols: tuple[str, ...], timeframe: str, start: int | None, end: int | None
) -> pd.DataFrame:
    """Closes of ``symbols`` on one clock, rows where every leg has a value."""
    from statarb.history import load_aligned

    return load_aligned(store(url), list(symbols), timeframe, start, end).dropna()


@st.cache_data(ttl=LIVE_TTL, show_spinner=False, max_entries=8)
def aligned_prices(
    url: str, symbols: tuple[str, ...], timeframe: str, start: int | None
) -> pd.DataFrame:
    """Closes of ``symbols`` on one clock with NaN where a leg has no bar (for the pair scan)."""
    from statarb.history import load_aligned

    return load_aligned(store(url), list(symbols), timeframe, start, None)


#: bars read again at the end of a live window (late or rewritten bars replace cached ones)
REREAD_BARS = 5
_LIVE_KEYS = 16


@st.cache_resource(show_spinner=False)
def _live_frames() -> tuple[threading.Lock, dict[tuple[Any, ...], pd.DataFrame]]:
    return threading.Lock(), {}


def live_closes(
    url: str, symbols: tuple[str, ...], timeframe: str, start: int | None
) -> pd.DataFrame:
    """Like :func:`aligned_closes`, but after the first call only the newest bars are read.

    The frame of each (store, symbols, timeframe) is kept; a refresh reads from
    :data:`REREAD_BARS` bars before its end, replaces that tail and trims the front to
    ``start``. So a live panel over a day of 1 s bars pays for a few rows per refresh.
    """
    import pandas as pd

    from statarb.history import load_aligned
    from statarb.model import Timeframe

    lock, frames = _live_frames()
    key = (url, symbols, timeframe)
    with lock:
        prev = frames.get(key)
    first = None if start is None else pd.Timestamp(start * 1000, tz="UTC")
    covered = (
        prev is not None
        and len(prev) > 0
        and (
            (first is None and prev.attrs.get("from_start"))
            or (first is not None and prev.index[0] <= first)
        )
    )
    if not covered:
        frame = load_aligned(store(url), list(symbols), timeframe, start, None).dropna()
        frame.attrs["from_start"] = start is None
    else:
        assert prev is not None
        last_us = prev.index[-1].value // 1000
        reread = last_us - REREAD_BARS * Timeframe.parse(timeframe).us
        tail = load_aligned(store(url), list(symbols), timeframe, reread, None).dropna()
        head = prev[prev.index < tail.index[0]] if len(tail) else prev
        frame = pd.concat([head, tail]) if len(tail) else prev
        if first is not None:
            frame = frame[frame.index >= first]
        frame.attrs["from_start"] = start is None and bool(prev.attrs.get("from_start"))
    with lock:
        frames[key] = frame
        while len(frames) > _LIVE_KEYS:
            frames.pop(next(iter(frames)))
    return frame


@st.cache_data(ttl=HISTORY_TTL, show_spinner=False, max_entries=8)
def ticks(url: str, symbol: str, start: int | None, end: int | None) -> pd.DataFrame:
    """Ticks of one symbol as :func:`statarb.export.ticks_frame`."""
    from statarb.export import ticks_frame

    return ticks_frame(store(url).read_ticks(symbol, start, end))


def table_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` written as ``"csv"`` or ``"parquet"`` by :func:`statarb.export.write_table`."""
    from statarb.export import write_table

    with tempfile.TemporaryDirectory(prefix="statarb-dl-") as tmp:
        path = write_table(frame, Path(tmp) / f"table.{fmt}")
        return path.read_bytes()
