"""Column-wise validation of a posted tick batch: the rules of :class:`TickIn`, without a model
object per row.

Each field is taken out of the rows as one list and checked as a column (types by set, ranges
with numpy). The rows that the columns cannot vouch for (a wrong type, a value out of range,
an unknown or missing field, text or float timestamps, lax values such as ``"1.5"``) are
validated one by one by :class:`TickIn` itself, so every accepted value and every error message
(row index and field) is exactly what the model gives.
"""

from __future__ import annotations

import itertools
import re
from operator import methodcaller
from typing import Any

import numpy as np

from statarb.api.schemas import SYMBOL_PATTERN, TickIn
from statarb.timeutil import TICK_MAX_US, TICK_MIN_US, epoch_array_to_us

_FIELDS = tuple(TickIn.model_fields)
_REQUIRED = frozenset(k for k, f in TickIn.model_fields.items() if f.is_required())
_ALLOWED = frozenset(_FIELDS)
_SYMBOL = re.compile(SYMBOL_PATTERN.removeprefix("^").removesuffix("$"))  # for fullmatch
_ID_MAX = 2**62
#: a trade row in :class:`~statarb.model.Tick` field order
TradeRow = tuple[str, int, float, float, "bool | None", "int | None", str, "int | None"]


def _numbers(col: list[Any], ok: np.ndarray) -> np.ndarray:
    """``col`` as float64 where every value is an int or float (not bool); others marked bad."""
    kinds = set(map(type, col))
    if kinds <= {int, float}:
        return np.array(col, dtype=np.float64)
    good = np.fromiter((type(v) is int or type(v) is float for v in col), bool, len(col))
    ok &= good
    return np.array([v if g else 1.0 for v, g in zip(col, good, strict=True)], dtype=np.float64)


def _same_kind(col: list[Any], kinds: tuple[type, ...], ok: np.ndarray) -> None:
    """Mark bad the values whose exact type is not one of ``kinds``."""
    if not set(map(type, col)) <= set(kinds):
        ok &= np.fromiter((type(v) in kinds for v in col), bool, len(col))


def _epoch_ints(col: list[Any], ok: np.ndarray) -> np.ndarray:
    """Integer epoch times to µs (unit by magnitude, per value as :func:`parse_time`)."""
    _same_kind(col, (int,), ok)
    if not ok.any():
        return np.zeros(len(col), np.int64)
    raw = [v if g else 0 for v, g in zip(col, ok, strict=True)] if not ok.all() else col
    try:
        arr = np.array(raw, dtype=np.int64)
    except OverflowError:
        ok &= False  # an integer beyond int64: let the model say what is wrong
        return np.zeros(len(col), np.int64)
    us = np.zeros(len(arr), np.int64)
    mag = np.abs(arr)
    # the unit of each value by its magnitude, as timeutil.epoch_unit (thresholds of one value)
    for lo, hi in _unit_bounds():
        sel = ok & (mag >= lo) & (mag < hi)
        if sel.any():
            us[sel] = epoch_array_to_us(arr[sel])
    ok &= (us >= TICK_MIN_US) & (us < TICK_MAX_US)  # 2000..2100, as TickIn
    return us


def _unit_bounds() -> list[tuple[int, int]]:
    from statarb import timeutil as tu

    edges = [0, int(tu._S_MAX), int(tu._MS_MAX), int(tu._US_MAX), 2**63 - 1]
    return list(itertools.pairwise(edges))


def _shape_ok(rows: list[Any]) -> np.ndarray:
    """Rows that are objects with only known fields and every required one."""
    n = len(rows)
    if set(map(type, rows)) == {dict}:
        shapes = set(map(frozenset, rows))  # usually one or two distinct key sets
        if all(_REQUIRED <= k <= _ALLOWED for k in shapes):
            return np.ones(n, dtype=bool)
    return np.fromiter(
        (type(r) is dict and r.keys() <= _ALLOWED and r.keys() >= _REQUIRED for r in rows),
        bool,
        n,
    )


def validate_rows(
    rows: list[Any], *, recv_ts: int, source: str = "api"
) -> tuple[list[TradeRow], list[int], list[dict[str, Any]]]:
    """Validate decoded rows; return the good trade rows, their indices, and the errors.

    Errors are ``{index, field, message}`` as :func:`statarb.api.schemas.parse_tick_rows` gives
    them (same fields, same messages).
    """
    n = len(rows)
    if n == 0:
        return [], [], []
    ok = _shape_ok(rows)
    get = [r if type(r) is dict else {} for r in rows] if not ok.all() else rows
    sym, ts_col, price_col, size_col, side, tid = (
        list(map(methodcaller("get", name), get))
        for name in ("symbol", "ts", "price", "size", "is_buyer_maker", "trade_id")
    )
    price = _numbers(price_col, ok)
    size = _numbers(size_col, ok)
    ok &= np.fromiter((type(s) is str and _SYMBOL.fullmatch(s) is not None for s in sym), bool, n)
    ts = _epoch_ints(ts_col, ok)
    with np.errstate(invalid="ignore"):
        ok &= (price > 0) & (price <= 1e12) & (size >= 0) & (size <= 1e12)
    _same_kind(side, (bool, type(None)), ok)
    _same_kind(tid, (int, type(None)), ok)
    ok &= np.fromiter((type(v) is not int or 0 <= v <= _ID_MAX for v in tid), bool, n)
    good = np.flatnonzero(ok).tolist()
    out = list(
        zip(
            [str(sym[i]).upper() for i in good],
            ts[good].tolist(),
            price[good].tolist(),
            size[good].tolist(),
            [side[i] for i in good],
            [tid[i] for i in good],
            [source] * len(good),
            [recv_ts] * len(good),
            strict=True,
        )
    )
    if len(good) == n:
        return out, good, []
    return _with_model(rows, ok, out, good, recv_ts, source)


def _with_model(
    rows: list[Any],
    ok: np.ndarray,
    out: list[TradeRow],
    good: list[int],
    recv_ts: int,
    source: str,
) -> tuple[list[TradeRow], list[int], list[dict[str, Any]]]:
    """Validate the rows the columns did not vouch for with :class:`TickIn`, one by one."""
    from pydantic import ValidationError

    from statarb.protocol.binance import tick_row

    rows_by_index = dict(zip(good, out, strict=True))
    errors: list[dict[str, Any]] = []
    for i in np.flatnonzero(~ok).tolist():
        try:
            tick = TickIn.model_validate(rows[i]).to_tick(recv_ts)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "row"
            errors.append({"index": i, "field": field, "message": err["msg"]})
            continue
        row = tick_row(tick)
        rows_by_index[i] = (*row[:6], source, recv_ts)
    order = sorted(rows_by_index)
    return [rows_by_index[i] for i in order], order, errors


__all__ = ["TradeRow", "validate_rows"]
