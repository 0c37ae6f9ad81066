"""export: user-facing frames and CSV/Parquet files that read back to the same values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from statarb.bars import resample
from statarb.errors import InputError
from statarb.export import (
    BAR_FRAME_COLUMNS,
    TICK_FRAME_COLUMNS,
    bars_frame,
    iso_text,
    needs_micros,
    ticks_frame,
    write_table,
    write_tables,
)
from statarb.model import NO_ID, SIDE_BUYER_MAKER, SIDE_BUYER_TAKER, SIDE_UNKNOWN, TickBatch
from statarb.timeutil import parse_time, us_to_iso

T0 = 1_723_161_255_000_000  # 2024-08-08T23:54:15Z


def ticks() -> TickBatch:
    return TickBatch(
        "BTCUSDT",
        [T0, T0 + 1_500, T0 + 61_000_000, T0 + 61_000_000],
        [61800.3, 61800.4, 61799.9, 61801.0],
        [0.006, 0.199, 1.0, 0.25],
        side=[SIDE_BUYER_MAKER, SIDE_BUYER_TAKER, SIDE_UNKNOWN, SIDE_BUYER_TAKER],
        trade_id=[5, 6, NO_ID, 8],
    )


def test_ticks_frame_columns_and_values():
    f = ticks_frame(ticks())
    assert tuple(f.columns) == TICK_FRAME_COLUMNS
    assert str(f["time"].dt.tz) == "UTC"
    assert_array_equal(f["time"].dt.as_unit("us").astype("int64"), ticks().ts)
    assert f["is_buyer_maker"].tolist() == [True, False, pd.NA, False]
    assert f["trade_id"].tolist() == [5, 6, pd.NA, 8]


def test_bars_frame_columns_and_vwap():
    bars = resample(ticks(), "1m")
    f = bars_frame(bars)
    assert tuple(f.columns) == BAR_FRAME_COLUMNS
    assert_array_equal(f["vwap"], bars.notional / bars.volume)
    assert_array_equal(f["time"].dt.as_unit("us").astype("int64"), bars.open_time)
    assert f["trades"].tolist() == [2, 2]


def test_iso_text_uses_microseconds_only_when_needed():
    ms = pd.Series(pd.to_datetime([T0, T0 + 1000], unit="us", utc=True))
    assert iso_text(ms).tolist() == [us_to_iso(T0), us_to_iso(T0 + 1000)]
    assert iso_text(ms)[0] == "2024-08-08T23:54:15.000Z"
    us = pd.Series(pd.to_datetime([T0, T0 + 1], unit="us", utc=True))
    assert iso_text(us).tolist() == ["2024-08-08T23:54:15.000000Z", "2024-08-08T23:54:15.000001Z"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip(tmp_path: Path, suffix: str):
    frame = bars_frame(resample(ticks(), "1m"))
    path = write_table(frame, tmp_path / f"bars{suffix}")
    if suffix == ".csv":
        back = pd.read_csv(path)
        text = back["time"].tolist()
        assert all(t.endswith("Z") for t in text)
        assert [parse_time(t) for t in text] == resample(ticks(), "1m").open_time.tolist()
        back["time"] = pd.to_datetime(back["time"], utc=True).dt.as_unit("us")
    else:
        back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False, rtol=0, atol=0)


def test_ticks_csv_keeps_nulls_and_exact_floats(tmp_path: Path):
    path = write_table(ticks_frame(ticks()), tmp_path / "t.csv")
    back = pd.read_csv(path, dtype={"trade_id": "Int64", "is_buyer_maker": "boolean"})
    assert_array_equal(back["price"], ticks().price)
    assert_array_equal(back["size"], ticks().size)
    assert back["trade_id"].isna().tolist() == [False, False, True, False]
    assert back["is_buyer_maker"].isna().tolist() == [False, False, True, False]


def test_index_written_as_column_and_explicit_format(tmp_path: Path):
    frame = resample(ticks(), "1m").to_frame()  # time index
    path = write_table(frame, tmp_path / "bars.data", format="csv")
    back = pd.read_csv(path)
    assert back.columns[0] == "time" and back["time"][0] == "2024-08-08T23:54:00.000Z"


def test_write_tables_streams_chunks(tmp_path: Path):
    parts = [ticks_frame(ticks().take(slice(i, i + 1))) for i in range(4)]
    for suffix in (".csv", ".parquet"):
        path = write_tables(iter(parts), tmp_path / f"all{suffix}")
        back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
        assert_array_equal(back["price"], ticks().price)


def test_errors_and_no_partial_file(tmp_path: Path):
    frame = ticks_frame(ticks())
    with pytest.raises(InputError, match="suffix"):
        write_table(frame, tmp_path / "t.xlsx")
    with pytest.raises(InputError, match="format"):
        write_table(frame, tmp_path / "t.csv", format="xlsx")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="does not exist"):
        write_table(frame, tmp_path / "missing" / "t.csv")
    naive = pd.DataFrame({"time": pd.to_datetime([T0], unit="us"), "x": [1.0]})
    with pytest.raises(InputError, match="naive"):
        write_table(naive, tmp_path / "n.csv")

    def failing():  # a source that breaks half-way
        yield frame
        raise RuntimeError("source failed")

    for suffix in (".csv", ".parquet"):
        with pytest.raises(RuntimeError):
            write_tables(failing(), tmp_path / f"half{suffix}")
        assert not (tmp_path / f"half{suffix}").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="nothing"):
        write_tables([], tmp_path / "e.csv")


def test_empty_bar_has_nan_vwap():
    gap = TickBatch("BTCUSDT", [T0, T0 + 180_000_000], [1.0, 2.0], [1.0, 1.0])
    f = bars_frame(resample(gap, "1m", empty="carry"))
    assert f["trades"].tolist() == [1, 0, 0, 1]
    assert np.isnan(f["vwap"]).tolist() == [False, True, True, False]


def test_iso_text_of_a_part_keeps_the_whole_columns_choice():
    times = pd.Series(pd.to_datetime([T0, T0 + 1000, T0 + 1], unit="us", utc=True))
    assert needs_micros(times) and not needs_micros(times[:2])
    assert iso_text(times[:2], micros=True).tolist() == ["2024-08-08T23:54:15.000000Z",
                                                         "2024-08-08T23:54:15.001000Z"]  # fmt: skip
    assert iso_text(times[:2], micros=False).tolist() == iso_text(times[:2]).tolist()


def test_iso_text_leaves_missing_times_missing():
    times = pd.Series(pd.to_datetime([T0, None], unit="us", utc=True))
    assert not needs_micros(times)
    text = iso_text(times)
    assert text[0] == "2024-08-08T23:54:15.000Z" and pd.isna(text[1])
