import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statarb.errors import InputError
from statarb.timeutil import (
    check_time,
    epoch_array_to_us,
    epoch_to_us,
    parse_tick_time,
    parse_time,
    us_array_to_iso,
    us_to_iso,
)

T_US = 1_723_161_255_123_000


@pytest.mark.parametrize(
    "value",
    [
        T_US // 1000,
        T_US,
        T_US * 1000,
        T_US / 1e6,
        "2024-08-08T23:54:15.123Z",
        "2024-08-09T01:54:15.123+02:00",
        str(T_US // 1000),
    ],
)
def test_parse_time_units(value):
    assert parse_time(value) == T_US


def test_parse_time_rejects_naive_and_garbage():
    with pytest.raises(InputError, match="time zone"):
        parse_time("2024-08-08T23:54:15")
    with pytest.raises(InputError, match="ISO-8601"):
        parse_time("yesterday")
    with pytest.raises(InputError):
        parse_time(True)


def test_iso_roundtrip():
    assert us_to_iso(T_US) == "2024-08-08T23:54:15.123Z"
    assert parse_time(us_to_iso(T_US + 7)) == T_US + 7


def test_array_units():
    ms = np.array([T_US // 1000, T_US // 1000 + 1])
    assert epoch_array_to_us(ms).tolist() == [T_US, T_US + 1000]
    assert epoch_array_to_us(ms * 1_000_000).tolist() == [T_US, T_US + 1000]


@given(
    st.datetimes(
        min_value=dt.datetime(1975, 1, 1),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.just(dt.UTC),
    )
)
def test_datetime_roundtrip(d):
    us = parse_time(d)
    assert parse_time(us_to_iso(us)) == us
    assert epoch_to_us(us) == us


def test_plain_date_is_utc_midnight():
    assert parse_time("2024-08-08") == parse_time("2024-08-08T00:00:00Z")
    with pytest.raises(InputError, match="not a valid date"):
        parse_time("2024-02-30")


@pytest.mark.parametrize("value", [float("inf"), "-inf", "1e400", float("nan")])
def test_non_finite_numbers_are_refused(value):
    with pytest.raises(InputError):
        parse_time(value)


def test_query_range_names_the_field():
    assert check_time(0, field="start") == 0
    with pytest.raises(InputError, match=r"^end: 1e\+27 µs is outside"):
        check_time(parse_time("1e30"), field="end")
    with pytest.raises(InputError, match=r"^start: "):
        check_time(parse_time(-1), field="start")


@pytest.mark.parametrize(
    "value",
    [253_402_300_799_000, True, False, None, 1, "1999-12-31T23:59:59Z", "2100-01-01", [1]],
)
def test_tick_time_out_of_range_is_refused_not_reinterpreted(value):
    with pytest.raises(InputError, match=r"^ts: "):
        parse_tick_time(value)


def test_tick_time_in_range():
    assert parse_tick_time(1_723_118_400_000) == 1_723_118_400_000_000
    assert parse_tick_time("2000-01-01") == 946_684_800_000_000


# every time datetime can hold (years 1..9999), with whole and fractional milliseconds
_ANY_US = st.integers(-62_135_596_800_000_000, 253_402_300_799_999_999)


@given(st.lists(st.one_of(_ANY_US, _ANY_US.map(lambda us: us // 1000 * 1000)), max_size=50))
def test_us_array_to_iso_is_us_to_iso_of_each(values):
    assert us_array_to_iso(np.array(values, dtype=np.int64)) == [us_to_iso(v) for v in values]
