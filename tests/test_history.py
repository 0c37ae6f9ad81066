"""history: bars from stored bars, finer bars or ticks (chunked), aligned legs, on SQLite."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from statarb import history
from statarb.bars import align, resample, resample_bars
from statarb.errors import InputError
from statarb.model import SIDE_BUYER_MAKER, SIDE_BUYER_TAKER, BarBatch, TickBatch
from statarb.store import open_store

T0 = 1_722_000_000_000_000  # 2024-07-26T13:20:00Z, a whole minute


def synthetic(symbol: str, n: int, seed: int, gap_us: float = 700_000.0) -> TickBatch:
    rng = np.random.default_rng(seed)
    ts = T0 + np.cumsum(rng.exponential(gap_us, n).astype(np.int64))
    ts[5:8] = ts[5]  # ties in time
    ts[200:] += 3_600_000_000  # an hour without trades
    price = 100.0 + np.cumsum(rng.normal(0, 0.1, n))
    size = rng.exponential(1.0, n) + 0.001
    side = rng.choice([SIDE_BUYER_MAKER, SIDE_BUYER_TAKER], n).astype(np.int8)
    return TickBatch(symbol, ts, price, size, side=side, trade_id=np.arange(n) + 1)


def assert_same(a: BarBatch, b: BarBatch) -> None:
    assert (a.symbol, a.timeframe) == (b.symbol, b.timeframe)
    assert_array_equal(a.open_time, b.open_time)
    for c in ("open", "high", "low", "close", "trades"):
        assert_array_equal(getattr(a, c), getattr(b, c), err_msg=c)
    for c in ("volume", "notional", "taker_buy_volume"):
        assert_allclose(getattr(a, c), getattr(b, c), rtol=1e-12, err_msg=c)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, sqlite_url):
    """Both real backends, holding two symbols' ticks (PostgreSQL: a schema dropped after)."""
    url, schema = sqlite_url, None
    if request.param == "postgres":
        dsn = request.getfixturevalue("postgres_dsn")
        schema = f"statarb_test_history_{uuid.uuid4().hex[:10]}"
        url = f"{dsn}?schema={schema}"
    s = open_store(url)
    try:
        s.write_ticks(synthetic("BTCUSDT", 600, 1))
        s.write_ticks(synthetic("ETHUSDT", 500, 2, gap_us=900_000.0))
        yield s
    finally:
        s.close()
        if schema is not None:
            import psycopg

            with psycopg.connect(dsn, autocommit=True) as con:
                con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.parametrize("tf", ["1s", "1m", "5m", "1h"])
def test_bars_from_ticks_in_chunks_equal_resample(store, monkeypatch, tf):
    monkeypatch.setattr(history, "TICK_CHUNK", 7)  # bars span chunk boundaries
    ticks = store.read_ticks("BTCUSDT")
    assert_same(history.load_bars(store, "btcusdt", tf), resample(ticks, tf))
    start, end = T0 + 61_000_000, T0 + 4_000_000_000
    got = history.load_bars(store, "BTCUSDT", tf, start, end, empty="carry")
    assert_same(got, resample(ticks, tf, start=start, end=end, empty="carry"))
    assert (got.open_time >= start).all() and (got.open_time < end).all()


def test_stored_bars_win_and_finer_bars_are_resampled(store):
    ticks = store.read_ticks("BTCUSDT")
    one = resample(ticks, "1m")
    five = resample(ticks, "5m")
    five_marked = BarBatch(
        "BTCUSDT", "5m", five.open_time, five.open, five.high, five.low, five.close,
        five.volume * 2, five.notional, five.trades, five.taker_buy_volume,
    )  # fmt: skip
    store.write_bars(one)
    store.write_bars(five_marked)
    assert history.available_timeframes(store, "BTCUSDT") == ["1m", "5m"]
    assert_same(history.load_bars(store, "BTCUSDT", "1m"), one)
    assert_same(history.load_bars(store, "BTCUSDT", "5m"), five_marked)
    # 15m comes from the coarsest stored divisor (5m, doubled volume), not from 1m or ticks
    got = history.load_bars(store, "BTCUSDT", "15m")
    assert_same(got, resample_bars(five_marked, "15m"))
    assert_allclose(got.volume, 2 * resample(ticks, "15m").volume)
    # 90s is no multiple of 1m or 5m: built from the ticks
    assert_same(history.load_bars(store, "BTCUSDT", "90s"), resample(ticks, "90s"))
    # a range selects bars by open time
    sel = history.load_bars(store, "BTCUSDT", "1m", int(one.open_time[2]), int(one.open_time[5]))
    assert_same(sel, one.take(slice(2, 5)))


def test_carry_stops_at_the_last_stored_data(store):
    ticks = store.read_ticks("BTCUSDT")
    last = int(ticks.ts[-1])
    got = history.load_bars(store, "BTCUSDT", "1m", end=last + 3_600_000_000, empty="carry")
    assert got.open_time[-1] == last - last % 60_000_000  # no bars invented after the data
    assert_same(got, resample(ticks, "1m", empty="carry"))


def test_unknown_symbol_and_bad_input(store):
    with pytest.raises(InputError, match=r"DOGEUSDT.*BTCUSDT, ETHUSDT"):
        history.load_bars(store, "DOGEUSDT", "1m")
    with pytest.raises(InputError, match="timeframe"):
        history.load_bars(store, "BTCUSDT", "1y")
    with pytest.raises(InputError, match="before end"):
        history.load_bars(store, "BTCUSDT", "1m", T0 + 10, T0)
    with pytest.raises(InputError, match="non-empty"):
        history.load_aligned(store, "BTCUSDT", "1m")
    assert history.available_timeframes(store, "ETHUSDT") == []


def test_load_aligned_is_align_of_load_bars(store):
    legs = {s: history.load_bars(store, s, "1m") for s in ("BTCUSDT", "ETHUSDT")}
    got = history.load_aligned(store, ["BTCUSDT", "ETHUSDT"], "1m", max_staleness_bars=2)
    ref = align(legs, max_staleness=2 * 60_000_000)
    assert got.equals(ref) and len(got) >= 5
    exact = history.load_aligned(store, ["btcusdt", "ethusdt"], "1m", max_staleness_bars=0)
    assert exact.equals(align(legs)) and list(exact.columns) == ["BTCUSDT", "ETHUSDT"]
