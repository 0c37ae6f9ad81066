"""Real recorded Binance data and real data.binance.vision kline dumps."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from statarb import sample
from statarb.ingest.files import detect_format, import_files, read_file
from statarb.store import open_store

REC = "binance-usdm-recorded"


def _ticks(path: Path) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, list]] = {}
    for c in read_file(path):
        for s, b in c.ticks.items():
            d = out.setdefault(s, {"ts": [], "trade_id": [], "price": [], "recv_ts": []})
            for k in d:
                d[k].append(getattr(b, k))
    return {s: {k: np.concatenate(v) for k, v in d.items()} for s, d in out.items()}


def _reference_trades(path: Path) -> dict[str, np.ndarray]:
    """Trades parsed independently with the stdlib (ground truth)."""
    ts, tid, price, recv = [], [], [], []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            ns, _, frame = line.partition(" ")
            data = json.loads(frame).get("data", {})
            if data.get("e") == "trade":
                ts.append(data["T"] * 1000)
                tid.append(data["t"])
                price.append(float(data["p"]))
                recv.append(int(ns) // 1000)
    return {
        "ts": np.array(ts),
        "trade_id": np.array(tid),
        "price": np.array(price),
        "recv_ts": np.array(recv),
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,symbol,count",
    [("btcusdt_20240808.gz", "BTCUSDT", 21_313), ("ethusdt_20240808.gz", "ETHUSDT", 14_076)],
)
def test_recorded_trades_timed_by_trade_time(
    shared_data: Path, name: str, symbol: str, count: int
) -> None:
    path = shared_data / REC / name
    assert detect_format(path).name == "binance-ws"
    got = _ticks(path)
    assert list(got) == [symbol]
    ref = _reference_trades(path)
    assert len(got[symbol]["ts"]) == count
    for col in ("ts", "trade_id", "price", "recv_ts"):
        np.testing.assert_array_equal(got[symbol][col], ref[col])


@pytest.mark.slow
def test_0718_0719_import_as_one_continuous_session(shared_data: Path, sqlite_url: str) -> None:
    files = sorted((shared_data / REC).glob("*_2024071[89].gz"))
    assert len(files) == 4
    with open_store(sqlite_url) as store:
        rep = import_files(files, store)
        assert rep.ok
        assert rep.duplicates == 0
        expect = {"BTCUSDT": 974 + 9_727, "ETHUSDT": 1_640 + 12_015}
        for sym, n in expect.items():
            ticks = store.read_ticks(sym)
            assert len(ticks) == n
            assert np.all(np.diff(ticks.trade_id) == 1)  # contiguous ids across midnight
        assert import_files(files, store).ticks == 0


def test_packaged_sample(sqlite_url: str) -> None:
    files = sample.files()
    assert [p.name for p in files] == ["btcusdt_20240808.gz", "ethusdt_20240808.gz"]
    assert sum(p.stat().st_size for p in files) < 1_500_000
    assert (Path(sample.__file__).parent / "NOTICE").read_text().count("nkaz001") >= 2
    with open_store(sqlite_url) as store:
        rep = import_files(files, store)
        assert rep.ok
        info = {s.symbol: s for s in store.symbols()}
    assert (info["BTCUSDT"].ticks, info["BTCUSDT"].quotes) == (21_313, 13_218)
    assert (info["ETHUSDT"].ticks, info["ETHUSDT"].quotes) == (14_076, 10_799)


def test_every_monthly_kline_zip_gives_40320_1m_bars(shared_data: Path) -> None:
    zips = sorted((shared_data / "binance-usdm-klines-1m").glob("*.zip"))
    assert len(zips) == 12
    for path in zips:
        chunks = list(read_file(path))
        assert not [e for c in chunks for e in c.errors], path.name
        assert not any(c.ticks for c in chunks)
        bars = [b for c in chunks for b in c.bars.values()]
        sym = path.name.split("-")[0]
        assert {(b.symbol, b.timeframe) for b in bars} == {(sym, "1m")}
        open_time = np.concatenate([b.open_time for b in bars])
        assert len(open_time) == 40_320, path.name
        assert np.all(np.diff(open_time) == 60_000_000)
        assert all(np.all(b.low <= b.high) for b in bars)


def test_cryptofeed_capture(shared_data: Path) -> None:
    path = shared_data / "binance-usdm-protocol" / "BINANCE_FUTURES.ws.1.0"
    chunks = list(read_file(path))
    ticks = sum(len(b) for c in chunks for b in c.ticks.values())
    quotes = sum(len(b) for c in chunks for b in c.quotes.values())
    skipped: dict[str, int] = {}
    for c in chunks:
        for k, v in c.skipped.items():
            skipped[k] = skipped.get(k, 0) + v
    text = path.read_text()
    assert ticks == text.count('"e":"aggTrade"')
    assert quotes == text.count('"e":"bookTicker"')
    assert skipped == {
        "text": 1,
        "depthUpdate": text.count('"e":"depthUpdate"'),
        "kline": text.count('"e":"kline"'),
    }
    assert not [e for c in chunks for e in c.errors]
