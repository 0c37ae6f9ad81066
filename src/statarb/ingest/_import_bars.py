"""Closed bars of imported ticks, kept in the store beside the ticks (one file at a time).

History reads stored bars instead of re-resampling millions of ticks, so an import stores the
bars of the live timeframes too. While a file streams in, the bars of each batch are computed
with numpy segment reductions (no compiled kernels to load: a short import stays short) and the
bar that spans two batches is merged. That gives the same bars as resampling the stored ticks
(:func:`statarb.bars.resample`, up to float summation order) only when the file adds ticks to
intervals the store held nothing in, every tick of the file was new, and the file was in time
order. Otherwise (a re-import,
a file that overlaps stored data, duplicates or out-of-order rows) the bars of the touched
intervals are rebuilt from the stored ticks, in the same transaction as the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from statarb.model import BAR_COLUMNS, SIDE_BUYER_TAKER, BarBatch, TickBatch, Timeframe

if TYPE_CHECKING:
    from statarb.store.base import TickStore

#: ticks per chunk when the bars of a touched range are rebuilt from the store
REBUILD_CHUNK = 1_000_000


def _segments(batch: TickBatch, step: int) -> list[np.ndarray]:
    """The nine bar columns of ticks sorted by time, one row per non-empty interval."""
    ts, price, size = batch.ts, batch.price, batch.size
    opens = ts - ts % step
    starts = np.flatnonzero(np.diff(opens)) + 1
    starts = np.concatenate([np.zeros(1, np.int64), starts])
    ends = np.append(starts[1:], len(ts))
    buy = np.where(batch.side == SIDE_BUYER_TAKER, size, 0.0)
    return [
        opens[starts],
        price[starts],
        np.maximum.reduceat(price, starts),
        np.minimum.reduceat(price, starts),
        price[ends - 1],
        np.add.reduceat(size, starts),
        np.add.reduceat(price * size, starts),
        (ends - starts).astype(np.int64),
        np.add.reduceat(buy, starts),
    ]


_O, _H, _L, _C = 1, 2, 3, 4


class _Builder:
    """Bars of one symbol and timeframe from batches in time order; the last bar stays open."""

    def __init__(self, symbol: str, tf: Timeframe) -> None:
        self.symbol, self.tf = symbol, tf
        self.done: list[list[np.ndarray]] = []
        self.open: list[np.ndarray] | None = None  # the last bar, as 1-row columns

    def update(self, batch: TickBatch) -> None:
        cols = _segments(batch, self.tf.us)
        prev = self.open
        if prev is not None:
            if prev[0][0] == cols[0][0]:  # the open bar goes on in this batch
                cols[_O][0] = prev[_O][0]
                cols[_H][0] = max(cols[_H][0], prev[_H][0])
                cols[_L][0] = min(cols[_L][0], prev[_L][0])
                for i in (5, 6, 7, 8):
                    cols[i][0] += prev[i][0]
            else:
                self.done.append(prev)
        self.done.append([c[:-1] for c in cols])
        self.open = [c[-1:] for c in cols]

    def bars(self) -> BarBatch:
        parts = [*self.done, *([self.open] if self.open is not None else [])]
        names = ("open_time", *BAR_COLUMNS)
        if not parts:
            return BarBatch.empty(self.symbol, self.tf.name)
        cols = [np.concatenate([p[i] for p in parts]) for i in range(len(names))]
        return BarBatch(self.symbol, self.tf.name, *cols)


@dataclass
class _Symbol:
    """What one file brought for one symbol."""

    builders: list[_Builder]
    lo: int = 2**63 - 1
    hi: int = -(2**63)
    parsed: int = 0
    new: int = 0
    ordered: bool = True
    last: tuple[int, int] = (-(2**63), -(2**63))


class ImportBars:
    """Bars of ``timeframes`` for the ticks of one imported file.

    Parameters
    ----------
    store
        The store the file is written to (read for what it held before, and for rebuilds).
    timeframes
        Bar intervals to keep, e.g. ``("1m", "1h")``; empty keeps none.
    """

    def __init__(self, store: TickStore, timeframes: Sequence[str]) -> None:
        self.store = store
        self.frames = [Timeframe.parse(t) for t in timeframes]
        self._coarsest = max((f.us for f in self.frames), default=1)
        self._before = {
            s.symbol: (s.first_ts, s.last_ts) for s in store.symbols() if s.ticks
        } if self.frames else {}  # fmt: skip
        self._syms: dict[str, _Symbol] = {}

    def add(self, batch: TickBatch, new: int) -> None:
        """Record a batch of the file as written to the store (``new`` rows were new)."""
        if not self.frames or not len(batch):
            return
        st = self._syms.get(batch.symbol)
        if st is None:
            builders = [_Builder(batch.symbol, f) for f in self.frames]
            st = self._syms[batch.symbol] = _Symbol(builders)
        from statarb.store._common import sorted_ticks

        batch = sorted_ticks(batch)  # the order the store reads them in
        lo, hi = int(batch.ts[0]), int(batch.ts[-1])
        if (lo, int(batch.trade_id[0])) <= st.last:
            st.ordered = False  # the builders would not see the ticks in the stored order
        st.last = (hi, int(batch.trade_id[-1]))
        st.lo, st.hi = min(st.lo, lo), max(st.hi, hi)
        st.parsed += len(batch)
        st.new += new
        if st.ordered and st.parsed == st.new and not self._overlaps(batch.symbol, st):
            for builder in st.builders:
                builder.update(batch)

    def _overlaps(self, symbol: str, st: _Symbol) -> bool:
        """Whether ticks stored before this file may share a bar interval with the file's."""
        before = self._before.get(symbol)
        if before is None or before[0] is None or before[1] is None:
            return False
        step = self._coarsest
        lo, hi = st.lo - st.lo % step, st.hi - st.hi % step + step
        return before[0] < hi and before[1] >= lo

    def finish(self) -> int:
        """Write the file's bars (call inside the file's transaction); return bars written."""
        written = 0
        for symbol, st in self._syms.items():
            clean = st.ordered and st.parsed == st.new and not self._overlaps(symbol, st)
            if st.new == 0:
                continue
            if clean:
                for builder in st.builders:
                    written += self.store.write_bars(builder.bars())
            else:
                written += self._rebuild(symbol, st.lo, st.hi)
        self._syms.clear()
        return written

    def _rebuild(self, symbol: str, lo: int, hi: int) -> int:
        """Bars of every interval touched by ``[lo, hi]``, from all stored ticks there."""
        step = self._coarsest
        start, end = lo - lo % step, hi - hi % step + step
        builders = [_Builder(symbol, f) for f in self.frames]
        for chunk in self.store.iter_ticks(symbol, start, end, REBUILD_CHUNK):
            if len(chunk):
                for builder in builders:
                    builder.update(chunk)
        return sum(self.store.write_bars(b.bars()) for b in builders)


__all__ = ["ImportBars"]
