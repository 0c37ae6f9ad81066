"""Fault switches of the venue: what the ``malformed`` switch does to a trade payload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

#: what the ``malformed`` switch can do to a trade payload
MALFORMED_KINDS = ("json", "id", "time", "side", "price", "nan", "size")
_SPOIL: dict[str, Callable[[dict[str, Any]], None]] = {
    "id": lambda p: p.update({k: str(p[k]) for k in ("a", "t") if k in p}),
    "time": lambda p: p.update(T=str(p["T"])),
    "side": lambda p: p.update(m=str(p["m"]).lower()),
    "price": lambda p: p.update(p="0"),
    "nan": lambda p: p.update(p="NaN"),
    "size": lambda p: p.update(q="-" + p["q"]),
}


def spoilt(payload: dict[str, Any], kind: str) -> str:
    """The JSON text of a trade payload spoilt as ``kind`` (see :data:`MALFORMED_KINDS`)."""
    if kind == "json":
        return orjson.dumps(payload).decode()[:-9]
    bad = dict(payload)
    _SPOIL[kind](bad)
    return orjson.dumps(bad).decode()


__all__ = ["MALFORMED_KINDS", "spoilt"]
