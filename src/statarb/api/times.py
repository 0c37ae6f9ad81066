"""Time query parameters: ``start``/``end`` as epoch numbers, ISO-8601 or plain dates.

A plain date (``start=2024-08-08``) is UTC midnight. A time that is not finite, not a time, or
outside 1970-01-01 .. 2262-04-11 is refused with a 422 naming the parameter; nothing is
reinterpreted silently.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError

from statarb.errors import InputError
from statarb.timeutil import check_time, parse_time

_HELP = ("epoch s/ms/µs/ns (told apart by magnitude), ISO-8601 with Z or an offset, or a plain "
         "date (UTC midnight); 1970-01-01 .. 2262-04-11")  # fmt: skip


def parse_time_param(name: str, value: str | None) -> int | None:
    """One time query parameter as epoch µs (``None`` when absent), or a 422 naming it."""
    if value is None or value == "":
        return None
    try:
        return check_time(parse_time(value), field=name)
    except InputError as exc:
        msg = str(exc).removeprefix(f"{name}: ")
        raise RequestValidationError(
            [{"loc": ("query", name), "msg": msg, "type": "time_error", "input": value}]
        ) from None


def time_range(
    start: Annotated[
        str | None,
        Query(
            max_length=64,
            description=f"inclusive: {_HELP}",
            examples=["2024-08-08", "2024-08-08T12:00:00Z", 1723118400000],
        ),
    ] = None,
    end: Annotated[
        str | None, Query(max_length=64, description=f"exclusive: {_HELP}", examples=["2024-08-09"])
    ] = None,
) -> tuple[int | None, int | None]:
    """``(start, end)`` query parameters as epoch µs."""
    return parse_time_param("start", start), parse_time_param("end", end)


TimeRange = Annotated[tuple[int | None, int | None], Depends(time_range)]

__all__ = ["TimeRange", "parse_time_param", "time_range"]
