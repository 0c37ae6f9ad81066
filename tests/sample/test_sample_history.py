"""The packaged month of 1m history: exact prices against the source archives, small, loadable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statarb import sample


def test_the_history_file_is_small_and_complete() -> None:
    # about 190 kB a symbol
    assert (sample.path() / sample.HISTORY_FILE).stat().st_size < 200_000 * len(
        sample.HISTORY_SYMBOLS
    )
    got = sample.history_bars()
    assert [b.symbol for b in got] == list(sample.HISTORY_SYMBOLS)
    for b in got:
        assert len(b) == 40_320 and b.timeframe == "1m"
        assert (np.diff(b.open_time) == 60_000_000).all()
        assert b.open_time[0] == 1_769_904_000_000_000  # 2026-02-01 00:00 UTC
        assert (b.low <= np.minimum(b.open, b.close)).all()
        assert (b.high >= np.maximum(b.open, b.close)).all()


@pytest.mark.parametrize("symbol", ["AVAXUSDT", "NEARUSDT", "ALGOUSDT", "FILUSDT"])
def test_prices_are_the_archive_values_and_volumes_within_one_percent(
    symbol: str, shared_data: Path
) -> None:
    src = pd.read_csv(shared_data / "binance-usdm-klines-1m" / f"{symbol}-1m-2026-02.zip")
    (b,) = sample.history_bars([symbol])
    np.testing.assert_array_equal(b.open_time, src["open_time"].to_numpy() * 1000)
    for col in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(getattr(b, col), src[col].to_numpy(), err_msg=col)
    np.testing.assert_array_equal(b.trades, src["count"].to_numpy())
    vol = src["volume"].to_numpy()
    assert np.max(np.abs(b.volume - vol) / np.maximum(vol, 1e-12)) <= 0.01
    assert np.max(np.abs(b.taker_buy_volume - src["taker_buy_volume"]) / vol) <= 0.0125
    assert np.max(np.abs(b.notional / src["quote_volume"] - 1)) < 0.01  # typical-price notional


def test_load_history_writes_once(sqlite_url: str) -> None:
    from statarb.store import open_store

    store = open_store(sqlite_url)
    try:
        assert sample.load_history(store, ["LINKUSDT"]) == 40_320
        assert sample.load_history(store, ["LINKUSDT"]) == 0
        (info,) = store.symbols()
        assert (info.symbol, info.ticks, info.bars) == ("LINKUSDT", 0, {"1m": 40_320})
    finally:
        store.close()


def test_the_demo_loads_the_history_up_to_the_tape(sqlite_url: str) -> None:
    from statarb.store import open_store

    store = open_store(sqlite_url)
    try:
        assert sample.load_history(store, ["FILUSDT"], end_us=sample.TAPE_START_US) == 27 * 1440
        (bars,) = sample.history_bars(["FILUSDT"], end_us=sample.TAPE_START_US)
        assert int(bars.open_time[-1]) + 60_000_000 == sample.TAPE_START_US
    finally:
        store.close()


def test_an_unknown_symbol_is_named() -> None:
    from statarb.errors import InputError

    with pytest.raises(InputError, match="BTCUSDT is not in the packaged history"):
        sample.history_bars(["BTCUSDT"])
