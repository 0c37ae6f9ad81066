"""Format detection and parsing of every supported file format (small fixtures)."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np
import pytest

from statarb.errors import FormatError
from statarb.ingest.files import FileChunk, detect_format, read_file
from statarb.model import NO_ID, SIDE_BUYER_MAKER, SIDE_BUYER_TAKER, SIDE_UNKNOWN
from statarb.timeutil import parse_time

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def read_all(path: Path, **kw: object) -> FileChunk:
    """Merge every chunk of a file into one (test helper)."""
    from statarb.model import BarBatch, TickBatch

    ticks: dict = {}
    quotes: dict = {}
    bars: dict = {}
    errors: list = []
    skipped: dict = {}
    nbytes = 0
    for c in read_file(path, **kw):  # type: ignore[arg-type]
        for s, b in c.ticks.items():
            ticks.setdefault(s, []).append(b)
        for s, q in c.quotes.items():
            quotes.setdefault(s, []).append(q)
        for k, b in c.bars.items():
            bars.setdefault(k, []).append(b)
        errors += c.errors
        for k, v in c.skipped.items():
            skipped[k] = skipped.get(k, 0) + v
        nbytes += c.bytes_read
    return FileChunk(
        {s: TickBatch.concat(v) for s, v in ticks.items()},
        {s: _concat_quotes(v) for s, v in quotes.items()},
        {k: BarBatch(k[0], k[1], *_cat_bars(v)) for k, v in bars.items()},
        errors,
        skipped,
        nbytes,
    )


def _concat_quotes(qs: list) -> object:
    from statarb.model import QuoteBatch

    cols = ("ts", "bid", "bid_size", "ask", "ask_size", "update_id")
    return QuoteBatch(qs[0].symbol, *(np.concatenate([getattr(q, c) for q in qs]) for c in cols))


def _cat_bars(bs: list) -> list:
    cols = ("open_time", "open", "high", "low", "close", "volume", "notional", "trades")
    return [np.concatenate([getattr(b, c) for b in bs]) for c in (*cols, "taker_buy_volume")]


def test_seed_ndjson() -> None:
    assert detect_format(FIX / "seed_ticks.ndjson").name == "ndjson"
    c = read_all(FIX / "seed_ticks.ndjson")
    btc = c.ticks["BTCUSDT"]
    assert btc.ts.tolist() == [1723161256322000, 1723161256344000]
    assert btc.price.tolist() == [61800.3, 61800.3]
    assert btc.size.tolist() == [0.006, 0.199]
    assert btc.side.tolist() == [SIDE_UNKNOWN] * 2
    assert btc.trade_id.tolist() == [NO_ID] * 2
    assert c.ticks["ETHUSDT"].price.tolist() == [2678.5]
    assert not c.errors


def test_seed_csv_with_iso_times_and_offsets() -> None:
    info = detect_format(FIX / "seed_ticks.csv")
    assert (info.name, info.header) == ("csv", True)
    c = read_all(FIX / "seed_ticks.csv")
    assert c.ticks["BTCUSDT"].ts.tolist() == [
        parse_time("2024-08-08T23:54:16.322Z"),
        parse_time("2024-08-08T23:54:16.344Z"),
    ]
    # +02:00 offset converted to UTC
    assert c.ticks["ETHUSDT"].ts.tolist() == [parse_time("2024-08-08T23:54:16.560Z")]


def test_binance_aggtrades_with_header_symbol_from_name() -> None:
    path = FIX / "BTCUSDT-aggTrades-2024-01-01.csv"
    assert detect_format(path).name == "binance-aggtrades"
    b = read_all(path).ticks["BTCUSDT"]
    assert b.trade_id.tolist() == [1989156011, 1989156012, 1989156013, 1989156014]
    assert b.ts.tolist() == [1704067200005000, 1704067200011000, 1704067200047000, 1704067200102000]
    assert b.side.tolist() == [SIDE_BUYER_MAKER, SIDE_BUYER_TAKER, SIDE_BUYER_TAKER, 1]
    assert b.size.tolist() == [0.021, 0.1, 0.002, 0.512]
    assert b.source == "file:BTCUSDT-aggTrades-2024-01-01.csv"


def test_binance_trades_without_header_microseconds() -> None:
    path = FIX / "ETHUSDT-trades-2024-01-01.csv"
    info = detect_format(path)
    assert (info.name, info.header) == ("binance-trades", False)
    b = read_all(path).ticks["ETHUSDT"]
    assert b.ts.tolist() == [1704067200005123, 1704067200011456, 1704067200047789]
    assert b.trade_id.tolist() == [3589412001, 3589412002, 3589412003]
    assert b.price.tolist() == [2281.53, 2281.54, 2281.54]


def test_binance_klines_without_header_are_bars() -> None:
    path = FIX / "LINKUSDT-5m-2024-01.csv"
    assert detect_format(path).name == "binance-klines"
    c = read_all(path)
    assert not c.ticks
    bars = c.bars[("LINKUSDT", "5m")]
    assert bars.open_time.tolist() == [1704067200000000, 1704067500000000, 1704067800000000]
    assert bars.close.tolist() == [14.890, 14.872, 14.812]
    assert bars.trades.tolist() == [512, 430, 801]
    assert bars.notional.tolist() == [155512.3, 120870.1, 228590.7]
    assert bars.taker_buy_volume.tolist() == [5210.4, 3020.1, 6200.5]


@pytest.mark.parametrize("unit", ["ms", "us"])
@pytest.mark.parametrize("header", [True, False])
def test_klines_interval_from_close_time(tmp_path: Path, unit: str, header: bool) -> None:
    k = 1 if unit == "ms" else 1000
    rows = []
    for i in range(3):
        ot = (1704067200000 + i * 900_000) * k
        ct = ot + 900_000 * k - 1
        rows.append(f"{ot},1.0,1.2,0.9,1.1,10.0,{ct},11.0,5,4.0,4.4,0")
    head = "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
    head += "taker_buy_volume,taker_buy_quote_volume,ignore\n"
    path = tmp_path / "NEARUSDT-klines.csv"  # no timeframe in the name
    path.write_text((head if header else "") + "\n".join(rows) + "\n")
    bars = read_all(path).bars[("NEARUSDT", "15m")]
    assert bars.open_time.tolist() == [1704067200000000 + i * 900_000_000 for i in range(3)]


def test_cryptofeed_prefix_and_url_line() -> None:
    path = FIX / "cryptofeed_ws.txt"
    assert detect_format(path).name == "binance-ws"
    c = read_all(path)
    b = c.ticks["CTKUSDT"]
    assert b.ts.tolist() == [1626992741421000, 1626992742421000]  # trade time T
    assert b.trade_id.tolist() == [16599292, 16599293]  # aggTrade id a
    assert b.side.tolist() == [SIDE_BUYER_TAKER, SIDE_BUYER_MAKER]
    assert b.recv_ts.tolist() == [1626992742289739, 1626992742500000]
    q = c.quotes["CTKUSDT"]
    assert (q.bid.tolist(), q.ask.tolist(), q.update_id.tolist()) == (
        [1.01],
        [1.011],
        [600859600576],
    )
    assert c.skipped == {"text": 1, "kline": 1}
    assert not c.errors


def test_hftbacktest_prefix_envelope_and_bare_frames() -> None:
    c = read_all(FIX / "hftbacktest_ws.txt")
    b = c.ticks["BTCUSDT"]
    assert b.ts.tolist() == [1723161256322000, 1723161256344000]  # T, not E
    assert b.trade_id.tolist() == [5266583935, 5266583936]
    assert b.recv_ts.tolist() == [1723161255088176, 1723161255088230]
    assert b.side.tolist() == [SIDE_BUYER_TAKER, SIDE_BUYER_MAKER]
    assert c.quotes["BTCUSDT"].ts.tolist() == [1723161256313000]
    assert c.skipped == {"depthSnapshot": 1, "depthUpdate": 1}


def _compress(src: Path, dest: Path, kind: str) -> Path:
    data = src.read_bytes()
    if kind == "gz":
        dest.write_bytes(gzip.compress(data))
    else:
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(src.name, data)
    return dest


@pytest.mark.parametrize("kind", ["gz", "zip"])
@pytest.mark.parametrize(
    "name", ["BTCUSDT-aggTrades-2024-01-01.csv", "hftbacktest_ws.txt", "seed_ticks.ndjson"]
)
def test_compressed_equals_plain(tmp_path: Path, kind: str, name: str) -> None:
    # format from content; a zip's name says nothing (the symbol comes from its member's name)
    dest = f"{name}.gz" if kind == "gz" else "data.zip"
    packed = _compress(FIX / name, tmp_path / dest, kind)
    plain, comp = read_all(FIX / name), read_all(packed)
    assert detect_format(packed).compression == ("gzip" if kind == "gz" else "zip")
    assert sorted(plain.ticks) == sorted(comp.ticks)
    for sym in plain.ticks:
        for col in ("ts", "price", "size", "side", "trade_id", "recv_ts"):
            assert getattr(plain.ticks[sym], col).tolist() == getattr(comp.ticks[sym], col).tolist()
    assert comp.bytes_read == packed.stat().st_size


def test_symbol_from_gz_name_and_option(tmp_path: Path) -> None:
    rows = "ts,price,qty\n1723161256322,61800.3,0.006\n1723161256344,61800.4,0.2\n"
    path = tmp_path / "btcusdt_20240808.gz"
    path.write_bytes(gzip.compress(rows.encode()))
    assert list(read_all(path).ticks) == ["BTCUSDT"]
    assert list(read_all(path, symbol="ethusdt").ticks) == ["ETHUSDT"]
    anon = tmp_path / "ticks.csv"
    anon.write_text(rows)
    with pytest.raises(FormatError, match="--symbol"):
        read_all(anon)
    assert len(read_all(anon, symbol="SOLUSDT").ticks["SOLUSDT"]) == 2


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_generic_ndjson_aliases_and_epoch_units(tmp_path: Path, unit: str) -> None:
    us = 1723161256322000
    t = {"s": us // 10**6, "ms": us // 1000, "us": us, "ns": us * 1000}[unit]
    path = tmp_path / "x.ndjson"
    path.write_text(
        f'{{"s":"btcusdt","time":{t},"p":"61800.3","quantity":"0.5","side":"sell","id":7}}\n'
        f'{{"symbol":"BTCUSDT","timestamp":{t},"price":1,"q":2,"m":false,"trade_id":"8"}}\n'
    )
    b = read_all(path).ticks["BTCUSDT"]
    expect = us if unit != "s" else (us // 10**6) * 10**6
    assert b.ts.tolist() == [expect, expect]
    assert b.side.tolist() == [SIDE_BUYER_MAKER, SIDE_BUYER_TAKER]
    assert b.trade_id.tolist() == [7, 8]


def test_chunks_bounded_and_in_file_order(tmp_path: Path) -> None:
    n = 2500
    lines = [
        f'{{"symbol":"BTCUSDT","ts":{1723161256322 + i},"price":{1 + i},"size":1}}'
        for i in range(n)
    ]
    path = tmp_path / "many.ndjson"
    path.write_text("\n".join(lines) + "\n")
    chunks = list(read_file(path, chunk_rows=1000))
    assert [len(c.ticks["BTCUSDT"]) for c in chunks if c.ticks] == [1000, 1000, 500]
    prices = np.concatenate([c.ticks["BTCUSDT"].price for c in chunks if c.ticks])
    assert prices.tolist() == [float(1 + i) for i in range(n)]


@pytest.mark.parametrize(
    "content,match",
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00", "binary"),
        (b"hello world\nfoo bar\n", "saw 'hello world'"),
        (b"a,b,c\n1,2,3\n", "no column for ts, price, size"),
        (b"1,2,3,4\n5,6,7,8\n", "4 columns"),
    ],
)
def test_unknown_format_says_what_it_saw(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "unknown.dat"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=match) as exc:
        detect_format(path)
    assert exc.value.source == "unknown.dat"


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="not found") as exc:
        detect_format(tmp_path / "nope.csv")
    assert "nope.csv" in str(exc.value)


def test_zip_with_two_members_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", "x")
        zf.writestr("b.csv", "y")
    with pytest.raises(FormatError, match="exactly one"):
        detect_format(path)


def test_line_numbers_exact_with_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-aggTrades.csv"
    path.write_text(
        "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
        "\n"
        "1,42314.0,0.021,1,1,1704067200005,true\n"
        "\n"
        "\n"
        "2,-42314.1,0.100,2,2,1704067200011,false\n"
        "3,42314.1,0.002,3,3,1704067200047,false\n"
    )
    c = read_all(path)
    assert [(e.line, e.reason) for e in c.errors] == [
        (6, "price must be positive and size non-negative")
    ]
    assert c.ticks["BTCUSDT"].trade_id.tolist() == [1, 3]


def test_naive_iso_times_are_rejected_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("time,symbol,price,size\n2024-01-01T00:00:00,BTCUSDT,1,1\n")
    c = read_all(path)
    assert not c.ticks
    assert [(e.line, "time zone" in e.reason) for e in c.errors] == [(2, True)]


def test_aggtrades_microseconds_with_header(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-aggTrades-2025-01-01.csv"
    path.write_text(
        "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
        "7,42314.0,0.021,1,1,1735689600000123,true\n"
    )
    assert read_all(path).ticks["BTCUSDT"].ts.tolist() == [1735689600000123]
