"""Tick reads and the idempotency check of the PostgreSQL store, on top of a column fetcher.

``fetch(query, params, types)`` runs a SELECT of NOT NULL fixed-width columns and returns them as
numpy arrays (see :meth:`statarb.store.postgres.PostgresStore._copy_out`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from statarb.model import TickBatch
from statarb.store import _common as c

Fetch = Callable[[str, tuple[Any, ...], list[str]], list[np.ndarray]]
#: stored tick columns: ts, trade_id, price, size, side, recv_ts
TICK_TYPES = ["i8", "i8", "f8", "f8", "i2", "i8"]
_SELECT = "SELECT ts, trade_id, price, size, side, recv_ts FROM ticks"


def ticks(symbol: str, cols: list[np.ndarray]) -> TickBatch:
    """A batch in read order (rows come from the partition in arrival order)."""
    ts, tid, price, size, side, recv = cols
    return c.sorted_ticks(TickBatch(symbol, ts, price, size, side, tid, recv))


def drop_stored(b: TickBatch, sid: int, stats: tuple[Any, ...] | None, fetch: Fetch) -> TickBatch:
    """The rows of ``b`` (sorted, deduplicated) whose key is not stored yet.

    ``stats`` is the symbol's (first_ts, last_ts, min_trade_id, max_trade_id); stored keys are
    looked up only where the batch's id or time range overlaps what is stored.
    """
    if stats is None or stats[0] is None:
        return b
    first, last, min_id, max_id = stats
    keep = np.ones(len(b), dtype=bool)
    has_id = b.trade_id >= 0
    if has_id.any() and min_id is not None:
        lo, hi = int(b.trade_id[has_id].min()), int(b.trade_id[has_id].max())
        if lo <= max_id and hi >= min_id:
            (stored,) = fetch(
                "SELECT trade_id FROM ticks WHERE symbol_id = %s AND trade_id BETWEEN %s AND %s",
                (sid, lo, hi),
                ["i8"],
            )
            keep &= ~(has_id & np.isin(b.trade_id, stored))
    no_id = np.flatnonzero(~has_id)
    if len(no_id) and b.ts[no_id[0]] <= last and b.ts[no_id[-1]] >= first:
        ts, price, size = fetch(
            "SELECT ts, price, size FROM ticks WHERE symbol_id = %s AND trade_id < 0 "
            "AND ts BETWEEN %s AND %s",
            (sid, int(b.ts[no_id[0]]), int(b.ts[no_id[-1]])),
            ["i8", "f8", "f8"],
        )
        if len(ts):
            stored_keys = c.content_keys(TickBatch(b.symbol, ts, price, size))
            both = np.concatenate([stored_keys, c.content_keys(b, no_id)])
            _, inv = np.unique(both, return_inverse=True)
            seen = np.zeros(inv.max() + 1, dtype=bool)
            seen[inv[: len(ts)]] = True
            keep[no_id[seen[inv[len(ts) :]]]] = False
    return b if keep.all() else b.take(keep)


def windows(
    symbol: str,
    sid: int,
    stats: tuple[Any, ...] | None,
    start: int | None,
    end: int | None,
    chunk: int,
    fetch: Fetch,
) -> Iterator[TickBatch]:
    """Ticks in ``[start, end)`` in batches of at most ``chunk`` rows, in read order.

    ``stats`` is the symbol's (ticks, first_ts, last_ts); each query covers a time window sized
    to hold about ``chunk`` rows on average, so memory stays bounded without server cursors.
    """
    if stats is None or not stats[0]:
        return
    count, first, last = stats
    lo = first if start is None else max(int(start), first)
    hi = last + 1 if end is None else min(int(end), last + 1)
    width = hi - lo if count <= chunk else max(1, -(-(last - first + 1) * chunk // count))
    query = f"{_SELECT} WHERE symbol_id = %s AND ts >= %s AND ts < %s"
    while lo < hi:
        top = min(lo + width, hi)
        got = ticks(symbol, fetch(query, (sid, lo, top), TICK_TYPES))
        for i in range(0, len(got), chunk):
            yield got.take(slice(i, i + chunk))
        lo = top


__all__ = ["TICK_TYPES", "Fetch", "drop_stored", "ticks", "windows"]
