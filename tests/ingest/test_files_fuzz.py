"""Property tests: whatever the input, readers yield chunks (with errors) or raise FormatError."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statarb.errors import FormatError
from statarb.ingest.files import read_file

_SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_TRADE = (
    '{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,'
    '"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}'
)


def _consume(content: bytes, name: str = "BTCUSDT-data.csv", *, gz: bool = False) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(content) if gz else content)
        rows = 0
        try:
            for chunk in read_file(path, chunk_rows=7):
                rows += chunk.rows
                for e in chunk.errors:
                    assert e.source == path.name and e.line >= 1
        except FormatError as exc:
            assert exc.source is not None
        return rows


@_SETTINGS
@given(st.binary(max_size=600), st.booleans())
def test_arbitrary_bytes(content: bytes, gz: bool) -> None:
    _consume(content, gz=gz)


_cell = st.one_of(
    st.sampled_from(
        ["", "nan", "inf", "-1", "0", "true", "x", '"', "1e400", "99999999999999999999"]
    ),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True).map(str),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8),
)


@_SETTINGS
@given(
    st.sampled_from(
        [
            "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker",
            "timestamp,symbol,price,size",
            "id,price,qty,quote_qty,time,is_buyer_maker",
            "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
            "taker_buy_volume,taker_buy_quote_volume,ignore",
        ]
    ),
    st.lists(st.lists(_cell, min_size=1, max_size=13), max_size=8),
)
def test_csv_with_known_header_and_arbitrary_rows(header: str, rows: list[list[str]]) -> None:
    body = "\n".join(",".join(r) for r in rows)
    _consume(f"{header}\n{body}\n".encode(errors="surrogatepass"))


_json_value = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=6)
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
_keys = st.sampled_from(
    [
        "e",
        "s",
        "T",
        "E",
        "t",
        "a",
        "p",
        "q",
        "m",
        "b",
        "B",
        "A",
        "u",
        "ts",
        "price",
        "size",
        "symbol",
        "side",
        "id",
    ]
)
_events = st.sampled_from(["trade", "aggTrade", "bookTicker", "depthUpdate", None])


@_SETTINGS
@given(
    st.lists(
        st.tuples(_events, st.dictionaries(_keys, _json_value, max_size=8), st.booleans()),
        max_size=8,
    )
)
def test_websocket_frames_with_arbitrary_fields(
    frames: list[tuple[str | None, dict, bool]],
) -> None:
    import json

    lines = [_TRADE]
    for event, data, envelope in frames:
        if event is not None:
            data = {**data, "e": event}
        obj = {"stream": "x", "data": data} if envelope else data
        lines.append(f"1723161255088176367 {json.dumps(obj)}")
    assert _consume("\n".join(lines).encode(), "btcusdt_20240808") >= 1


_trades = st.lists(
    st.tuples(
        st.integers(1_500_000_000_000, 2_000_000_000_000),  # ms
        st.decimals("0.0001", "100000", places=4),
        st.decimals("0.001", "1000", places=3),
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(_trades, st.integers(1, 50))
def test_every_encoding_round_trips_to_the_same_ticks(trades: list, chunk_rows: int) -> None:
    import json

    ids = range(1000, 1000 + len(trades))
    expect = {
        "ts": [t * 1000 for t, *_ in trades],
        "price": [float(p) for _, p, _, _ in trades],
        "size": [float(q) for _, _, q, _ in trades],
        "side": [int(m) for *_, m in trades],
        "trade_id": list(ids),
    }
    csv_rows = [
        f"{i},{p},{q},1,1,{t},{str(m).lower()}" for i, (t, p, q, m) in zip(ids, trades, strict=True)
    ]
    frames = [
        "1723161255088176367 "
        + json.dumps(
            {
                "stream": "btcusdt@aggTrade",
                "data": {"e": "aggTrade", "E": t + 5, "a": i, "s": "BTCUSDT", "p": str(p),
                         "q": str(q), "f": 1, "l": 1, "T": t, "m": m},
            }
        )
        for i, (t, p, q, m) in zip(ids, trades, strict=True)
    ]  # fmt: skip
    encodings = {
        "BTCUSDT-aggTrades.csv": "\n".join(csv_rows),
        "btcusdt_ws.txt": "\n".join(frames),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in encodings.items():
            path = Path(tmp) / name
            path.write_text(text + "\n")
            batches = [
                c.ticks["BTCUSDT"] for c in read_file(path, chunk_rows=chunk_rows) if c.ticks
            ]
            assert all(len(b) <= chunk_rows for b in batches)
            for col, values in expect.items():
                got = [v for b in batches for v in getattr(b, col).tolist()]
                assert got == values, (name, col)
