"""1m klines replayed as a live tape: the bars a client builds from it are the source klines."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx
import numpy as np
import pytest

from _live_helpers import feed_for, run_until
from statarb import sample
from statarb.bars import BarBuilder
from statarb.errors import InputError
from statarb.ingest.binance import FeedBatch
from statarb.ingest.files import read_file
from statarb.model import BarBatch, TickBatch
from statarb.venue._clock import Clock
from statarb.venue._data import KLINE_ONLY_MINUTES, load_recording
from statarb.venue._klines import OFFSETS_MS, TRADES_PER_KLINE, KlineTape
from statarb.venue._market import Market
from statarb.venue.server import ReplayServer

MONTH = "2026-02"


def _bars_of(ticks: TickBatch) -> BarBatch:
    b = BarBuilder(ticks.symbol, "1m")
    got = b.update(ticks)
    rest = b.close_until(int(ticks.ts[-1]) + 60_000_000)
    cols = [f for f in ("open_time", "open", "high", "low", "close", "volume")]
    merged = {c: np.concatenate([getattr(got, c), getattr(rest, c)]) for c in cols}
    n = len(merged["open_time"])
    return BarBatch(ticks.symbol, "1m", *(merged[c] for c in cols), np.zeros(n), np.zeros(n, int),
                    np.zeros(n))  # fmt: skip


def _assert_same(built: BarBatch, src: BarBatch, qty_decimals: int) -> None:
    assert len(built) == len(src)
    for c in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(getattr(built, c), getattr(src, c), err_msg=c)
    # the client sums the trade sizes in floating point: equal at the quantity step; a kline
    # thinner than its four trades (a minute without trades) is played with one step a trade
    least = np.round(TRADES_PER_KLINE * 10.0**-qty_decimals, qty_decimals)
    np.testing.assert_array_equal(np.round(built.volume, qty_decimals),
                                  np.maximum(src.volume, least))  # fmt: skip


def test_a_kline_becomes_open_extremes_in_the_close_order_then_close() -> None:
    bars = BarBatch("XUSDT", "1m", np.array([0, 60_000_000]), np.array([10.0, 10.0]),
                    np.array([12.0, 12.0]), np.array([9.0, 9.0]), np.array([11.0, 9.5]),
                    np.array([10.0, 3.0]), np.zeros(2), np.zeros(2, int), np.zeros(2))  # fmt: skip
    tape = KlineTape.build(bars, t0_us=0, minutes=2)
    price, size, side = tape.trades(0)
    assert price.tolist() == [10.0, 9.0, 12.0, 11.0, 10.0, 12.0, 9.0, 9.5]
    assert size.tolist() == [2.0, 2.0, 2.0, 4.0, 1.0, 1.0, 1.0, 1.0]  # never an empty trade
    assert side.tolist() == [0, 1, 0, 1, 1, 0, 1, 0]  # taker buys on up-ticks
    ts = tape.batch().ts
    assert ts.tolist()[:TRADES_PER_KLINE] == [o * 1000 for o in OFFSETS_MS]
    assert tape.rows(1).tolist() == [0, 1]  # round the source at its end
    with pytest.raises(InputError, match="XUSDT"):
        KlineTape.build(bars, t0_us=0, minutes=2, start_us=10**12)


def test_passes_walk_forward_through_the_klines_with_rising_ids() -> None:
    (bars,) = sample.history_bars(["LINKUSDT"])
    rec = load_recording([], klines=[bars.take(slice(0, 3 * KLINE_ONLY_MINUTES))])
    market = Market(rec, Clock("original", int(rec.ts[0]), None))
    passes = [market.trades("LINKUSDT", r) for r in range(3)]
    ids = np.concatenate([p.ids for p in passes])
    times = np.concatenate([p.T for p in passes])
    assert (np.diff(ids) == 1).all() and (np.diff(times) > 0).all()
    ticks = TickBatch("LINKUSDT", times * 1000, np.concatenate([p.price for p in passes]),
                      np.concatenate([p.size for p in passes]))  # fmt: skip
    built = _bars_of(ticks)
    np.testing.assert_array_equal(built.open_time, bars.open_time[: 3 * KLINE_ONLY_MINUTES])
    _assert_same(
        built, bars.take(slice(0, 3 * KLINE_ONLY_MINUTES)), rec.prec["LINKUSDT"].qty_decimals
    )


async def test_client_bars_from_the_shipped_tape_equal_the_klines() -> None:
    """The live client (aggTrade stream) builds the packaged klines, beside the recording."""
    klines = sample.history_bars(["AVAXUSDT", "LTCUSDT"])
    srv = ReplayServer(sample.files(), klines=klines, kline_start_us=sample.TAPE_START_US,
                       speed=None, clock="original", loop=True)  # fmt: skip
    async with srv:
        assert srv.rec is not None
        minutes = srv.rec.period_us // 60_000_000
        assert minutes >= 6 and set(srv.rec.tapes) == {"AVAXUSDT", "LTCUSDT"}  # ~6 min recorded
        passes = 3
        queue: asyncio.Queue[FeedBatch] = asyncio.Queue()
        feed = feed_for(srv, ["AVAXUSDT", "LTCUSDT"], queue)
        expect = dict.fromkeys(("AVAXUSDT", "LTCUSDT"), passes * minutes * TRADES_PER_KLINE)
        got = await run_until(feed, queue, expect, timeout=60)
        async with httpx.AsyncClient() as http:
            q = {"symbol": "AVAXUSDT", "interval": "1m", "limit": 3}
            r = await http.get(f"{srv.rest_url}/fapi/v1/klines", params=q)
            assert r.headers["X-Statarb-Synthesised"] == "trades"
            r = await http.get(f"{srv.rest_url}/fapi/v1/premiumIndex", params={"symbol": "LTCUSDT"})
            assert r.headers["X-Statarb-Synthesised"].startswith("trades,markPrice")
            r = await http.get(f"{srv.rest_url}/fapi/v1/depth", params={"symbol": "LTCUSDT"})
            assert "X-Statarb-Synthesised" not in r.headers and r.json()["bids"] == []
            r = await http.get(f"{srv.rest_url}/fapi/v1/ticker/price")
            assert r.headers["X-Statarb-Synthesised"] == "trades" and len(r.json()) == 4
    for src in klines:
        i = int(np.searchsorted(src.open_time, sample.TAPE_START_US))
        want = src.take(slice(i, i + passes * minutes))
        ticks = TickBatch.from_ticks(got.ticks[src.symbol][: passes * minutes * TRADES_PER_KLINE])
        built = _bars_of(ticks[src.symbol])
        assert (np.diff(built.open_time) == 60_000_000).all()  # on the minute grid every pass
        _assert_same(built, want, srv.rec.prec[src.symbol].qty_decimals)
        ids = [t.trade_id for t in got.ticks[src.symbol]]
        assert all(b == a + 1 for a, b in itertools.pairwise(ids))


def test_kline_archives_replay_exactly(shared_data: Path) -> None:
    """data.binance.vision monthly archives given as files: every pass shows the next klines,
    whose bars equal the archive's (volume to the step, as written)."""
    folder = shared_data / "binance-usdm-klines-1m"
    files = [folder / f"{s}-1m-{MONTH}.zip" for s in ("ALGOUSDT", "FILUSDT")]
    start = 4500 * 60_000_000 + 1_769_904_000_000_000  # 2026-02-04 03:00, before a silent minute
    rec = load_recording(files, kline_start_us=start)
    market = Market(rec, Clock("original", int(rec.ts[0]), None))
    for path in files:
        src = next(b for c in read_file(path) for b in c.bars.values())
        sym = src.symbol
        assert sym in rec.tapes
        passes = [market.trades(sym, r) for r in range(2)]
        ticks = TickBatch(sym, np.concatenate([p.T for p in passes]) * 1000,
                          np.concatenate([p.price for p in passes]),
                          np.concatenate([p.size for p in passes]))  # fmt: skip
        built = _bars_of(ticks)
        n = 2 * KLINE_ONLY_MINUTES
        i = int(np.searchsorted(src.open_time, start))
        want = src.take(slice(i, i + n))
        if sym == "ALGOUSDT":
            assert (want.volume == 0).any()  # the stretch holds a minute without trades
        np.testing.assert_array_equal(built.open_time, want.open_time)  # their own times
        _assert_same(built, want, rec.prec[sym].qty_decimals)
