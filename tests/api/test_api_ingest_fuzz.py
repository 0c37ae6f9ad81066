"""Fuzzing tick ingestion: ``parse_tick_rows`` and the real app's POST endpoints.

Rows carry arbitrary JSON and adversarial field values (NaN, infinities, huge integers, times
outside 2000..2100, malformed ISO text, odd symbols). Whatever comes in: the parser returns good
ticks and named errors, never raises; the endpoints answer 2xx or 4xx, never 5xx; and the store
holds exactly the accepted ticks afterwards, each of them valid.
"""

from __future__ import annotations

import calendar
import json
import math
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import orjson
import pytest
from api_helpers import AUTH
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statarb.api.schemas import parse_tick_rows
from statarb.model import Tick
from statarb.store import open_store

#: inputs tried per test (hypothesis max_examples)
PARSER_EXAMPLES = 500
VALID_EXAMPLES = 200
BATCH_EXAMPLES = 120
RAW_BODY_EXAMPLES = 80
SINGLE_EXAMPLES = 80

_TS_MIN = 946_684_800_000_000  # 2000-01-01 in epoch µs
_TS_MAX = 4_102_444_800_000_000  # 2100-01-01 in epoch µs
_APP = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

_odd_text = st.sampled_from(
    ["", " ", "nan", "NaN", "inf", "-inf", "1e400", "-0", "0", "1e-400", " 12.5 ", "0x10",
     "1_000", "١٢", "12,5", "yesterday", "2024-08-08T12:00:00", "2024-02-30T00:00:00Z",
     "2024-08-08T12:00:00Z", "2024-08-08T12:00:00+05:30", "9999-12-31T23:59:59Z",
     "0001-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "2099-12-31T23:59:59.999999Z",
     "1723118400000", "1723118400.5", "\x00", "\ud800"]
)  # fmt: skip
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), _odd_text),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
_number = st.one_of(
    st.floats(),
    st.integers(-(2**70), 2**70),
    st.floats(1e-8, 1e7),
    st.floats(1e-8, 1e7).map(repr),
    st.sampled_from([0, 0.0, -0.0, 1e12, 1e12 + 1, 5e-324, 2**63]),
    _odd_text,
)
_ts = st.one_of(
    st.integers(-(2**65), 2**65),
    st.integers(1_500_000_000_000, 1_800_000_000_000),  # epoch ms
    st.integers(1_500_000_000, 1_800_000_000),  # epoch s
    st.floats(),
    _odd_text,
    st.datetimes(datetime(1969, 1, 1), datetime(2101, 1, 1)).map(lambda d: d.isoformat() + "Z"),
)
_symbol = st.one_of(
    st.sampled_from(["BTCUSDT", "ethusdt", "ETH/USDT", "", "A" * 40, "A" * 41, "BTC USDT",
                     "ＢＴＣ", "btc\n", "1000PEPEUSDT"]),
    st.text(max_size=6),
)  # fmt: skip
_row_fields = {
    "symbol": st.one_of(_symbol, _symbol, _json),
    "ts": st.one_of(_ts, _ts, _json),
    "price": st.one_of(_number, _number, _json),
    "size": st.one_of(_number, _number, _json),
}


def check_tick(t: Tick, recv_ts: int | None = None) -> None:
    """What every accepted tick must be, checked independently of the schema."""
    assert re.fullmatch(r"[A-Z0-9]{1,40}", t.symbol), t
    assert isinstance(t.ts, int) and _TS_MIN <= t.ts < _TS_MAX, t
    assert isinstance(t.price, float) and math.isfinite(t.price) and 0 < t.price <= 1e12, t
    assert isinstance(t.size, float) and math.isfinite(t.size) and 0 <= t.size <= 1e12, t
    assert t.is_buyer_maker in (True, False, None), t
    assert t.trade_id is None or (type(t.trade_id) is int and 0 <= t.trade_id <= 2**62), t
    assert t.source == "api" and t.recv_ts == recv_ts, t


_PLUS_5H30 = timezone(timedelta(hours=5, minutes=30))


@st.composite
def _valid_row(draw: st.DrawFn) -> tuple[dict[str, Any], Tick]:
    """A good row in one of its accepted spellings, and the tick it must give."""
    sym = draw(st.from_regex(r"[A-Za-z0-9]{1,40}", fullmatch=True))
    # trades are accepted from 2000-01-01 to 2100-01-01 (timeutil.TICK_MIN_US .. TICK_MAX_US)
    when = draw(st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)))
    us = calendar.timegm(when.timetuple()) * 1_000_000 + when.microsecond
    ms = us // 1000
    spelled = draw(st.sampled_from(["ms", "us", "iso", "offset", "text-ms"]))
    ts: Any = {"ms": ms, "us": us, "text-ms": str(ms)}.get(spelled)
    if spelled == "iso":
        ts = when.isoformat() + "Z"
    elif spelled == "offset":
        ts = when.replace(tzinfo=UTC).astimezone(_PLUS_5H30).isoformat()
    want_ts = us if spelled in ("us", "iso", "offset") else ms * 1000
    price = draw(st.floats(1e-8, 1e12))
    size = draw(st.floats(0, 1e12))
    maker = draw(st.sampled_from([True, False, None]))
    tid = draw(st.none() | st.integers(0, 2**62))
    row = {"symbol": sym, "ts": ts, "price": draw(st.sampled_from([price, repr(price)])),
           "size": size, "is_buyer_maker": maker, "trade_id": tid}  # fmt: skip
    return row, Tick(sym.upper(), want_ts, price, size, maker, tid, "api", 7)


_fuzz_row = st.one_of(
    st.fixed_dictionaries(
        _row_fields,
        optional={
            "is_buyer_maker": st.one_of(
                st.none(), st.booleans(), st.sampled_from(["true", "no", "1", 2, 1.0, "maybe"])
            ),
            "trade_id": st.one_of(
                st.none(),
                st.integers(-(2**64), 2**64),
                st.sampled_from([0, 2**62, 2**62 + 1, -1, 1.0, 1.5, "7", True]),
            ),
            "extra": _json,
        },
    ),
    st.fixed_dictionaries({}, optional=_row_fields),
    _json,
)


@st.composite
def _near_valid_row(draw: st.DrawFn) -> dict[str, Any]:
    """A good row with one field dropped or replaced by anything."""
    row, _ = draw(_valid_row())
    key = draw(st.sampled_from([*row, "extra"]), label="field")
    if key in row and draw(st.booleans(), label="drop"):
        del row[key]
    else:
        row[key] = draw(_row_fields.get(key, _json), label="value")
    return row


_row = st.one_of(
    _valid_row().map(lambda pair: pair[0]), _near_valid_row(), _near_valid_row(), _fuzz_row
)


@settings(max_examples=PARSER_EXAMPLES, deadline=None)
@given(st.lists(_row, max_size=6))
def test_parser_returns_valid_ticks_and_named_errors(rows: list[Any]) -> None:
    ticks, errors = parse_tick_rows(rows, recv_ts=123)  # any exception fails the test
    assert len(ticks) + len(errors) == len(rows)
    bad = [e["index"] for e in errors]
    assert bad == sorted(set(bad)) and all(0 <= i < len(rows) for i in bad)
    assert all(isinstance(e["field"], str) and e["field"] and e["message"] for e in errors)
    for t in ticks:
        check_tick(t, 123)
    # the one-pass path (all good) and the row-by-row path (some bad) agree
    one_by_one = [parse_tick_rows([r], recv_ts=123)[0] for r in rows]
    assert [t for got in one_by_one for t in got] == ticks
    assert [i for i, got in enumerate(one_by_one) if not got] == bad


@settings(max_examples=VALID_EXAMPLES, deadline=None)
@given(st.lists(_valid_row(), min_size=1, max_size=5))
def test_every_valid_spelling_is_accepted_exactly(pairs: list[tuple[dict[str, Any], Tick]]) -> None:
    ticks, errors = parse_tick_rows([row for row, _ in pairs], recv_ts=7)
    assert errors == []
    assert ticks == [want for _, want in pairs]


# -- the real app ----------------------------------------------------------------------------------
def _key(t: Tick) -> tuple[Any, ...]:
    """The store's identity of a tick: (symbol, trade id) or, without one, its content."""
    if t.trade_id is not None:
        return (t.symbol, "id", t.trade_id)
    return (t.symbol, "content", t.ts, t.price, t.size)


class _Expect:
    """Keys of every tick the API accepted so far, and a check of the store against them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.keys: set[tuple[Any, ...]] = set()

    def accept(self, rows: list[Any]) -> int:
        ticks, _ = parse_tick_rows(rows)
        self.keys |= {_key(t) for t in ticks}
        return len(ticks)

    def check_store(self) -> None:
        store = open_store(self.url, read_only=True)
        try:
            stored: set[tuple[Any, ...]] = set()
            for info in store.symbols():
                b = store.read_ticks(info.symbol)
                assert re.fullmatch(r"[A-Z0-9]{1,40}", b.symbol)
                assert ((b.ts >= _TS_MIN) & (b.ts < _TS_MAX)).all()
                assert (np.isfinite(b.price) & (b.price > 0) & (b.price <= 1e12)).all()
                assert (np.isfinite(b.size) & (b.size >= 0) & (b.size <= 1e12)).all()
                assert np.isin(b.side, [-1, 0, 1]).all()
                assert ((b.trade_id == -1) | ((b.trade_id >= 0) & (b.trade_id <= 2**62))).all()
                stored |= {_key(t) for t in b.to_ticks()}
        finally:
            store.close()
        assert stored == self.keys  # nothing lost, nothing extra


@pytest.fixture
def api(
    app_factory: Callable[..., TestClient], sqlite_url: str
) -> Iterator[tuple[TestClient, _Expect]]:
    client = app_factory()
    expect = _Expect(sqlite_url)
    yield client, expect
    expect.check_store()


def _body(rows: list[Any]) -> bytes:
    """JSON text of the rows (NaN and huge integers spelled as Python's json module does)."""
    return json.dumps(rows, allow_nan=True).encode("utf-8", "surrogatepass")


@settings(_APP, max_examples=BATCH_EXAMPLES)
@given(rows=st.lists(_row, min_size=1, max_size=6), strict=st.sampled_from([False, False, True]))
def test_batch_endpoint_stores_exactly_the_good_rows(
    api: tuple[TestClient, _Expect], rows: list[Any], strict: bool
) -> None:
    client, expect = api
    body = _body(rows)
    r = client.post(f"/api/v1/ticks/batch?wait=true&strict={str(strict).lower()}", content=body,
                    headers={**AUTH, "Content-Type": "application/json"})  # fmt: skip
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        assert r.status_code == 400, r.text
        return
    n_ok, n = len(parse_tick_rows(decoded)[0]), len(decoded)
    if strict and n_ok < n:
        assert r.status_code == 422 and r.json()["accepted"] == 0
    else:
        assert r.status_code == 200, r.text
        assert (r.json()["accepted"], r.json()["rejected"]) == (n_ok, n - n_ok)
        expect.accept(decoded)
    expect.check_store()


@settings(_APP, max_examples=RAW_BODY_EXAMPLES)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.lists(_row, max_size=4).map(lambda rows: b"\n".join(map(_body, rows))),
        st.lists(_row, max_size=4).map(lambda rows: _body(rows)[: len(_body(rows)) // 2]),
    ),
    kind=st.sampled_from(["application/json", "application/x-ndjson", "text/plain", ""]),
)
def test_raw_bodies_get_a_4xx_or_store_only_good_rows(
    api: tuple[TestClient, _Expect], body: bytes, kind: str
) -> None:
    client, expect = api
    r = client.post("/api/v1/ticks/batch?wait=true", content=body,
                    headers={**AUTH, "Content-Type": kind})  # fmt: skip
    assert r.status_code in (200, 400, 422), r.text
    if r.status_code == 200:
        lines = [ln for ln in body.splitlines() if ln.strip()]
        if body.lstrip()[:1] == b"[" and "ndjson" not in kind:
            rows = orjson.loads(body)
        else:
            rows = []
            for ln in lines:
                try:
                    rows.append(orjson.loads(ln))
                except orjson.JSONDecodeError:
                    rows.append(None)
        assert r.json()["accepted"] == expect.accept(rows)
        assert r.json()["accepted"] + r.json()["rejected"] == len(rows)
    expect.check_store()


@settings(_APP, max_examples=SINGLE_EXAMPLES)
@given(row=_row)
def test_single_tick_endpoint(api: tuple[TestClient, _Expect], row: Any) -> None:
    client, expect = api
    r = client.post("/api/v1/ticks?wait=true", content=_body(row),  # type: ignore[arg-type]
                    headers={**AUTH, "Content-Type": "application/json"})  # fmt: skip
    assert r.status_code in (200, 400, 422), r.text
    good = expect.accept([row]) if r.status_code == 200 else 0
    assert good == (1 if r.status_code == 200 else 0)
    if r.status_code != 200 and isinstance(row, dict):
        assert not parse_tick_rows([row])[0] or not _json_safe(row)
    expect.check_store()


def _json_safe(value: Any) -> bool:
    """Whether Python's json parser (the single-tick route's) reads ``value`` back unchanged."""
    try:
        return bool(json.loads(_body(value)) == value)
    except (ValueError, RecursionError):
        return False
