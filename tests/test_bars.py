"""Bars: resample, resample_bars, BarBuilder and align against pandas and ground truth."""

from __future__ import annotations

import gzip
import itertools
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from statarb.bars import BarBuilder, align, fill_empty, resample, resample_bars
from statarb.errors import InputError
from statarb.model import (
    BAR_COLUMNS,
    SIDE_BUYER_MAKER,
    SIDE_BUYER_TAKER,
    SIDE_UNKNOWN,
    BarBatch,
    TickBatch,
    Timeframe,
)

SYM = "BTCUSDT"
EXACT = ("open", "high", "low", "close", "trades")
SUMS = ("volume", "notional", "taker_buy_volume")


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def pandas_bars(ticks: TickBatch, tf: str, empty: str = "omit") -> pd.DataFrame:
    """The reference: pandas resample on the epoch with left-closed, left-labelled bins."""
    frame = pd.DataFrame(
        {
            "price": ticks.price,
            "size": ticks.size,
            "notional": ticks.price * ticks.size,
            "tb": np.where(ticks.side == SIDE_BUYER_TAKER, ticks.size, 0.0),
        },
        index=pd.DatetimeIndex(ticks.ts.astype("datetime64[us]")).tz_localize("UTC"),
    ).sort_index(kind="stable")
    r = frame.resample(Timeframe.parse(tf).pandas_freq, origin="epoch", closed="left", label="left")
    out = pd.DataFrame(
        {
            "open": r["price"].first(),
            "high": r["price"].max(),
            "low": r["price"].min(),
            "close": r["price"].last(),
            "volume": r["size"].sum(),
            "notional": r["notional"].sum(),
            "trades": r["price"].count(),
            "taker_buy_volume": r["tb"].sum(),
        }
    )
    if empty == "omit":
        return out[out["trades"] > 0]
    close = out["close"].ffill()
    for c in ("open", "high", "low", "close"):
        out[c] = out[c].fillna(close)
    return out


def assert_bars_equal(ours: BarBatch, ref: pd.DataFrame) -> None:
    got = ours.to_frame()
    assert_array_equal(got.index.as_unit("us").asi8, ref.index.as_unit("us").asi8)
    for c in EXACT:
        assert_array_equal(got[c].to_numpy(), ref[c].to_numpy(), err_msg=c)
    for c in SUMS:
        assert_allclose(got[c].to_numpy(), ref[c].to_numpy(), rtol=1e-12, atol=1e-9, err_msg=c)


def assert_batches_equal(a: BarBatch, b: BarBatch) -> None:
    assert a.symbol == b.symbol and a.timeframe == b.timeframe
    assert_array_equal(a.open_time, b.open_time)
    for c in EXACT:
        assert_array_equal(getattr(a, c), getattr(b, c), err_msg=c)
    for c in SUMS:
        assert_allclose(getattr(a, c), getattr(b, c), rtol=1e-12, atol=1e-9, err_msg=c)


def concat_bars(parts: list[BarBatch], tf: str) -> BarBatch:
    parts = [p for p in parts if len(p)]
    if not parts:
        return BarBatch.empty(SYM, tf)
    return BarBatch(
        parts[0].symbol,
        tf,
        np.concatenate([p.open_time for p in parts]),
        *(np.concatenate([getattr(p, c) for p in parts]) for c in BAR_COLUMNS),
    )


tick_rows = st.lists(
    st.tuples(
        st.integers(0, 3_000_000),  # small time range: many ties and multi-tick bars
        st.floats(1.0, 1000.0, allow_nan=False, allow_infinity=False),
        st.floats(0.001, 10.0, allow_nan=False, allow_infinity=False),
        st.sampled_from([SIDE_BUYER_MAKER, SIDE_BUYER_TAKER, SIDE_UNKNOWN]),
    ),
    min_size=1,
    max_size=80,
)
gappy_rows = st.lists(
    st.tuples(
        st.integers(0, 60).map(lambda k: k * 250_000),  # coarse grid: ties and gaps
        st.integers(1, 500).map(float),
        st.floats(0.001, 10.0, allow_nan=False, allow_infinity=False),
        st.sampled_from([SIDE_BUYER_MAKER, SIDE_BUYER_TAKER]),
    ),
    min_size=1,
    max_size=60,
)
timeframes = st.sampled_from(["1ms", "250ms", "1s", "3s"])


def make_ticks(rows: list[tuple[int, float, float, int]], offset: int = 1_700_000_000_000_000):
    ts, price, size, side = zip(*rows, strict=True)
    return TickBatch(SYM, np.array(ts) + offset, price, size, side=side)


# ------------------------------------------------------------------------------------------
# resample vs pandas
# ------------------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(
    rows=st.one_of(tick_rows, gappy_rows), tf=timeframes, empty=st.sampled_from(["omit", "carry"])
)
def test_resample_matches_pandas(rows, tf, empty):
    ticks = make_ticks(rows)  # unsorted on purpose: rows come in random order
    assert_bars_equal(resample(ticks, tf, empty=empty), pandas_bars(ticks, tf, empty))


def test_resample_single_tick_bars_and_open_time():
    ticks = TickBatch(SYM, [60_000_001, 10, 59_999_999, 180_000_000], [1.0, 2.0, 3.0, 4.0], [1] * 4)
    bars = resample(ticks, "1m")
    assert_array_equal(bars.open_time, [0, 60_000_000, 180_000_000])
    assert_array_equal(bars.open, [2.0, 1.0, 4.0])
    assert_array_equal(bars.close, [3.0, 1.0, 4.0])
    assert_array_equal(bars.trades, [2, 1, 1])


def test_resample_ties_keep_input_order():
    ticks = TickBatch(SYM, [5, 5, 5, 1], [1.0, 2.0, 3.0, 9.0], [1.0, 1.0, 1.0, 1.0])
    bars = resample(ticks, "1s")
    assert (bars.open[0], bars.close[0], bars.high[0], bars.low[0]) == (9.0, 3.0, 9.0, 1.0)


def test_resample_taker_buy_volume_counts_buyer_taker_only():
    ticks = TickBatch(
        SYM,
        [1, 2, 3],
        [1.0, 1.0, 1.0],
        [1.0, 2.0, 4.0],
        side=[SIDE_BUYER_TAKER, SIDE_BUYER_MAKER, SIDE_UNKNOWN],
    )
    assert resample(ticks, "1s").taker_buy_volume.tolist() == [1.0]


def test_resample_start_end_select_whole_bars():
    ts = np.arange(0, 10_000_000, 100_000)
    ticks = TickBatch(SYM, ts, np.arange(len(ts), dtype=float), np.ones(len(ts)))
    bars = resample(ticks, "1s", start=2_500_000, end=6_000_000)
    assert_array_equal(bars.open_time, [3_000_000, 4_000_000, 5_000_000])
    assert_array_equal(bars.trades, [10, 10, 10])
    assert bars.open[0] == 30.0


def test_resample_carry_fills_up_to_end_after_first_trade():
    ticks = TickBatch(SYM, [1_500_000, 1_600_000], [10.0, 11.0], [1.0, 2.0])
    bars = resample(ticks, "1s", empty="carry", start=0, end=4_000_000)
    # no bar before the first trade (no price known), carried bars after it up to end
    assert_array_equal(bars.open_time, [1_000_000, 2_000_000, 3_000_000])
    assert_array_equal(bars.close, [11.0, 11.0, 11.0])
    assert_array_equal(bars.open[1:], [11.0, 11.0])
    assert_array_equal(bars.volume, [3.0, 0.0, 0.0])
    assert_array_equal(bars.trades, [2, 0, 0])


def test_resample_empty_input_and_errors():
    assert len(resample(TickBatch.empty(SYM), "1m")) == 0
    assert len(resample(TickBatch.empty(SYM), "1m", empty="carry")) == 0
    ticks = TickBatch(SYM, [1, 2], [1.0, np.nan], [1.0, 1.0])
    with pytest.raises(InputError, match="non-finite"):
        resample(ticks, "1m")
    with pytest.raises(InputError, match="non-finite"):
        resample(TickBatch(SYM, [1], [1.0], [np.inf]), "1m")
    with pytest.raises(InputError, match="timeframe"):
        resample(TickBatch(SYM, [1], [1.0], [1.0]), "7x")
    with pytest.raises(InputError, match="empty"):
        resample(TickBatch(SYM, [1], [1.0], [1.0]), "1m", empty="zero")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="before end"):
        resample(TickBatch(SYM, [1], [1.0], [1.0]), "1m", start=5, end=5)


# ------------------------------------------------------------------------------------------
# resample_bars
# ------------------------------------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(rows=st.one_of(tick_rows, gappy_rows), empty=st.sampled_from(["omit", "carry"]))
def test_resample_bars_equals_resample_of_ticks(rows, empty):
    ticks = make_ticks(rows)
    fine = resample(ticks, "250ms", empty=empty)
    for coarse in ("250ms", "1s", "3s"):
        assert_batches_equal(resample_bars(fine, coarse), resample(ticks, coarse, empty=empty))


def test_resample_bars_rejects_non_multiple_and_unsorted():
    bars = resample(TickBatch(SYM, [0, 61_000_000], [1.0, 2.0], [1.0, 1.0]), "1m")
    with pytest.raises(InputError, match="multiple"):
        resample_bars(bars, "90s")
    with pytest.raises(InputError, match="multiple"):
        resample_bars(bars, "30s")
    with pytest.raises(InputError, match="increasing"):
        resample_bars(bars.take([1, 0]), "5m")


def _kline_bars(path: Path) -> tuple[BarBatch, pd.DataFrame]:
    with zipfile.ZipFile(path) as zf, zf.open(zf.namelist()[0]) as fh:
        raw = pd.read_csv(fh)
    frame = pd.DataFrame(
        {
            "open": raw["open"],
            "high": raw["high"],
            "low": raw["low"],
            "close": raw["close"],
            "volume": raw["volume"],
            "notional": raw["quote_volume"],
            "trades": raw["count"],
            "taker_buy_volume": raw["taker_buy_volume"],
        }
    )
    frame.index = pd.to_datetime(raw["open_time"], unit="ms", utc=True).rename("time")
    return BarBatch.from_frame(path.name.split("-")[0], "1m", frame), frame


@pytest.mark.parametrize("name", ["LINKUSDT-1m-2026-02.zip", "AVAXUSDT-1m-2023-02.zip"])
def test_resample_bars_real_klines_match_pandas(shared_data, name):
    bars, frame = _kline_bars(shared_data / "binance-usdm-klines-1m" / name)
    assert len(bars) == 40_320
    for tf in ("5m", "1h", "1d"):
        r = frame.resample(Timeframe.parse(tf).pandas_freq, origin="epoch", closed="left")
        ref = pd.DataFrame(
            {
                "open": r["open"].first(),
                "high": r["high"].max(),
                "low": r["low"].min(),
                "close": r["close"].last(),
                "volume": r["volume"].sum(),
                "notional": r["notional"].sum(),
                "trades": r["trades"].sum(),
                "taker_buy_volume": r["taker_buy_volume"].sum(),
            }
        )
        ours = resample_bars(bars, tf)
        assert len(ours) == 40_320 * 60 // Timeframe.parse(tf).seconds
        assert_bars_equal(ours, ref)


def _recorded_trades(path: Path) -> TickBatch:
    """Trades (``@trade`` frames) of a recorded Binance USD-M WebSocket file, in arrival order."""
    rows = []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if '@trade"' not in line:
                continue
            d = json.loads(line.split(" ", 1)[1])["data"]
            rows.append((d["T"] * 1000, float(d["p"]), float(d["q"]), int(d["m"]), d["t"]))
    ts, price, size, side, tid = zip(*rows, strict=True)
    return TickBatch(d["s"], ts, price, size, side=side, trade_id=tid)


@pytest.mark.parametrize("name", ["btcusdt_20240808.gz", "ethusdt_20240719.gz"])
def test_real_trades_resample_and_builder_match_pandas(shared_data, name):
    ticks = _recorded_trades(shared_data / "binance-usdm-recorded" / name)
    assert len(ticks) > 9000
    for tf in ("1s", "15s", "1m"):
        for empty in ("omit", "carry"):
            bars = resample(ticks, tf, empty=empty)
            assert_bars_equal(bars, pandas_bars(ticks, tf, empty))
        builder = BarBuilder(ticks.symbol, tf)
        parts = [builder.update(ticks.take(slice(i, i + 97))) for i in range(0, len(ticks), 97)]
        parts.append(builder.close_until(int(ticks.ts[-1]) + Timeframe.parse(tf).us))
        got = concat_bars(parts, tf)
        assert_batches_equal(got, resample(ticks, tf))
    assert resample_bars(resample(ticks, "1s"), "1m").trades.sum() == len(ticks)


# ------------------------------------------------------------------------------------------
# BarBuilder == resample for any split
# ------------------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(
    rows=st.one_of(tick_rows, gappy_rows),
    tf=timeframes,
    empty=st.sampled_from(["omit", "carry"]),
    cuts=st.lists(st.integers(0, 80), max_size=10),
)
def test_builder_equals_resample_for_any_split(rows, tf, empty, cuts):
    ticks = make_ticks(rows)
    ticks = ticks.take(np.argsort(ticks.ts, kind="stable"))  # a time-ordered stream
    bounds = sorted({0, len(ticks), *(c for c in cuts if c < len(ticks))})
    builder = BarBuilder(SYM, tf, empty=empty)
    parts = [builder.update(ticks.take(slice(a, b))) for a, b in itertools.pairwise(bounds)]
    partial = builder.partial
    assert partial is not None
    parts.append(builder.close_until(partial.open_time + Timeframe.parse(tf).us))
    assert builder.partial is None and builder.late == 0
    assert_batches_equal(concat_bars(parts, tf), resample(ticks, tf, empty=empty))


@settings(max_examples=100, deadline=None)
@given(
    rows=st.one_of(tick_rows, gappy_rows),
    tf=timeframes,
    empty=st.sampled_from(["omit", "carry"]),
    cuts=st.lists(st.integers(0, 80), max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_builder_sorts_within_batches_like_resample(rows, tf, empty, cuts, seed):
    """Batches in time order, each shuffled inside: the builder orders ticks as a stable sort."""
    ticks = make_ticks(rows)
    ticks = ticks.take(np.argsort(ticks.ts, kind="stable"))
    bounds = sorted({0, len(ticks), *(c for c in cuts if c < len(ticks))})
    rng = np.random.default_rng(seed)
    batches = [ticks.take(a + rng.permutation(b - a)) for a, b in itertools.pairwise(bounds)]
    builder = BarBuilder(SYM, tf, empty=empty)
    parts = [builder.update(b) for b in batches]
    parts.append(builder.close_until(int(ticks.ts[-1]) + Timeframe.parse(tf).us))
    assert builder.late == 0 and builder.partial is None
    ref = resample(TickBatch.concat(batches), tf, empty=empty)
    assert_batches_equal(concat_bars(parts, tf), ref)


def test_builder_closes_only_on_later_tick_or_clock():
    b = BarBuilder(SYM, "1m")
    assert len(b.update(TickBatch(SYM, [1_000_000, 2_000_000], [1.0, 2.0], [1.0, 1.0]))) == 0
    assert b.partial is not None and b.partial.close == 2.0
    assert len(b.close_until(59_999_999)) == 0  # the interval has not ended yet
    closed = b.close_until(60_000_000)
    assert closed.close.tolist() == [2.0] and b.partial is None
    assert len(b.close_until(10**12)) == 0


def test_builder_late_ticks_are_counted_and_ignored():
    b = BarBuilder(SYM, "1m")
    b.update(TickBatch(SYM, [61_000_000], [5.0], [1.0]))
    out = b.update(
        TickBatch(SYM, [59_000_000, 62_000_000, 130_000_000], [9.0, 6.0, 7.0], [1.0] * 3)
    )
    assert b.late == 1
    assert out.open_time.tolist() == [60_000_000]
    assert (out.high[0], out.close[0], out.trades[0]) == (6.0, 6.0, 2)
    b.close_until(180_000_000)
    b.update(TickBatch(SYM, [179_000_000], [1.0], [1.0]))  # its bar is already final
    assert b.late == 2 and b.partial is None


def test_builder_merges_out_of_order_ticks_inside_open_bar_by_time():
    stream = TickBatch(SYM, [10, 30_000_000, 20, 40_000_000], [1.0, 2.0, 3.0, 4.0], [1.0] * 4)
    b = BarBuilder(SYM, "1m")
    b.update(stream.take(slice(0, 2)))
    b.update(stream.take(slice(2, 4)))
    assert_batches_equal(b.close_until(60_000_000), resample(stream, "1m"))


def test_builder_carry_emits_empty_intervals_on_clock():
    b = BarBuilder(SYM, "1s", empty="carry")
    b.update(TickBatch(SYM, [100], [5.0], [1.0]))
    out = b.close_until(3_500_000)
    assert out.open_time.tolist() == [0, 1_000_000, 2_000_000]
    assert out.close.tolist() == [5.0, 5.0, 5.0] and out.trades.tolist() == [1, 0, 0]
    out = b.update(TickBatch(SYM, [5_200_000, 6_000_001], [6.0, 7.0], [1.0, 1.0]))
    assert out.open_time.tolist() == [3_000_000, 4_000_000, 5_000_000]
    assert out.close.tolist() == [5.0, 5.0, 6.0]


def test_builder_rejects_other_symbol():
    with pytest.raises(InputError, match="ETHUSDT"):
        BarBuilder(SYM, "1m").update(TickBatch("ETHUSDT", [1], [1.0], [1.0]))


# ------------------------------------------------------------------------------------------
# align
# ------------------------------------------------------------------------------------------
bar_times = st.lists(st.integers(0, 40), min_size=0, max_size=30, unique=True)


def _bars_at(slots: list[int], seed: int) -> BarBatch:
    ot = np.sort(np.array(slots, dtype=np.int64)) * 1_000_000
    close = np.random.default_rng(seed).normal(100, 1, len(ot))
    ones = np.ones(len(ot))
    return BarBatch(SYM, "1s", ot, close, close, close, close, ones, close, ones, ones)


@settings(max_examples=150, deadline=None)
@given(
    legs=st.lists(bar_times, min_size=2, max_size=3),
    stale=st.one_of(st.none(), st.integers(0, 5).map(lambda k: k * 1_000_000 + k)),
)
def test_align_matches_merge_asof_and_never_carries_too_far(legs, stale):
    bars = {f"S{i}": _bars_at(slots, i) for i, slots in enumerate(legs)}
    got = align(bars, max_staleness=stale)
    times = np.unique(np.concatenate([b.open_time for b in bars.values()]))
    ref = pd.DataFrame({"time": pd.to_datetime(times, unit="us", utc=True)})
    for name, b in bars.items():
        leg = b.to_frame()[["close"]].rename(columns={"close": name}).reset_index()
        if stale is None:
            ref = ref.merge(leg, on="time", how="left")
        else:
            ref = pd.merge_asof(
                ref, leg, on="time", direction="backward", tolerance=pd.Timedelta(stale, "us")
            )
    ref = ref.dropna().set_index("time")
    assert_array_equal(got.index.as_unit("us").asi8, ref.index.as_unit("us").asi8)
    assert_array_equal(got.to_numpy(), ref[list(bars)].to_numpy())
    # ground truth: each value comes from that leg's last bar at or before the row, not too old
    for name, b in bars.items():
        t = got.index.as_unit("us").asi8
        src = np.searchsorted(b.open_time, t, side="right") - 1
        assert (src >= 0).all()
        assert (t - b.open_time[src] <= (stale or 0)).all()
        assert_array_equal(got[name].to_numpy(), b.close[src])


def test_align_frame_shape_and_errors():
    a, b = _bars_at([0, 1, 2, 3], 1), _bars_at([1, 3], 2)
    out = align({"A": a, "B": b}, field="vwap")
    assert str(out.index.tz) == "UTC" and out.index.name == "time"
    assert list(out.columns) == ["A", "B"] and len(out) == 2
    assert len(align({"A": a, "B": b}, max_staleness=1_000_000)) == 3
    with pytest.raises(InputError, match="field"):
        align({"A": a}, field="price")
    with pytest.raises(InputError, match="max_staleness"):
        align({"A": a}, max_staleness=-1)
    with pytest.raises(InputError, match="timeframes"):
        align({"A": a, "B": resample_bars(b, "2s")})
    with pytest.raises(InputError, match="at least one"):
        align({})


def test_fill_empty_keeps_bars_outside_the_range_and_carries_from_them():
    bars = _bars_at([0, 1, 5, 9], 3)
    out = fill_empty(bars, start=2_000_000, end=7_000_000)
    assert out.open_time.tolist() == [k * 1_000_000 for k in (0, 1, 2, 3, 4, 5, 6, 9)]
    # intervals 2..4 carry bar 1's close, 6 carries bar 5's close; bars 0, 1 and 9 unchanged
    assert out.close.tolist() == [*bars.close[:2], *[bars.close[1]] * 3, *bars.close[2:3],
                                  bars.close[2], bars.close[3]]  # fmt: skip
    assert out.trades.tolist() == [1, 1, 0, 0, 0, 1, 0, 1]
    assert_batches_equal(fill_empty(bars, start=20_000_000), bars)
    assert len(fill_empty(BarBatch.empty(SYM, "1s"), start=0, end=5_000_000)) == 0


def test_fill_empty_refuses_absurd_ranges():
    with pytest.raises(InputError, match="empty bars"):
        fill_empty(_bars_at([3], 0), end=2**62)
    builder = BarBuilder(SYM, "1s", empty="carry")
    builder.update(TickBatch(SYM, [0, 2**61], [1.0, 1.0], [1.0, 1.0]))
    with pytest.raises(InputError, match="empty bars"):
        builder.close_until(2**61 + 1_000_000)
    assert builder.partial is not None and builder.partial.open_time == 2**61 - 2**61 % 10**6
    with pytest.raises(InputError, match="non-finite"):
        builder.update(TickBatch(SYM, [2**61 + 1], [np.nan], [1.0]))
    assert builder.partial.trades == 1


def test_fill_empty_with_prev_close_fills_leading_intervals():
    bars = _bars_at([3], 0)
    out = fill_empty(bars, start=0, end=5_000_000, prev_close=7.0)
    assert out.open_time.tolist() == [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000]
    assert out.close.tolist()[:3] == [7.0, 7.0, 7.0]
    assert out.close[4] == bars.close[0] and out.trades.tolist() == [0, 0, 0, 1, 0]
