"""Fuzzing the file importer with damaged files: truncated, bit-flipped, corrupt gzip and zip.

``test_files_fuzz.py`` feeds arbitrary text and well-formed rows; here good files of every format
are damaged after the fact (cut short, bytes flipped or inserted, containers broken, receive-time
prefixes out of range) and imported into a real store. Only :class:`StatarbError` may come out;
a file that fails leaves nothing in the store, and every stored tick is valid.
"""

from __future__ import annotations

import gzip
import io
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from statarb.errors import StatarbError
from statarb.ingest._chunk import MAX_TS_US
from statarb.ingest.files import import_files, read_file
from statarb.store.sqlite import SQLiteStore

#: inputs tried per test (hypothesis max_examples)
DAMAGED_EXAMPLES = 250
CONTAINER_EXAMPLES = 120
PREFIX_EXAMPLES = 80

_SYMBOL_RE = re.compile(r"[A-Z0-9][A-Z0-9_.\-]{0,39}")
_trades = st.lists(
    st.tuples(
        st.integers(1_500_000_000_000, 2_000_000_000_000),  # ms
        st.decimals("0.0001", "100000", places=4),
        st.decimals("0", "1000", places=3),
        st.booleans(),
    ),
    min_size=1,
    max_size=30,
)


def _encode(fmt: str, trades: list[tuple[int, object, object, bool]]) -> tuple[str, bytes]:
    """A good file of ``trades`` in format ``fmt``: (file name, content)."""
    rows = list(enumerate(trades, 1000))
    if fmt == "aggtrades":
        lines = [f"{i},{p},{q},{i},{i},{t},{str(m).lower()}" for i, (t, p, q, m) in rows]
        return "BTCUSDT-aggTrades-2024-01-01.csv", "\n".join(lines).encode() + b"\n"
    if fmt == "csv":
        lines = ["timestamp,symbol,price,size,side,id"]
        lines += [f"{t},ETHUSDT,{p},{q},{'sell' if m else 'buy'},{i}" for i, (t, p, q, m) in rows]
        return "ticks.csv", "\n".join(lines).encode() + b"\n"
    if fmt == "ndjson":
        lines = [f'{{"ts":{t},"symbol":"SOLUSDT","price":{p},"size":{q},"id":{i}}}'
                 for i, (t, p, q, m) in rows]  # fmt: skip
        return "rows.ndjson", "\n".join(lines).encode() + b"\n"
    lines = [
        f'{t * 1_000_000 + 5} {{"stream":"btcusdt@aggTrade","data":{{"e":"aggTrade","E":{t},'
        f'"a":{i},"s":"BTCUSDT","p":"{p}","q":"{q}","f":1,"l":1,"T":{t},"m":{str(m).lower()}}}}}'
        for i, (t, p, q, m) in rows
    ]
    return "btcusdt_20240808.txt", "\n".join(lines).encode() + b"\n"


def _pack(kind: str, name: str, content: bytes) -> tuple[str, bytes]:
    if kind == "gzip":
        return name + ".gz", gzip.compress(content)
    if kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(name, content)
        return name + ".zip", buf.getvalue()
    return name, content


@st.composite
def _damage(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` cut short, with bytes flipped, inserted or deleted (or unchanged)."""
    how = draw(st.sampled_from(["none", "truncate", "flip", "insert", "delete", "mix"]))
    out = bytearray(data)
    steps = {"mix": 4}.get(how, 1) if how != "none" else 0
    for _ in range(steps):
        kind = (
            draw(st.sampled_from(["truncate", "flip", "insert", "delete"])) if how == "mix" else how
        )
        pos = draw(st.integers(0, max(0, len(out) - 1)))
        if kind == "truncate":
            del out[pos:]
        elif kind == "flip" and out:
            out[pos] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del out[pos : pos + draw(st.integers(1, 16))]
    return bytes(out)


def _import(name: str, content: bytes) -> tuple[int | None, list[tuple[str, np.ndarray]]]:
    """Read the file, then import it into a fresh store: (ticks stored or None, stored arrays).

    Any exception that is not a :class:`StatarbError` fails the test.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        try:
            for chunk in read_file(path, chunk_rows=11):
                assert all(e.line >= 1 and e.source == path.name for e in chunk.errors)
        except StatarbError:
            pass
        with SQLiteStore(f"sqlite:///{Path(tmp) / 'store.db'}") as store:
            try:
                report = import_files([path], store)
                stored: int | None = report.files[0].ticks
            except StatarbError:
                stored = None
            out = [(s.symbol, _check_stored(store, s.symbol)) for s in store.symbols()]
    if stored is None:
        assert out == [], "a file that failed left rows in the store"
    return stored, out


def _check_stored(store: SQLiteStore, symbol: str) -> np.ndarray:
    """Every stored tick of ``symbol`` is one the importer may keep; their trade ids."""
    b = store.read_ticks(symbol)
    assert _SYMBOL_RE.fullmatch(symbol), symbol
    assert ((b.ts > 0) & (b.ts <= MAX_TS_US)).all()
    assert (np.isfinite(b.price) & (b.price > 0)).all()
    assert (np.isfinite(b.size) & (b.size >= 0)).all()
    assert np.isin(b.side, [-1, 0, 1]).all() and (b.trade_id >= -1).all()
    assert ((b.recv_ts >= 0) & (b.recv_ts <= MAX_TS_US)).all()
    return b.trade_id


@settings(max_examples=DAMAGED_EXAMPLES, deadline=None)
@given(
    _trades,
    st.sampled_from(["aggtrades", "csv", "ndjson", "ws"]),
    st.sampled_from(["none", "gzip", "zip"]),
    st.data(),
)
def test_damaged_files_import_cleanly_or_fail_clearly(
    trades: list[tuple[int, object, object, bool]], fmt: str, kind: str, data: st.DataObject
) -> None:
    name, content = _pack(kind, *_encode(fmt, trades))
    damaged = data.draw(_damage(content), label="damaged")
    stored, out = _import(name, damaged)
    if damaged == content:  # undamaged: every trade is stored, with its id
        assert stored == len(trades)
        assert [sorted(ids.tolist()) for _, ids in out] == [list(range(1000, 1000 + len(trades)))]


def _zip_of(members: list[tuple[str, bytes]]) -> bytes:
    """A zip with 0..3 members (only exactly one is importable)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in members:
            zf.writestr(zipfile.ZipInfo(name), content)
    return buf.getvalue()


@settings(max_examples=CONTAINER_EXAMPLES, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=400).map(lambda b: b"\x1f\x8b" + b),  # gzip magic, then anything
        st.binary(max_size=400).map(lambda b: b"PK\x03\x04" + b),  # zip magic, then anything
        st.binary(max_size=400).map(lambda b: gzip.compress(b) + b),  # trailing garbage
        st.lists(st.binary(max_size=60), min_size=2, max_size=3).map(
            lambda parts: b"".join(gzip.compress(p) for p in parts)  # multi-member gzip
        ),
        st.lists(
            st.tuples(
                st.sampled_from(["BTCUSDT-aggTrades-1.csv", "", "dir/", "é.csv"]),
                st.binary(max_size=60),
            ),
            max_size=3,
            unique_by=lambda member: member[0],
        ).map(_zip_of),
    ),
    st.sampled_from(["BTCUSDT-aggTrades-2024-01-01.csv", "data.zip", "x.gz", "btcusdt_1.txt"]),
)
def test_broken_containers_fail_clearly(content: bytes, name: str) -> None:
    _import(name, content)


@settings(max_examples=PREFIX_EXAMPLES, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 10**30).map(str),
            st.floats(allow_nan=True, allow_infinity=True).map(repr),
            st.sampled_from(["1723161255088176367", "1723161255.088", "0", "-5", "1e400", "١٢٣"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_receive_time_prefixes_out_of_range(prefixes: list[str]) -> None:
    frame = (
        '{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,'
        '"s":"BTCUSDT","t":%d,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}'
    )
    lines = [f"1723161255088176367 {frame % i}" for i in range(20)]  # what the format is told by
    lines += [f"{p} {frame % (i + 20)}" for i, p in enumerate(prefixes)]
    stored, _ = _import("btcusdt_20240808.txt", "\n".join(lines).encode())
    assert stored is not None and stored >= 20
