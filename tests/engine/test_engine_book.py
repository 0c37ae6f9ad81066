"""The engine's book component on a real store: warm-up from stored bars, then bar by bar."""

from __future__ import annotations

import time

import numpy as np

from statarb.engine._book import PairBook
from statarb.engine._events import NullHub
from statarb.model import BarBatch
from statarb.store import open_store

T0 = 1_723_000_000_000_000 // 60_000_000 * 60_000_000  # 2024-08, on a minute boundary


def _bars(symbol: str, close: np.ndarray) -> BarBatch:
    n = len(close)
    return BarBatch(symbol, "1m", T0 + np.arange(n) * 60_000_000, close, close, close, close,
                    np.ones(n), close, np.ones(n, np.int64), np.full(n, 0.5))  # fmt: skip


async def test_a_pair_with_history_that_ended_long_ago_is_analysed_from_its_last_bars(
    sqlite_url: str,
) -> None:
    rng = np.random.default_rng(0)
    x = 100 + np.cumsum(rng.normal(0, 0.1, 300))
    y = 1.5 * x + 20 + rng.normal(0, 0.1, 300)
    store = open_store(sqlite_url)
    try:
        store.write_bars(_bars("AAAUSDT", y))
        store.write_bars(_bars("BBBUSDT", x))

        def now() -> int:
            return time.time_ns() // 1000

        book = PairBook(store, NullHub, timeframes=["1m"], on_metrics=lambda *a: None,
                        on_latency=lambda us: None, clock=now)  # fmt: skip
        settings = {"window": 20, "z_window": 20, "coint_window": 40, "coint_every": 5}
        entry = await book.add("AAAUSDT", "BBBUSDT", "1m", settings)
        (row,) = book.rows()
        need = max(entry.settings.warmup, entry.settings.coint_window) + entry.settings.coint_every
        assert row["analytics"]["bars"] == need  # the pair's last stored bars, not "now"
        assert row["analytics"]["time"] == T0 + 299 * 60_000_000
        assert abs(row["analytics"]["hedge_ratio"] - 1.5) < 0.3
        assert row["analytics"]["health"] != "warming" and len(row["zscores"]) == need
    finally:
        store.close()
