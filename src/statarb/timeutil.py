"""Time conversions at the edges.

Inside statarb every timestamp is an ``int`` (or ``int64`` array) of **epoch microseconds, UTC**.
Exchanges send milliseconds; some sources send seconds, microseconds or nanoseconds, or ISO-8601
text. These helpers convert at the edge, telling epoch units apart by magnitude.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from statarb._typing import Int64Array
from statarb.errors import InputError

US_PER_MS = 1_000
US_PER_S = 1_000_000
# Magnitude cut-offs for epoch numbers around the years 1973..5138 (seconds ~1.7e9, ms ~1.7e12,
# µs ~1.7e15, ns ~1.7e18).
_S_MAX = 1e11
_MS_MAX = 1e14
_US_MAX = 1e17

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


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

    Naive ISO text or datetimes are rejected: statarb never guesses a time zone.

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
        return epoch_to_us(value)
    if isinstance(value, dt.datetime):
        return _datetime_to_us(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InputError("timestamp is empty")
        try:
            return epoch_to_us(int(text))
        except ValueError:
            pass
        try:
            return epoch_to_us(float(text))
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError as exc:
            raise InputError(
                f"timestamp {value!r} is neither an epoch number nor ISO-8601 "
                "(e.g. 2024-08-08T23:54:15Z)"
            ) from exc
        return _datetime_to_us(parsed)
    raise InputError(f"timestamp must be a number or ISO-8601 text, got {type(value).__name__}")


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


__all__ = [
    "US_PER_MS",
    "US_PER_S",
    "epoch_array_to_us",
    "epoch_to_us",
    "epoch_unit",
    "parse_time",
    "us_to_datetime",
    "us_to_iso",
]
