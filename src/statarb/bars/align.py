"""Put several symbols' bars on one clock without looking ahead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from statarb.errors import InputError
from statarb.model import BAR_COLUMNS, BarBatch

if TYPE_CHECKING:
    import pandas as pd

ALIGN_FIELDS: tuple[str, ...] = (*BAR_COLUMNS, "vwap")


def align(
    bars: Mapping[str, BarBatch],
    *,
    field: str = "close",
    max_staleness: int | None = None,
) -> pd.DataFrame:
    """One column per symbol on the union of the legs' bar open times.

    Parameters
    ----------
    bars
        Symbol (column name) -> that symbol's bars; all of one timeframe.
    field
        Which bar field to align: one of open, high, low, close, volume, notional, trades,
        taker_buy_volume, vwap.
    max_staleness
        How far (µs, measured from a leg's bar open time to the row's time) a leg's last value
        may be carried forward to a time where that leg has no bar. ``None`` carries nothing,
        so only times where every leg has a bar remain. Values are only ever carried forward.

    Returns
    -------
    pandas.DataFrame
        Index: tz-aware UTC ``DatetimeIndex`` named ``"time"`` (bar open times, ascending);
        rows where any leg has no value (yet, or any more within ``max_staleness``) are dropped.

    Raises
    ------
    InputError
        For no legs, an unknown field, a negative ``max_staleness`` or mixed timeframes.
    """
    import pandas as pd

    if not bars:
        raise InputError("align needs at least one symbol's bars")
    if field not in ALIGN_FIELDS:
        raise InputError(f"field {field!r} is not a bar field; use one of {list(ALIGN_FIELDS)}")
    if max_staleness is not None and max_staleness < 0:
        raise InputError(f"max_staleness must be >= 0 µs or None, got {max_staleness}")
    tfs = {b.timeframe for b in bars.values()}
    if len(tfs) > 1:
        raise InputError(f"cannot align bars of different timeframes: {sorted(tfs)}")
    legs = {name: _sorted(b) for name, b in bars.items()}
    times = np.unique(np.concatenate([b.open_time for b in legs.values()]))
    keep = np.ones(len(times), dtype=bool)
    columns: dict[str, np.ndarray] = {}
    for name, leg in legs.items():
        values, ok = _as_of(leg, field, times, max_staleness)
        columns[name] = values
        keep &= ok
    index = pd.DatetimeIndex(times[keep].astype("datetime64[us]"), name="time").tz_localize("UTC")
    return pd.DataFrame({name: col[keep] for name, col in columns.items()}, index=index)


def _sorted(bars: BarBatch) -> BarBatch:
    ot = bars.open_time
    if len(ot) > 1 and not bool(np.all(ot[1:] > ot[:-1])):
        raise InputError(f"{bars.symbol}: bar open times must be strictly increasing")
    return bars


def _as_of(
    leg: BarBatch, field: str, times: np.ndarray, max_staleness: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Value of ``leg`` at each time (its last bar at or before it) and whether it is usable."""
    values = leg.vwap if field == "vwap" else getattr(leg, field)
    i = np.searchsorted(leg.open_time, times, side="right") - 1
    has = i >= 0
    j = np.maximum(i, 0)
    if len(leg) == 0:
        return np.full(len(times), np.nan), np.zeros(len(times), dtype=bool)
    age = times - leg.open_time[j]
    ok = has & (age == 0 if max_staleness is None else age <= max_staleness)
    return values[j], ok
