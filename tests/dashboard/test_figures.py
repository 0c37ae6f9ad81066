"""The pure figure builders: traces carry exactly the data (or its exact display thinning)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statarb.dashboard import figures as fg
from statarb.errors import InputError


def _bars(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 0.5, n))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) + rng.uniform(0, 0.3, n)
    low = np.minimum(open_, close) - rng.uniform(0, 0.3, n)
    vol = rng.uniform(1, 10, n)
    time = pd.date_range("2024-01-01", periods=n, freq="1s", tz="UTC")
    return pd.DataFrame(
        {
            "time": time,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": vol,
            "taker_buy_volume": vol * rng.uniform(0, 1, n),
        }
    )


def test_decimate_keeps_everything_when_short() -> None:
    assert fg.decimate_indices(np.arange(50.0), 100).tolist() == list(range(50))


def test_decimate_keeps_each_bucket_extremes_and_ends() -> None:
    rng = np.random.default_rng(7)
    y = rng.normal(size=100_003)
    y[12_345] = 50.0
    y[99_999] = -50.0
    y[500] = np.nan
    idx = fg.decimate_indices(y, 1000)
    assert len(idx) <= 1000
    assert np.all(np.diff(idx) > 0)
    assert {0, len(y) - 1, 12_345, 99_999} <= set(idx.tolist())
    buckets = (1000 - 2) // 2
    size = -(-len(y) // buckets)
    for b in range(0, buckets, 37):  # every bucket's own min and max survive
        seg = y[b * size : (b + 1) * size]
        assert b * size + int(np.nanargmin(seg)) in idx
        assert b * size + int(np.nanargmax(seg)) in idx


def test_decimate_rejects_tiny_budget() -> None:
    with pytest.raises(InputError, match="max_points"):
        fg.decimate_indices(np.arange(10.0), 3)


def test_downsample_ohlc_matches_pandas_aggregation() -> None:
    bars = _bars(1003)
    out = fg.downsample_ohlc(bars, 100)
    step = -(-1003 // 100)
    ref = bars.groupby(np.arange(1003) // step).agg(
        time=("time", "first"),
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        taker_buy_volume=("taker_buy_volume", "sum"),
    )
    assert len(out) <= 100
    for col in ref.columns:
        np.testing.assert_array_equal(out[col].to_numpy(), ref[col].to_numpy())


def test_candlestick_traces_equal_the_bars() -> None:
    bars = _bars(300)
    fig = fg.candlestick_figure(bars, title="X 1s")
    candle, volume = fig.data
    assert candle.type == "candlestick" and volume.type == "bar"
    for col in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(np.asarray(getattr(candle, col)), bars[col].to_numpy())
    np.testing.assert_array_equal(np.asarray(volume.y), bars["volume"].to_numpy())
    assert volume.yaxis == "y2" and fig.layout.xaxis.rangeslider.visible is False


def test_candlestick_of_a_day_of_seconds_is_thinned_but_exact_at_extremes() -> None:
    bars = _bars(86_400)
    candle = fg.candlestick_figure(bars).data[0]
    assert len(candle.open) <= fg.MAX_POINTS
    assert max(candle.high) == bars["high"].max() and min(candle.low) == bars["low"].min()
    assert sum(fg.candlestick_figure(bars).data[1].y) == pytest.approx(bars["volume"].sum())


def test_volume_profile_is_the_volume_weighted_histogram() -> None:
    bars = _bars(500)
    bar = fg.volume_profile_figure(bars, bins=20).data[0]
    counts, edges = np.histogram(bars["close"], bins=20, weights=bars["volume"])
    np.testing.assert_allclose(bar.x, counts)
    np.testing.assert_allclose(bar.y, (edges[:-1] + edges[1:]) / 2)
    assert sum(bar.x) == pytest.approx(bars["volume"].sum())


def test_buy_sell_split_adds_up_to_volume() -> None:
    bars = _bars(200)
    buy, sell = fg.buy_sell_figure(bars).data
    np.testing.assert_allclose(np.asarray(buy.y) + np.asarray(sell.y), bars["volume"])
    np.testing.assert_allclose(buy.y, bars["taker_buy_volume"])


def test_zscore_bands_sit_at_plus_minus_entry_and_exit() -> None:
    idx = pd.date_range("2024-01-01", periods=400, freq="1min", tz="UTC")
    z = np.sin(np.linspace(0, 20, 400)) * 3
    fig = fg.zscore_figure(idx, z, entry=2.0, exit=0.5, stop=4.0)
    by_name = {t.name: t for t in fig.data}
    np.testing.assert_array_equal(by_name["z-score"].y, z)
    assert {k: tuple(v.y) for k, v in by_name.items() if k != "z-score"} == {
        "+entry": (2.0, 2.0),
        "-entry": (-2.0, -2.0),
        "+exit": (0.5, 0.5),
        "-exit": (-0.5, -0.5),
        "+stop": (4.0, 4.0),
        "-stop": (-4.0, -4.0),
    }
    naive = idx.tz_localize(None).to_numpy()
    assert by_name["+entry"].x[0] == naive[0] and by_name["+entry"].x[-1] == naive[-1]


@pytest.mark.parametrize(("entry", "exit_"), [(0.0, 0.0), (1.0, 1.0), (1.0, -0.1)])
def test_zscore_rejects_bad_bands(entry: float, exit_: float) -> None:
    with pytest.raises(InputError, match="entry"):
        fg.zscore_figure([1, 2], [0.0, 1.0], entry=entry, exit=exit_)


def test_hedge_ratio_path_beside_static_estimates() -> None:
    path = np.linspace(0.5, 0.7, 100)
    fig = fg.hedge_ratio_figure(np.arange(100), path, {"ols": 0.61, "huber": 0.6})
    assert [t.name for t in fig.data] == ["path", "ols 0.61", "huber 0.6"]
    np.testing.assert_array_equal(fig.data[0].y, path)
    assert tuple(fig.data[1].y) == (0.61, 0.61)
    static = fg.hedge_ratio_figure(np.arange(100), None, {"ols": 0.61})
    assert [t.name for t in static.data] == ["ols 0.61"]


def test_lines_rejects_mismatched_lengths() -> None:
    with pytest.raises(InputError, match="'a' has 3 values for 2"):
        fg.lines_figure([1, 2], {"a": [1.0, 2.0, 3.0]})


def test_normalized_prices_start_at_100() -> None:
    prices = pd.DataFrame({"A": [np.nan, 50.0, 55.0], "B": [10.0, 11.0, 9.0]})
    a, b = fg.normalized_prices_figure(prices).data
    np.testing.assert_allclose(a.y, [np.nan, 100.0, 110.0])
    np.testing.assert_allclose(b.y, [100.0, 110.0, 90.0])


def _real_closes(shared_data: Path) -> pd.DataFrame:
    import zipfile

    cols = {}
    for sym in ("LINK", "DOT", "AVAX"):
        path = shared_data / "binance-usdm-klines-1m" / f"{sym}USDT-1m-2026-02.zip"
        with zipfile.ZipFile(path) as zf:
            frame = pd.read_csv(zf.open(zf.namelist()[0]), nrows=5000)
        cols[f"{sym}USDT"] = frame.set_index("open_time")["close"]
    return pd.DataFrame(cols)


def test_heatmap_matrix_equals_pandas_corr(shared_data: Path) -> None:
    closes = _real_closes(shared_data)
    corr = closes.pct_change().iloc[1:].corr()
    heat = fg.correlation_heatmap_figure(corr).data[0]
    np.testing.assert_array_equal(np.asarray(heat.z), corr.to_numpy())
    assert list(heat.x) == list(closes.columns) == list(heat.y)
    assert (heat.zmin, heat.zmax) == (-1, 1)


def test_heatmap_rejects_non_square_labels() -> None:
    with pytest.raises(InputError, match="same labels"):
        fg.correlation_heatmap_figure(pd.DataFrame([[1.0]], index=["A"], columns=["B"]))


def test_equity_and_drawdown_traces() -> None:
    eq = 100_000 + np.cumsum(np.random.default_rng(3).normal(0, 100, 500))
    dd = eq / np.maximum.accumulate(eq) - 1
    fig = fg.equity_figure(np.arange(500), eq, dd)
    np.testing.assert_array_equal(fig.data[0].y, eq)
    np.testing.assert_array_equal(fig.data[1].y, dd)
    with pytest.raises(InputError, match="lengths differ"):
        fg.equity_figure(np.arange(3), eq, dd)


def test_sweep_heatmap_is_the_pivot_of_the_table() -> None:
    rows = [
        {"entry": e, "window": w, "sharpe": e * 10 + w / 100}
        for e in (1.5, 2.0, 2.5)
        for w in (30, 60, 120)
    ]
    heat = fg.sweep_heatmap_figure(pd.DataFrame(rows), x="window", y="entry", value="sharpe").data[
        0
    ]
    assert list(heat.x) == ["30", "60", "120"] and list(heat.y) == ["1.5", "2", "2.5"]
    np.testing.assert_allclose(heat.z[1][2], 2.0 * 10 + 1.2)
    with pytest.raises(InputError, match="lacks columns"):
        fg.sweep_heatmap_figure(pd.DataFrame(rows), x="window", y="entry", value="sortino")
