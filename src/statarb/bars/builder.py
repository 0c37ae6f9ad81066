"""Incremental bar building for the live path: the twin of :func:`statarb.bars.resample`."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from statarb.bars._resample import EmptyBars, check_empty, fill_empty, ticks_to_bars
from statarb.errors import InputError
from statarb.model import Bar, BarBatch, TickBatch, Timeframe

_COLS = tuple(f.name for f in fields(BarBatch)[2:])


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
        self._open: BarBatch | None = None
        self._last_open: int | None = None
        self._last_close: float | None = None
        # times of the first and last tick in the open bar (to merge out-of-order batches)
        self._span = (0, 0)

    @property
    def partial(self) -> Bar | None:
        """The open (unfinished) bar, or ``None``."""
        return None if self._open is None else self._open.to_bars()[0]

    @property
    def horizon(self) -> int | None:
        """The earliest tick time still accepted (epoch µs), ``None`` before the first tick."""
        if self._open is not None:
            return int(self._open.open_time[0])
        if self._last_open is not None:
            return self._last_open + self.timeframe.us
        return None

    def update(self, batch: TickBatch) -> BarBatch:
        """Add ticks; return the bars this batch closed (oldest first)."""
        if batch.symbol != self.symbol:
            raise InputError(f"BarBuilder for {self.symbol} got ticks of {batch.symbol}")
        ts, price, size, side = batch.ts, batch.price, batch.size, batch.side
        horizon = self.horizon
        if horizon is not None and len(ts) and int(ts.min()) < horizon:
            keep = ts >= horizon
            self.late += int(len(ts) - np.count_nonzero(keep))
            ts, price, size, side = ts[keep], price[keep], size[keep], side[keep]
        if len(ts) == 0:
            return BarBatch.empty(self.symbol, self.timeframe.name)
        new = ticks_to_bars(self.symbol, self.timeframe, ts, price, size, side)
        cols = {c: getattr(new, c) for c in _COLS}
        first_end = int(new.open_time[0]) + self.timeframe.us
        span = (int(ts.min()), int(ts[ts < first_end].max()))
        if self._open is not None:
            if new.open_time[0] == self._open.open_time[0]:
                _merge_into_first(cols, self._open, self._span, span)
                span = (min(self._span[0], span[0]), max(self._span[1], span[1]))
            else:
                for c in _COLS:
                    cols[c] = np.concatenate((getattr(self._open, c), cols[c]))
        merged = BarBatch(self.symbol, self.timeframe.name, **cols)
        if len(new) > 1:
            last_open = int(new.open_time[-1])
            span = (int(ts[ts >= last_open].min()), int(ts.max()))
        self._open = merged.take(slice(-1, None))
        self._span = span
        return self._emit(merged.take(slice(0, -1)), None)

    def close_until(self, ts: int) -> BarBatch:
        """Close the open bar if its interval ended at or before ``ts`` (epoch µs).

        With ``empty="carry"`` the empty intervals that ended at or before ``ts`` are emitted too.
        """
        step = self.timeframe.us
        closed = BarBatch.empty(self.symbol, self.timeframe.name)
        if self._open is not None and int(self._open.open_time[0]) + step <= ts:
            closed, self._open = self._open, None
        if self.empty == "carry" and self._open is None:
            return self._emit(closed, ts - ts % step)
        return self._emit(closed, None)

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


def _merge_into_first(
    cols: dict[str, np.ndarray],
    bar: BarBatch,
    bar_span: tuple[int, int],
    new_span: tuple[int, int],
) -> None:
    """Fold the open bar into the first new row (same interval); time order decides open/close.

    On equal times the earlier-arrived tick counts as earlier, as a stable sort would order it.
    """
    if bar_span[0] <= new_span[0]:
        cols["open"][0] = bar.open[0]
    if bar_span[1] > new_span[1]:
        cols["close"][0] = bar.close[0]
    cols["high"][0] = max(cols["high"][0], bar.high[0])
    cols["low"][0] = min(cols["low"][0], bar.low[0])
    for c in ("volume", "notional", "trades", "taker_buy_volume"):
        cols[c][0] += getattr(bar, c)[0]
