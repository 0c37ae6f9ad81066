"""The universe of a scan read from a store: closes on one clock and each symbol's liquidity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statarb.errors import InputError
from statarb.model import Timeframe

if TYPE_CHECKING:
    from statarb.analytics.liquidity import LiquidityStats
    from statarb.store.base import TickStore

DAY_US = 86_400_000_000


@dataclass(frozen=True)
class Universe:
    """Closes (one column per symbol, NaN where it has no bar), liquidity and the window."""

    prices: Any
    liquidity: dict[str, LiquidityStats]
    timeframe: str
    start_us: int
    end_us: int


def load_universe(
    store: TickStore,
    symbols: Sequence[str],
    timeframe: str,
    start: int | None = None,
    end: int | None = None,
    *,
    days: float | None = None,
) -> Universe:
    """Bars of ``symbols`` over ``[start, end)`` on the union of their bar times.

    Each pair of a scan is then tested on the bars both of its legs have, so a symbol listed
    late shortens only its own pairs. With ``days``, the window is the last ``days`` days up to
    ``end`` (default: the end of the newest stored bar of these symbols).

    Parameters
    ----------
    store
        Any store.
    symbols
        Symbols, in the order that fixes each pair's direction.
    timeframe
        Bar interval.
    start, end
        Epoch µs bounds on bar open times (``start`` is ignored when ``days`` is given).
    days
        Length of the window in days.
    """
    import numpy as np
    import pandas as pd

    from statarb.analytics.liquidity import liquidity_stats
    from statarb.history import load_bars

    tf = Timeframe.parse(timeframe)
    if days is not None and not 0 < days <= 3660:
        raise InputError(f"days must be in (0, 3660], got {days}")
    lo = start
    if days is not None:
        lo = None if end is None else end - int(days * DAY_US)
    legs = {s: load_bars(store, s, tf, lo, end) for s in symbols}
    last = max((int(b.open_time[-1]) for b in legs.values() if len(b)), default=None)
    if last is None:
        raise InputError(f"no {tf.name} bars of {', '.join(symbols)} in the window")
    hi = end if end is not None else last + tf.us
    if days is not None and lo is None:
        lo = hi - int(days * DAY_US)
    cols = {}
    for s, b in legs.items():
        keep = np.ones(len(b), dtype=bool) if lo is None else b.open_time >= lo
        cols[s] = pd.Series(b.close[keep], index=b.open_time[keep])
    frame = pd.DataFrame(cols).sort_index()
    frame.index = pd.to_datetime(frame.index, unit="us", utc=True).rename("time")
    frame = frame[list(symbols)]
    liq = {s: liquidity_stats(_trim(b, lo)) for s, b in legs.items()}
    first = int(frame.index.asi8[0] // 1000) if len(frame) else (lo or 0)
    return Universe(frame, liq, tf.name, lo if lo is not None else first, hi)


def _trim(bars: Any, lo: int | None) -> Any:
    if lo is None or not len(bars) or int(bars.open_time[0]) >= lo:
        return bars
    import pandas as pd

    keep = bars.open_time >= lo
    return pd.DataFrame(
        {"volume": bars.volume[keep], "notional": bars.notional[keep], "trades": bars.trades[keep]}
    )


__all__ = ["DAY_US", "Universe", "load_universe"]
