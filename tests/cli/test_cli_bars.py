"""``statarb bars`` and ``statarb export`` on a real SQLite store."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from typer.testing import CliRunner

from statarb.bars import resample
from statarb.cli.main import build_app
from statarb.model import SIDE_BUYER_MAKER, SIDE_BUYER_TAKER, TickBatch
from statarb.store import open_store
from statarb.timeutil import parse_time

T0 = 1_723_161_240_000_000  # 2024-08-08T23:54:00Z


@pytest.fixture
def stored(sqlite_url: str) -> tuple[str, TickBatch]:
    rng = np.random.default_rng(7)
    n = 400
    ts = T0 + np.cumsum(rng.exponential(900_000, n).astype(np.int64))
    ticks = TickBatch(
        "BTCUSDT",
        ts,
        61_000 + np.cumsum(rng.normal(0, 1, n)),
        rng.exponential(0.1, n) + 0.001,
        side=rng.choice([SIDE_BUYER_MAKER, SIDE_BUYER_TAKER], n),
        trade_id=np.arange(n) + 100,
    )
    with open_store(sqlite_url) as store:
        store.write_ticks(ticks)
    return sqlite_url, ticks


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(build_app(), list(args))


def test_bars_csv_matches_resample(stored):
    url, ticks = stored
    res = run("bars", "btcusdt", "--tf", "1m", "--store", url)
    assert res.exit_code == 0, res.output
    got = pd.read_csv(StringIO(res.stdout))
    ref = resample(ticks, "1m")
    assert [parse_time(t) for t in got["time"]] == ref.open_time.tolist()
    assert_array_equal(got["close"], ref.close)
    assert_array_equal(got["trades"], ref.trades)
    assert_allclose(got["volume"], ref.volume, rtol=1e-15)


def test_bars_json_range_limit_and_carry(stored):
    url, ticks = stored
    start, end = "2024-08-08T23:55:00Z", str((T0 + 240_000_000) // 1000)  # ISO and epoch ms
    res = run("bars", "BTCUSDT", "--tf", "30s", "--format", "json", "--start", start,
              "--end", end, "--empty", "carry", "--limit", "3", "--store", url)  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    ref = resample(ticks, "30s", start=T0 + 60_000_000, end=T0 + 240_000_000, empty="carry")
    assert [r["time"] for r in rows] == [
        "2024-08-08T23:56:30.000Z",
        "2024-08-08T23:57:00.000Z",
        "2024-08-08T23:57:30.000Z",
    ]
    assert [r["close"] for r in rows] == ref.close[-3:].tolist()
    assert [r["trades"] for r in rows] == ref.trades[-3:].tolist()
    assert set(rows[0]) >= {"time", "open", "high", "low", "close", "volume", "trades", "vwap"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bars", "DOGEUSDT"], "DOGEUSDT"),
        (["bars", "BTCUSDT", "--tf", "7x"], "timeframe"),
        (["bars", "BTCUSDT", "--format", "xml"], "--format"),
        (["bars", "BTCUSDT", "--empty", "zero"], "--empty"),
        (["bars", "BTCUSDT", "--start", "yesterday"], "yesterday"),
        (["bars", "BTCUSDT", "--start", "2024-08-09T00:00:00Z", "--end", "2024-08-08T00:00:00Z"],
         "before"),
        (["export", "ticks", "DOGEUSDT", "--out", "x.csv"], "DOGEUSDT"),
        (["export", "bars", "BTCUSDT", "--out", "x.xlsx"], "suffix"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(stored, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    res = run(*args, "--store", stored[0])
    assert res.exit_code == 2
    assert message in res.stderr and res.stderr.startswith("error:")
    assert not list(tmp_path.glob("x.*"))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_ticks_round_trip(stored, tmp_path: Path, suffix: str):
    url, ticks = stored
    out = tmp_path / f"ticks{suffix}"
    res = run("export", "ticks", "BTCUSDT", "--out", str(out), "--store", url,
              "--start", str(int(ticks.ts[10])), "--end", str(int(ticks.ts[300])))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "wrote 290 ticks" in res.stderr
    back = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert_array_equal(back["price"], ticks.price[10:300])
    assert_array_equal(back["trade_id"], ticks.trade_id[10:300])
    times = back["time"].map(parse_time) if suffix == ".csv" else back["time"].astype("int64")
    assert_array_equal(times, ticks.ts[10:300])


def test_export_bars_parquet(stored, tmp_path: Path):
    url, ticks = stored
    out = tmp_path / "bars.parquet"
    res = run("export", "bars", "BTCUSDT", "--tf", "1m", "--out", str(out), "--store", url)
    assert res.exit_code == 0, res.output
    back = pd.read_parquet(out)
    ref = resample(ticks, "1m")
    assert_array_equal(back["time"].dt.as_unit("us").astype("int64"), ref.open_time)
    assert_array_equal(back["high"], ref.high)
    assert_allclose(back["vwap"], ref.notional / ref.volume, rtol=1e-15)


def test_commands_are_registered():
    res = run("--help")
    assert res.exit_code == 0 and "bars" in res.stdout and "export" in res.stdout
    res = run("export", "--help")
    assert res.exit_code == 0 and "ticks" in res.stdout and "bars" in res.stdout


def test_bars_print_the_source_precision_not_float_noise(sqlite_url: str) -> None:
    from statarb.cli.bars import source_decimals

    # sizes with 3 decimals, prices with 1: their 1m sums carry float noise (0.1 + 0.2 ...)
    n = 300
    rng = np.random.default_rng(3)
    price = np.round(2_600 + np.cumsum(rng.normal(0, 0.5, n)), 1)
    size = np.round(rng.uniform(0.001, 0.5, n), 3)
    ticks = TickBatch("ETHUSDT", T0 + np.arange(n) * 1_000_000, price, size,
                      trade_id=np.arange(n) + 1)  # fmt: skip
    with open_store(sqlite_url) as store:
        store.write_ticks(ticks)
    ref = resample(ticks, "1m")
    assert source_decimals(ref.volume) == 3 and any(len(repr(v)) > 12 for v in ref.volume)
    res = run("bars", "ethusdt", "--tf", "1m", "--store", sqlite_url)
    assert res.exit_code == 0, res.output
    rows = [line.split(",") for line in res.stdout.splitlines()[1:]]
    header = res.stdout.splitlines()[0].split(",")
    vol = [r[header.index("volume")] for r in rows]
    assert all(len(v.partition(".")[2]) <= 3 for v in vol), vol
    assert_allclose([float(v) for v in vol], ref.volume, rtol=1e-12)
    closes = [r[header.index("close")] for r in rows]
    assert all(len(c.partition(".")[2]) <= 1 for c in closes), closes
    assert source_decimals(np.array([1 / 3])) is None
