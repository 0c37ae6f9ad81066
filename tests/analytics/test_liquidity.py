import numpy as np
import pytest

from statarb.analytics.liquidity import (
    liquid_pairs,
    liquidity_filter,
    liquidity_stats,
    quoted_spread_bps,
)
from statarb.model import BarBatch, QuoteBatch


def _bars(n, notional):
    z = np.ones(n)
    return BarBatch(
        "X", "1m", np.arange(n) * 60_000_000, z, z, z, z, z * 2, z * notional, np.full(n, 4), z
    )


def test_stats_and_window():
    st = liquidity_stats(_bars(10, 100.0))
    assert (st.volume, st.notional, st.trades, st.bars) == (20.0, 1000.0, 40, 10)
    assert st.avg_trade_notional == 25.0
    assert liquidity_stats(_bars(10, 100.0), window=3).notional == 300.0


def test_quoted_spread():
    q = QuoteBatch("X", np.arange(2), [99.0, 100.0], [1, 1], [101.0, 100.2], [1, 1])
    expected = np.mean([2 / 100, 0.2 / 100.1]) * 1e4
    assert quoted_spread_bps(q) == pytest.approx(expected)
    assert liquidity_stats(_bars(3, 1.0), quotes=q).spread_bps == pytest.approx(expected)


def test_filters():
    stats = {
        "A": liquidity_stats(_bars(5, 1000.0)),
        "B": liquidity_stats(_bars(5, 10.0)),
        "C": liquidity_stats(_bars(5, 500.0)),
    }
    assert liquidity_filter(stats, min_notional=1000) == ["A", "C"]
    assert liquid_pairs([("A", "B"), ("A", "C")], stats, min_notional=1000) == [("A", "C")]
