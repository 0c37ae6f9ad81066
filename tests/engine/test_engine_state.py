"""Recent-bar windows of the engine: ordered appends, history seeding, time going back."""

from __future__ import annotations

import numpy as np

from statarb.engine._live import RecentBars, aligned_closes, live_zscore
from statarb.model import BarBatch

M = 60_000_000


def _bars(times: list[int], closes: list[float]) -> BarBatch:
    n = len(times)
    one = np.ones(n)
    c = np.array(closes)
    return BarBatch("X", "1m", np.array(times, dtype=np.int64), c, c, c, c, one, c,
                    np.ones(n, dtype=np.int64), one)  # fmt: skip


def test_seed_puts_only_older_history_in_front_and_keeps_the_window() -> None:
    r = RecentBars(5)
    r.add(_bars([10 * M, 11 * M], [10.0, 11.0]))
    assert r.seed(_bars([6 * M, 7 * M, 8 * M, 9 * M, 10 * M], [6.0, 7.0, 8.0, 9.0, 99.0])) == 4
    times, closes = r.arrays()
    assert times.tolist() == [7 * M, 8 * M, 9 * M, 10 * M, 11 * M]
    assert closes.tolist() == [7.0, 8.0, 9.0, 10.0, 11.0]


def test_bars_going_back_in_time_restart_the_window() -> None:
    r = RecentBars(10)
    r.seed(_bars([100 * M, 101 * M], [1.0, 2.0]))  # e.g. history of a later replay round
    r.add(_bars([5 * M], [3.0]))
    assert r.arrays()[0].tolist() == [5 * M]


def test_aligned_closes_and_live_zscore() -> None:
    a, b = RecentBars(10), RecentBars(10)
    a.add(_bars([1 * M, 2 * M, 3 * M], [1.0, 2.0, 3.0]))
    b.add(_bars([2 * M, 3 * M, 4 * M], [20.0, 30.0, 40.0]))
    t, ya, xb = aligned_closes(a, b)
    assert t.tolist() == [2 * M, 3 * M] and ya.tolist() == [2.0, 3.0] and xb.tolist() == [20, 30]
    s = np.array([1.0, 2.0, 3.0, 4.0])
    assert live_zscore(s, 5.0) == (5.0 - s.mean()) / s.std(ddof=1)
    assert live_zscore(np.ones(5), 1.0) is None and live_zscore(s[:1], 1.0) is None
