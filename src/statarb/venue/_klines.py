"""1m klines replayed as a live tape, for symbols that have no tick recording.

Each kline becomes :data:`TRADES_PER_KLINE` trades inside its minute: the open, then the low and
the high in the order the close suggests (low first when the kline closed at or above its open,
high first otherwise), then the close. The volume is split over the four trades in whole
quantity steps (the close trade takes the remainder), so the 1m bars a client builds from the
tape have the kline's open, high, low, close and volume. A kline of fewer than four steps is
played with four, one a trade, since a trade cannot be empty (in the packaged month: the 22
minutes of ALGOUSDT without a trade, whose four prices are equal; their bars show 4 steps).
A trade is a taker buy when its price is at or above the previous one.

The tape is laid on the recording's minute grid: pass ``r`` of a looping replay shows the next
``minutes`` klines of the source (``start + r * minutes`` onwards, round the source at its end),
so a kline symbol walks forward through its history from pass to pass instead of repeating one
stretch rebased. Every pass has the same number of trades at the same offsets; only prices and
sizes change, which keeps trade ids, aggregate ids and times on the recording's scheme.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from statarb.errors import InputError
from statarb.model import SIDE_BUYER_MAKER, SIDE_BUYER_TAKER, BarBatch, TickBatch

TRADES_PER_KLINE = 4
#: where in its minute each trade of a kline falls (ms): open, first extreme, second, close
OFFSETS_MS = (250, 20_000, 40_000, 59_750)
MINUTE_US = 60_000_000
#: trade ids of a tape start here (aggregate ids are the trade ids: one trade per aggregate)
FIRST_ID = 1_000_000


def _decimals(values: np.ndarray) -> int:
    for d in range(9):
        if np.allclose(np.round(values, d), values, rtol=0, atol=1e-9):
            return d
    return 8


@dataclass(frozen=True)
class KlineTape:
    """One symbol's 1m klines and where the venue plays them.

    Parameters
    ----------
    bars
        The source klines (1m, open times µs, consecutive).
    t0_us
        Recording time of the first minute of pass 0.
    minutes
        Klines shown per pass (the recording's period in minutes).
    start
        Index of the first kline of pass 0.
    """

    bars: BarBatch
    t0_us: int
    minutes: int
    start: int
    price_decimals: int
    qty_decimals: int

    @classmethod
    def build(cls, bars: BarBatch, *, t0_us: int, minutes: int, start_us: int | None = None
              ) -> KlineTape:  # fmt: skip
        """A tape of ``bars`` starting at the kline open at ``start_us`` (default: the first)."""
        if bars.timeframe != "1m":
            raise InputError(f"{bars.symbol}: a kline tape needs 1m klines, got {bars.timeframe}")
        if len(bars) < 1 or minutes < 1:
            raise InputError(f"{bars.symbol}: a kline tape needs klines and minutes >= 1")
        start = 0
        if start_us is not None:
            start = int(np.searchsorted(bars.open_time, start_us))
            if start >= len(bars):
                raise InputError(f"{bars.symbol}: no kline opens at or after {start_us} µs "
                                 f"(the last opens at {int(bars.open_time[-1])})")  # fmt: skip
        prices = np.concatenate([bars.open, bars.high, bars.low, bars.close])
        return cls(bars, t0_us, minutes, start, _decimals(prices), _decimals(bars.volume))

    @property
    def symbol(self) -> str:
        """The tape's symbol."""
        return self.bars.symbol

    def rows(self, rnd: int) -> np.ndarray:
        """Indices of the klines shown in pass ``rnd``."""
        first = self.start + rnd * self.minutes
        return (first + np.arange(self.minutes, dtype=np.int64)) % len(self.bars)

    def trades(self, rnd: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Price, size and side of every trade of pass ``rnd`` (see the module docstring)."""
        b, k = self.bars, self.rows(rnd)
        o, h, lo, c = b.open[k], b.high[k], b.low[k], b.close[k]
        up = c >= o
        price = np.column_stack([o, np.where(up, lo, h), np.where(up, h, lo), c]).ravel()
        step = 10.0**-self.qty_decimals
        # every trade carries at least one step (a client refuses empty trades)
        units = np.maximum(np.round(b.volume[k] / step).astype(np.int64), TRADES_PER_KLINE)
        part = units // TRADES_PER_KLINE
        size_u = np.column_stack([part, part, part, units - 3 * part]).ravel()
        size = np.round(size_u * step, self.qty_decimals)
        prev = np.r_[price[0], price[:-1]]
        side = np.where(price >= prev, SIDE_BUYER_TAKER, SIDE_BUYER_MAKER).astype(np.int8)
        return price, size, side

    def batch(self) -> TickBatch:
        """Pass 0 as trades on the recording's clock (ids from :data:`FIRST_ID`)."""
        n = self.minutes * TRADES_PER_KLINE
        minute = np.repeat(np.arange(self.minutes, dtype=np.int64), TRADES_PER_KLINE)
        offs = np.tile(np.asarray(OFFSETS_MS, dtype=np.int64) * 1000, self.minutes)
        price, size, side = self.trades(0)
        ids = FIRST_ID + np.arange(n, dtype=np.int64)
        return TickBatch(self.symbol, self.t0_us + minute * MINUTE_US + offs, price, size, side,
                         ids, source="klines")  # fmt: skip


def grid(first_us: int, last_us: int) -> tuple[int, int]:
    """The minute grid of a recording's span: first minute start (µs) and whole minutes."""
    t0 = first_us - first_us % MINUTE_US
    return t0, max(1, -(-(last_us + 1000 - t0) // MINUTE_US))


__all__ = ["FIRST_ID", "OFFSETS_MS", "TRADES_PER_KLINE", "KlineTape", "grid"]
