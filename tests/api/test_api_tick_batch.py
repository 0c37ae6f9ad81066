"""Column-wise batch validation gives exactly what :class:`TickIn` gives, row by row."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from statarb.api.routers._tick_batch import validate_rows
from statarb.api.schemas import parse_tick_rows
from statarb.protocol.binance import tick_row

RECV = 1_723_118_400_123_456
GOOD = {"symbol": "btcusdt", "ts": 1723118400000, "price": 61234.5, "size": 0.01,
        "is_buyer_maker": True, "trade_id": 7}  # fmt: skip

_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(allow_nan=False),
    st.sampled_from(["BTCUSDT", "btc\n", "", "1.5", "2024-08-08T12:00:00Z", "x" * 41, "true"]),
    st.integers(0, 2**62 + 2), st.integers(10**9, 10**19),
)  # fmt: skip
_rows = st.lists(
    st.one_of(
        st.fixed_dictionaries({k: st.one_of(st.just(v), _values) for k, v in GOOD.items()}),
        st.dictionaries(st.sampled_from([*GOOD, "extra"]), _values, max_size=7),
        _values,
    ),
    max_size=12,
)


def _model(rows: list[Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    ticks, errors = parse_tick_rows(rows, recv_ts=RECV)
    return [tick_row(t) for t in ticks], errors


@settings(max_examples=300, deadline=None)
@given(_rows)
def test_same_rows_and_errors_as_the_model(rows: list[Any]) -> None:
    got, _, errors = validate_rows(rows, recv_ts=RECV)
    want, want_errors = _model(rows)
    assert got == want
    assert errors == want_errors


def test_every_unit_and_the_common_case() -> None:
    rows = [
        {**GOOD, "ts": 1723118400},  # s
        {**GOOD, "ts": 1723118400000},  # ms
        {**GOOD, "ts": 1723118400000000},  # µs
        {**GOOD, "ts": 1723118400000000000, "is_buyer_maker": None},  # ns
        {"symbol": "ETHUSDT", "ts": 1723118400001, "price": 3000, "size": 0},
    ]
    got, index, errors = validate_rows(rows, recv_ts=RECV)
    assert (got, errors) == _model(rows)
    assert index == [0, 1, 2, 3, 4] and errors == []
    bad = [*rows, {**GOOD, "price": -1}, {**GOOD, "oops": 1}]
    got, index, errors = validate_rows(bad, recv_ts=RECV)
    assert [e["index"] for e in errors] == [5, 6]
    assert [e["field"] for e in errors] == ["price", "oops"]
