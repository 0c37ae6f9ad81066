"""Lookbacks over the demo's gap (history in February, the kline tape live today) and the default
timeframe of sparse ticks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from statarb import sample
from statarb.dashboard import ui
from statarb.model import TickBatch

TODAY = sample.TAPE_START_US + 283 * 86_400_000_000
DAY = 86_400_000_000


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    """Two days of history ending at the tape's start, then 30 minutes of a tape today."""
    from statarb.store import open_store

    url = f"sqlite:///{tmp_path / 'gap.db'}"
    store = open_store(url)
    try:
        for bars in sample.history_bars(["AVAXUSDT", "LINKUSDT"], end_us=sample.TAPE_START_US):
            store.write_bars(bars.take(slice(-2 * 1440, None)))
            n = 30 * 4  # four trades a minute
            ts = TODAY + np.arange(n, dtype=np.int64) * 15_000_000
            store.write_ticks(TickBatch(bars.symbol, ts, np.full(n, bars.close[-1]), np.ones(n),
                                        trade_id=np.arange(1, n + 1)))  # fmt: skip
    finally:
        store.close()
    yield url


def test_a_lookback_longer_than_the_live_stretch_goes_on_in_the_history(env: str) -> None:
    syms = ["AVAXUSDT", "LINKUSDT"]
    live_start = TODAY
    within = live_start + 60_000_000
    assert ui._over_the_gap(env, syms, within) == within  # inside the live stretch: as it was
    # one day back from 30 live minutes: the other 23.5 hours end where the history ends
    start = ui._over_the_gap(env, syms, live_start + 30 * 60_000_000 - DAY)
    assert start == sample.TAPE_START_US - (DAY - 30 * 60_000_000)


def test_sparse_ticks_default_to_1m_bars(env: str, store_url: str) -> None:
    assert ui.default_timeframe(["AVAXUSDT", "LINKUSDT"]) == "1m"  # 4 ticks a minute
    from statarb.store import open_store

    store = open_store(store_url)
    try:  # one tick, just arrived, is not a dense stream either
        store.write_ticks(TickBatch("NEWUSDT", np.array([TODAY]), np.ones(1), np.ones(1),
                                    trade_id=np.array([1])))  # fmt: skip
    finally:
        store.close()
    ui.data.symbols_table.clear()  # type: ignore[attr-defined]
    assert ui.default_timeframe(["NEWUSDT"]) == "1m"
