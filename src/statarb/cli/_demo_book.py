"""The demo's book: every pair of the streamed symbols on 1m bars, topped up to 50 with pairs of
the kline symbols on 5m bars, written to an empty book before the engine starts.

Book entries are unique on ``(a, b, timeframe)``: with the 9 demo symbols the 36 pairs at 1m and
the first 14 pairs of :data:`statarb.sample.HISTORY_SYMBOLS` (in their order) at 5m.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statarb.store.base import TickStore

#: entries the demo's book is seeded with
DEMO_BOOK_SIZE = 50
#: timeframe of the entries beyond the 1m pairs (they warm up from the 1m history, resampled)
DEMO_EXTRA_TIMEFRAME = "5m"


def demo_book(
    symbols: Sequence[str], history_symbols: Sequence[str], *, size: int = DEMO_BOOK_SIZE
) -> list[tuple[str, str, str]]:
    """``(a, b, timeframe)`` of the demo book (see the module docstring), at most ``size``.

    Examples
    --------
    >>> demo_book(["A", "B", "C"], ["B", "C"], size=4)
    [('A', 'B', '1m'), ('A', 'C', '1m'), ('B', 'C', '1m'), ('B', 'C', '5m')]
    """
    out = [(a, b, "1m") for a, b in combinations(symbols, 2)]
    out += [(a, b, DEMO_EXTRA_TIMEFRAME) for a, b in combinations(history_symbols, 2)]
    return out[:size]


def seed_demo_book(store: TickStore, entries: Sequence[tuple[str, str, str]]) -> int:
    """Write ``entries`` with the default settings if the book is empty; return how many."""
    from statarb.engine._book import BOOK_SETTINGS, tracker_settings

    if store.list_book_pairs():
        return 0
    defaults = {k: v for k, v in tracker_settings({}).to_dict().items() if k in BOOK_SETTINGS}
    with store.transaction():
        for a, b, tf in entries:
            store.save_book_pair(a, b, tf, dict(defaults))
    return len(entries)


__all__ = ["DEMO_BOOK_SIZE", "DEMO_EXTRA_TIMEFRAME", "demo_book", "seed_demo_book"]
