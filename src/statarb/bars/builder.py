"""Incremental bar building for the live path: the twin of :func:`statarb.bars.resample`."""

from __future__ import annotations

from typing import Any

import numpy as np

from statarb.bars._resample import EmptyBars, check_empty, fill_empty, tick_columns
from statarb.errors import InputError
from statarb.model import Bar, BarBatch, TickBatch, Timeframe


class BarBuilder:
    """Build one symbol's bars tick batch by tick batch.

    A bar is final only when a tick of a later interval arrives (:meth:`update`) or when the
    wall clock passes its end (:meth:`close_until`). Splitting a time-ordered tick stream into
    batches in any way gives the same bars as :func:`statarb.bars.resample` of the whole stream.

    Ticks older than the open bar (or, with no open bar, older than the end of the last closed
    bar) arrive too late to change a final bar: they are ignored and counted in :attr:`late`.
    Ticks within one batch may be out of order; they are stable-sorted by time first.

    Parameters
    ----------
    symbol
        The instrument; batches of another symbol are rejected.
    timeframe
        Bar interval, e.g. ``"1m"``.
    empty
        ``"carry"`` also emits empty intervals between bars (and, in :meth:`close_until`, up to
        the clock) with the previous close; ``"omit"`` emits only bars with trades.

    Examples
    --------
    >>> import numpy as np
    >>> b = BarBuilder("BTCUSDT", "1m")
    >>> b.update(TickBatch("BTCUSDT", np.array([0, 1]), np.array([1.0, 2.0]), np.ones(2))).open_time
    array([], dtype=int64)
    >>> b.close_until(60_000_000).close.tolist()
    [2.0]
    """

    def __init__(self, symbol: str, timeframe: str | Timeframe, *, empty: EmptyBars = "omit"):
        check_empty(empty)
        self.symbol = symbol
        self.timeframe = Timeframe.parse(timeframe)
        self.empty: EmptyBars = empty
        #: ticks ignored because they were older than the open bar
        self.late = 0
        # the open bar as (open_time, open, high, low, close, volume, notional, trades, taker_buy)
        self._open: tuple[Any, ...] | None = None
        self._none = BarBatch.empty(symbol, self.timeframe.name)
        self._last_open: int | None = None
        self._last_close: float | None = None
        # times of the first and last tick in the open bar (to merge out-of-order batches)
        self._span = (0, 0)

    @property
    def partial(self) -> Bar | None:
        """The open (unfinished) bar, or ``None``."""
        if self._open is None:
            return None
        ot, o, h, lo, c, v, nt, k, tb = self._open
        return Bar(self.symbol, self.timeframe.name, ot, o, h, lo, c, v, nt, k, tb)

    @property
    def horizon(self) -> int | None:
        """The earliest tick time still accepted (epoch µs), ``None`` before the first tick."""
        if self._open is not None:
            return self._open[0]
        if self._last_open is not None:
            return self._last_open + self.timeframe.us
        return None

    def update(self, batch: TickBatch) -> BarBatch:
        """Add ticks; return the bars this batch closed (oldest first)."""
        if batch.symbol != self.symbol:
            raise InputError(f"BarBuilder for {self.symbol} got ticks of {batch.symbol}")
        ts, price, size, side = batch.ts, batch.price, batch.size, batch.side
        horizon = self.horizon
        late = 0
        if horizon is not None and len(ts) and int(ts.min()) < horizon:
            keep = ts >= horizon
            late = int(len(ts) - np.count_nonzero(keep))
            ts, price, size, side = ts[keep], price[keep], size[keep], side[keep]
        if len(ts) == 0:
            self.late += late
            return self._none
        cols, ts = tick_columns(self.symbol, self.timeframe, ts, price, size, side)
        step = self.timeframe.us
        n = len(cols[0])
        first_open = int(cols[0][0])
        # times of the first and last tick of the first and of the last new bar (ts is sorted)
        first_span = (int(ts[0]), int(ts[np.searchsorted(ts, first_open + step) - 1]))
        last_span = (int(ts[np.searchsorted(ts, int(cols[0][-1]))]), int(ts[-1]))
        if self._open is not None:
            if first_open == self._open[0]:
                _merge_into_first(cols, self._open, self._span, first_span)
                first_span = (
                    min(self._span[0], first_span[0]),
                    max(self._span[1], first_span[1]),
                )
            else:
                cols = [
                    np.insert(col, 0, value) for col, value in zip(cols, self._open, strict=True)
                ]
        closed = self._none
        if len(cols[0]) > 1:
            closed = BarBatch(self.symbol, self.timeframe.name, *(col[:-1] for col in cols))
        out = self._emit(closed, None)  # first: on an error the builder is left as it was
        self._open = tuple(col[-1].item() for col in cols)
        self._span = first_span if n == 1 else last_span
        self.late += late
        return out

    def close_until(self, ts: int) -> BarBatch:
        """Close the open bar if its interval ended at or before ``ts`` (epoch µs).

        With ``empty="carry"`` the empty intervals that ended at or before ``ts`` are emitted too.
        """
        step = self.timeframe.us
        closed = self._none
        closing = self._open is not None and self._open[0] + step <= ts
        if closing:
            closed = BarBatch(
                self.symbol, self.timeframe.name, *(np.array([x]) for x in self._open or ())
            )
        carry = self.empty == "carry" and (closing or self._open is None)
        out = self._emit(closed, ts - ts % step if carry else None)
        if closing:
            self._open = None
        return out

    def _emit(self, closed: BarBatch, until: int | None) -> BarBatch:
        """Record ``closed`` as emitted; with carry, add empty intervals before ``until``."""
        if self.empty == "carry":
            if self._last_open is None:
                closed = fill_empty(closed, end=until)
            else:
                start = self._last_open + self.timeframe.us
                end = until
                if end is None and len(closed):
                    end = int(closed.open_time[-1]) + 1
                if end is not None and end > start:
                    closed = fill_empty(closed, start=start, end=end, prev_close=self._last_close)
        if len(closed):
            self._last_open = int(closed.open_time[-1])
            self._last_close = float(closed.close[-1])
        return closed


_O, _H, _L, _C, _V, _NT, _K, _TB = range(1, 9)


def _merge_into_first(
    cols: list[np.ndarray],
    bar: tuple[Any, ...],
    bar_span: tuple[int, int],
    new_span: tuple[int, int],
) -> None:
    """Fold the open bar into the first new row (same interval); time order decides open/close.

    On equal times the earlier-arrived tick counts as earlier, as a stable sort would order it.
    """
    if bar_span[0] <= new_span[0]:
        cols[_O][0] = bar[_O]
    if bar_span[1] > new_span[1]:
        cols[_C][0] = bar[_C]
    cols[_H][0] = max(cols[_H][0], bar[_H])
    cols[_L][0] = min(cols[_L][0], bar[_L])
    for i in (_V, _NT, _K, _TB):
        cols[i][0] += bar[i]
