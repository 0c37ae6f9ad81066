"""PURE: ticks -> OHLCV bars at any interval, the incremental :class:`BarBuilder`, alignment.

All times are epoch µs UTC and bars are aligned to the UTC epoch
(``open_time = ts - ts % timeframe.us``). numba is imported only when bars are first built.
"""

from __future__ import annotations

from statarb.bars._resample import fill_empty, resample, resample_bars
from statarb.bars.align import ALIGN_FIELDS, align
from statarb.bars.builder import BarBuilder

__all__ = ["ALIGN_FIELDS", "BarBuilder", "align", "fill_empty", "resample", "resample_bars"]
