import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statarb.errors import InputError
from statarb.timeutil import epoch_array_to_us, epoch_to_us, parse_time, us_to_iso

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
