"""Time conversions at the edges.

Inside statarb every timestamp is an ``int`` (or ``int64`` array) of **epoch microseconds, UTC**.
Exchanges send milliseconds; some sources send seconds, microseconds or nanoseconds, or ISO-8601
text. These helpers convert at the edge, telling epoch units apart by magnitude.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

from statarb._typing import Int64Array
from statarb.errors import InputError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

US_PER_MS = 1_000
US_PER_S = 1_000_000
# Magnitude cut-offs for epoch numbers around the years 1973..5138 (seconds ~1.7e9, ms ~1.7e12,
# µs ~1.7e15, ns ~1.7e18).
_S_MAX = 1e11
_MS_MAX = 1e14
_US_MAX = 1e17

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

#: times a query may name: 1970-01-01 .. 2262-04-11 (what int64 ns, hence pandas, can hold)
QUERY_MIN_US = 0
QUERY_MAX_US = 9_223_372_036_854_775
#: times a trade may carry: 2000-01-01 (inclusive) .. 2100-01-01 (exclusive)
TICK_MIN_US = 946_684_800_000_000
TICK_MAX_US = 4_102_444_800_000_000


def epoch_unit(value: float) -> str:
    """Return ``"s"``, ``"ms"``, ``"us"`` or ``"ns"`` for an epoch number by its magnitude."""
    v = abs(value)
    if v < _S_MAX:
        return "s"
    if v < _MS_MAX:
        return "ms"
    if v < _US_MAX:
        return "us"
    return "ns"


_FACTOR_TO_US = {"s": 1_000_000.0, "ms": 1_000.0, "us": 1.0, "ns": 1e-3}


def epoch_to_us(value: float | int) -> int:
    """Convert one epoch number in s, ms, µs or ns (told apart by magnitude) to epoch µs."""
    unit = epoch_unit(float(value))
    if unit == "ns":
        return int(value) // 1_000
    if unit == "us":
        return int(value)
    if unit == "ms" and isinstance(value, int):
        return value * US_PER_MS
    return round(float(value) * _FACTOR_TO_US[unit])


def epoch_array_to_us(values: np.ndarray) -> Int64Array:
    """Vectorised :func:`epoch_to_us`; the unit is chosen from the first finite value."""
    arr = np.asarray(values)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    unit = epoch_unit(float(arr.flat[0]))
    if arr.dtype.kind in "iu":
        a = arr.astype(np.int64, copy=False)
        if unit == "s":
            return a * US_PER_S
        if unit == "ms":
            return a * US_PER_MS
        if unit == "us":
            return a
        return a // 1_000
    return np.round(arr.astype(np.float64) * _FACTOR_TO_US[unit]).astype(np.int64)


def parse_time(value: str | int | float | dt.datetime) -> int:
    """Parse a timestamp (epoch number in any unit, ISO-8601 text or aware datetime) to epoch µs.

    A plain date (``2024-08-08``) is UTC midnight. Naive ISO text with a time of day, and naive
    datetimes, are rejected: statarb never guesses a time zone. Infinite numbers and booleans are
    refused (:class:`~statarb.errors.InputError`); see :func:`check_time` for ranges.

    Examples
    --------
    >>> parse_time("2024-08-08T23:54:15Z")
    1723161255000000
    >>> parse_time(1723161255000)
    1723161255000000
    """
    if isinstance(value, bool):
        raise InputError(f"timestamp must be a number or ISO-8601 text, got {value!r}")
    if isinstance(value, int | float):
        if value != value:  # NaN
            raise InputError("timestamp is NaN")
        try:
            return epoch_to_us(value)
        except OverflowError:
            raise InputError(f"timestamp {value!r} is not a finite number") from None
    if isinstance(value, dt.datetime):
        return _datetime_to_us(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InputError("timestamp is empty")
        if _DATE.match(text):  # a plain date is UTC midnight
            try:
                day = dt.datetime.fromisoformat(text)
            except ValueError as exc:
                raise InputError(f"timestamp {value!r} is not a valid date: {exc}") from None
            return _datetime_to_us(day.replace(tzinfo=dt.UTC))
        for num in (int, float):
            try:
                number = num(text)
            except ValueError:
                continue
            return parse_time(number)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError as exc:
            raise InputError(
                f"timestamp {value!r} is neither an epoch number nor ISO-8601 "
                "(e.g. 2024-08-08T23:54:15Z)"
            ) from exc
        return _datetime_to_us(parsed)
    raise InputError(f"timestamp must be a number or ISO-8601 text, got {type(value).__name__}")


def check_time(us: int, *, field: str, lo: int = QUERY_MIN_US, hi: int = QUERY_MAX_US) -> int:
    """Return ``us`` if ``lo <= us < hi``, else raise an :class:`InputError` naming ``field``."""
    if lo <= us < hi:
        return us
    known = -62_135_596_800_000_000 <= us < 253_402_300_800_000_000  # years 1..9999
    shown = f"{us} µs ({us_to_iso(us)})" if known else f"{us:.3g} µs"
    raise InputError(
        f"{field}: {shown} is outside the accepted range "
        f"{us_to_iso(lo)} .. {us_to_iso(hi)} (epoch numbers are told apart by magnitude: "
        "s < 1e11 <= ms < 1e14 <= µs < 1e17 <= ns; or send ISO-8601 text)"
    )


def parse_tick_time(value: object, *, field: str = "ts") -> int:
    """Parse a trade's exchange time to epoch µs and check it lies in 2000..2100.

    A time out of that range is refused, never reinterpreted: ``253402300799000`` (9999-12-31
    in ms) reads as µs of 1978 by magnitude, and ``True`` is no time at all.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str | dt.datetime):
        raise InputError(f"{field}: {value!r} is not a time; send epoch s/ms/µs/ns or ISO-8601")
    try:
        us = parse_time(value)
    except InputError as exc:
        raise InputError(f"{field}: {exc}") from None
    return check_time(us, field=field, lo=TICK_MIN_US, hi=TICK_MAX_US)


def _datetime_to_us(value: dt.datetime) -> int:
    if value.tzinfo is None:
        raise InputError(f"timestamp {value.isoformat()} has no time zone; add Z or an offset")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_S + delta.microseconds


def us_to_datetime(ts: int) -> dt.datetime:
    """Epoch µs to an aware UTC datetime."""
    return _EPOCH + dt.timedelta(microseconds=int(ts))


def us_to_iso(ts: int) -> str:
    """Epoch µs to ISO-8601 UTC text with a ``Z`` suffix (milliseconds, or µs when present)."""
    d = us_to_datetime(ts)
    spec = "milliseconds" if d.microsecond % 1000 == 0 else "microseconds"
    return d.isoformat(timespec=spec).replace("+00:00", "Z")


def us_array_to_iso(ts: np.ndarray) -> list[str]:
    """:func:`us_to_iso` of each of the epoch µs ``ts``, vectorised (the same text).

    Examples
    --------
    >>> us_array_to_iso(np.array([1_723_161_255_123_000, 1_723_161_255_123_456]))
    ['2024-08-08T23:54:15.123Z', '2024-08-08T23:54:15.123456Z']
    """
    arr = np.asarray(ts, dtype=np.int64)
    d = arr.astype("datetime64[us]")
    text = np.datetime_as_string(d, unit="us")
    fine = arr % US_PER_MS != 0
    if not fine.all():
        text = np.where(fine, text, np.datetime_as_string(d, unit="ms", casting="unsafe"))
    return [t + "Z" for t in text.tolist()]


__all__ = [
    "QUERY_MAX_US",
    "QUERY_MIN_US",
    "TICK_MAX_US",
    "TICK_MIN_US",
    "US_PER_MS",
    "US_PER_S",
    "check_time",
    "epoch_array_to_us",
    "epoch_to_us",
    "epoch_unit",
    "parse_tick_time",
    "parse_time",
    "us_array_to_iso",
    "us_to_datetime",
    "us_to_iso",
]
