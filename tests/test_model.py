import numpy as np
import pytest

from statarb.errors import InputError
from statarb.model import NO_ID, SIDE_UNKNOWN, BarBatch, Tick, TickBatch, Timeframe


@pytest.mark.parametrize(
    ("text", "us"),
    [
        ("1s", 1_000_000),
        ("1m", 60_000_000),
        ("15m", 900_000_000),
        ("4h", 14_400_000_000),
        ("30s", 30_000_000),
        ("250ms", 250_000),
        ("1d", 86_400_000_000),
    ],
)
def test_timeframe_parse(text, us):
    tf = Timeframe.parse(text)
    assert tf.us == us
    assert tf.name == text


@pytest.mark.parametrize("bad", ["", "0m", "m", "1y", "-1m", "1.5m"])
def test_timeframe_rejects(bad):
    with pytest.raises(InputError, match="timeframe"):
        Timeframe.parse(bad)


def test_timeframe_floor_is_epoch_aligned():
    tf = Timeframe.parse("5m")
    assert tf.floor(1_723_161_255_123_456) == 1_723_161_000_000_000


def test_tickbatch_roundtrip_and_defaults():
    ticks = [
        Tick("BTCUSDT", 1, 10.0, 1.0, True, 5, "t"),
        Tick("ETHUSDT", 2, 3.0, 2.0),
        Tick("BTCUSDT", 3, 11.0, 0.5, None, None, "t", 9),
    ]
    batches = TickBatch.from_ticks(ticks)
    btc = batches["BTCUSDT"]
    assert len(btc) == 2
    assert btc.side.tolist() == [1, SIDE_UNKNOWN]
    assert btc.trade_id.tolist() == [5, NO_ID]
    assert btc.to_ticks() == [ticks[0], ticks[2]]
    eth = batches["ETHUSDT"]
    assert eth.to_ticks()[0].is_buyer_maker is None
    both = TickBatch.concat([btc, btc.take(slice(0, 1))])
    assert both.ts.tolist() == [1, 3, 1]


def test_tickbatch_length_mismatch():
    with pytest.raises(InputError, match="price"):
        TickBatch("X", np.arange(3), np.ones(2), np.ones(3))


def test_barbatch_frame_roundtrip():
    n = 3
    b = BarBatch(
        "X",
        "1m",
        np.arange(n) * 60_000_000,
        *(np.arange(n, dtype=float),) * 6,
        np.arange(n),
        np.zeros(n),
    )
    back = BarBatch.from_frame("X", "1m", b.to_frame())
    assert back.open_time.tolist() == b.open_time.tolist()
    assert back.to_bars() == b.to_bars()
    assert np.isnan(b.vwap[0])
