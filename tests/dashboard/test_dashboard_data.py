"""Live reads of the dashboard: the incremental window equals a full read at every step."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import streamlit as st

from statarb.dashboard import analysis, client, data
from statarb.history import load_aligned
from statarb.model import BarBatch
from statarb.store import open_store
from statarb.store.base import TickStore

T0 = 1_723_161_600_000_000
SEC = 1_000_000


def _bars(symbol: str, lo: int, hi: int, shift: float = 0.0) -> BarBatch:
    i = np.arange(lo, hi)
    close = 100 + np.sin(i / 7) + shift + (5 if symbol == "BBBUSDT" else 0)
    ones = np.ones(len(i))
    return BarBatch(symbol, "1s", T0 + i * SEC, close, close + 0.1, close - 0.1, close, ones,
                    close, i % 5 + 1, ones / 2)  # fmt: skip


@pytest.fixture
def writer(sqlite_url: str) -> Iterator[TickStore]:
    st.cache_resource.clear()
    store = open_store(sqlite_url)
    yield store
    store.close()
    st.cache_resource.clear()


def _full(store: TickStore, start: int | None = None) -> pd.DataFrame:
    return load_aligned(store, ["AAAUSDT", "BBBUSDT"], "1s", start, None).dropna()


def test_live_window_follows_new_and_rewritten_bars(writer: TickStore, sqlite_url: str) -> None:
    syms = ("AAAUSDT", "BBBUSDT")
    writer.write_bars(_bars("AAAUSDT", 0, 100))
    writer.write_bars(_bars("BBBUSDT", 3, 100))
    first = data.live_closes(sqlite_url, syms, "1s", None)
    pd.testing.assert_frame_equal(first, _full(writer))
    writer.write_bars(_bars("AAAUSDT", 98, 130, shift=1.0))  # two bars rewritten, new ones
    writer.write_bars(_bars("BBBUSDT", 100, 125))
    second = data.live_closes(sqlite_url, syms, "1s", None)
    pd.testing.assert_frame_equal(second, _full(writer))
    # BBB's last close is carried one bar (the alignment's staleness bound), like a full read
    assert second.index[-1] == pd.Timestamp(T0 + 125 * SEC, unit="us", tz="UTC")
    at_99 = pd.Timestamp(T0 + 99 * SEC, unit="us", tz="UTC")
    assert second.loc[at_99, "AAAUSDT"] == pytest.approx(101 + np.sin(99 / 7))
    unchanged = data.live_closes(sqlite_url, syms, "1s", None)
    pd.testing.assert_frame_equal(unchanged, second)


def test_live_window_trims_to_a_moving_start(writer: TickStore, sqlite_url: str) -> None:
    syms = ("AAAUSDT", "BBBUSDT")
    for s in syms:
        writer.write_bars(_bars(s, 0, 200))
    for start_s in (50, 80, 20):  # 20: before the kept window, so read again from the store
        start = T0 + start_s * SEC
        got = data.live_closes(sqlite_url, syms, "1s", start)
        pd.testing.assert_frame_equal(got, _full(writer, start), check_freq=False)
        assert got.index[0] == pd.Timestamp(start, unit="us", tz="UTC")


def test_symbols_typed_by_the_user_are_validated() -> None:
    from statarb.dashboard.ui import parse_symbols

    assert parse_symbols(" btcusdt, ETHUSDT;btcusdt\n1000pepeusdt ") == (
        ["BTCUSDT", "ETHUSDT", "1000PEPEUSDT"],
        [],
    )
    assert parse_symbols("eth-usdt x btc/usdt") == ([], ["eth-usdt", "x", "btc/usdt"])


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, "-"), (85.4, "85 ms"), (2_400.0, "2.4 s"), (90_000.0, "1.5 min"),
     (11_160_000.0, "3.1 h"), (72_414_372_328.9, "838.1 d")],
)  # fmt: skip
def test_lag_fits_a_card(ms: float | None, text: str) -> None:
    from statarb.dashboard.ui import fmt_lag

    assert fmt_lag(ms) == text


def test_feed_summary_sums_the_feeds() -> None:
    def stats(**kw: object) -> dict[str, object]:
        return {"connected": True, "messages": 10, "gaps": 1, "backfilled": 3,
                "latency_p50_ms": 20.0, **kw}  # fmt: skip

    status = {"feeds": [{"symbols": ["ETHUSDT"], "stats": stats()},
                        {"symbols": ["BTCUSDT"], "stats": stats(connected=False, messages=5,
                                                                latency_p50_ms=None)}]}  # fmt: skip
    assert client.feed_summary(status) == {"feeds": 2, "connected": False, "messages": 15,
                                         "lag_ms": 20.0, "gaps": 2, "backfilled": 6,
                                         "symbols": ["BTCUSDT", "ETHUSDT"]}  # fmt: skip
    assert client.feed_summary({"feeds": []})["connected"] is False


def test_shorter_rolling_series_sit_at_the_end_of_the_index() -> None:
    np.testing.assert_array_equal(analysis.on_index([1.0, 2.0], 4), [np.nan, np.nan, 1.0, 2.0])
    np.testing.assert_array_equal(analysis.on_index(pd.Series([3.0, 4.0]), 2), [3.0, 4.0])
    with pytest.raises(ValueError, match="3 values cannot sit on 2 rows"):
        analysis.on_index([1.0, 2.0, 3.0], 2)


def test_verdicts_read_the_pair_summary() -> None:
    v = analysis.verdicts(
        {"adf_pvalue": 0.01, "eg_pvalue": 0.2, "half_life": float("inf")}, bar_seconds=1.0
    )
    assert v == {"ADF": "spread stationary (p=0.0100)",
                 "Cointegration": "not cointegrated (p=0.2000)",
                 "Half-life": "no mean reversion"}  # fmt: skip
    assert analysis.verdicts({"half_life": 90.0}, 60.0) == {"Half-life": "90.0 bars (1.5 h)"}
    assert analysis.verdicts({"half_life": 12.5}, 1.0) == {"Half-life": "12.5 bars (12.5 s)"}
    assert analysis.verdicts({"half_life": None}, 1.0) == {}
