"""Helpers shared by the store backends: input checks, batch ordering, alert JSON."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import orjson

from statarb.errors import InputError, StoreError
from statarb.model import BarBatch, QuoteBatch, TickBatch

#: columns of a tick row as stored, after ``symbol_id``
TICK_COLUMNS = ("ts", "trade_id", "price", "size", "side", "recv_ts")
QUOTE_COLUMNS = ("ts", "update_id", "bid", "bid_size", "ask", "ask_size")
BAR_VALUE_COLUMNS = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "notional",
    "trades",
    "taker_buy_volume",
)


def now_us() -> int:
    """Wall-clock time in epoch µs (row bookkeeping only)."""
    return time.time_ns() // 1000


def check_symbol(symbol: object) -> str:
    """Return ``symbol`` if it is a non-empty string, else raise."""
    if not isinstance(symbol, str):
        raise TypeError(f"symbol must be a str, got {type(symbol).__name__}")
    if not symbol or symbol != symbol.strip():
        raise InputError(f"symbol {symbol!r} is not valid: use a non-empty name without spaces")
    return symbol


def check_finite(kind: str, symbol: str, **cols: np.ndarray) -> None:
    """Refuse NaN or infinite values: they would break the content keys."""
    for name, col in cols.items():
        if len(col) and not np.isfinite(col).all():
            bad = int(np.flatnonzero(~np.isfinite(col))[0])
            raise InputError(
                f"{kind} of {symbol}: column {name!r} holds {col[bad]!r} at row {bad}; "
                "only finite numbers can be stored"
            )


def check_range(start: int | None, end: int | None) -> None:
    """Validate a ``[start, end)`` range of epoch µs."""
    for name, v in (("start", start), ("end", end)):
        if v is not None and not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an int (epoch µs) or None, got {type(v).__name__}")


def sorted_ticks(batch: TickBatch) -> TickBatch:
    """The batch checked and ordered by (ts, trade_id, price, size), copying only if needed."""
    check_symbol(batch.symbol)
    check_finite("ticks", batch.symbol, price=batch.price, size=batch.size)
    if len(batch) < 2:
        return batch
    dts = np.diff(batch.ts)
    if bool(((dts > 0) | ((dts == 0) & (np.diff(batch.trade_id) > 0))).all()):
        return batch
    return batch.take(np.lexsort((batch.size, batch.price, batch.trade_id, batch.ts)))


def unique_ticks(batch: TickBatch) -> TickBatch:
    """Drop rows whose key repeats an earlier row of the (sorted) batch; the first one stays."""
    n = len(batch)
    if n < 2:
        return batch
    has_id = batch.trade_id >= 0
    if has_id.all() and bool((np.diff(batch.trade_id) > 0).all()):
        return batch  # the common case: ids rise with time
    keep = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(has_id)
    if len(idx):
        keep[idx[np.unique(batch.trade_id[idx], return_index=True)[1]]] = True
    idx = np.flatnonzero(~has_id)
    if len(idx):
        keep[idx[np.unique(content_keys(batch, idx), return_index=True)[1]]] = True
    return batch if keep.all() else batch.take(keep)


def content_keys(batch: TickBatch, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
    """(ts, price, size) of the chosen rows as one structured array (for unique / isin)."""
    ts = batch.ts[idx]
    keys = np.empty(len(ts), dtype=[("ts", "i8"), ("price", "f8"), ("size", "f8")])
    keys["ts"], keys["price"], keys["size"] = ts, batch.price[idx], batch.size[idx]
    return keys


def sorted_quotes(batch: QuoteBatch) -> QuoteBatch:
    """Check a quote batch and order it by (ts, update_id)."""
    check_symbol(batch.symbol)
    check_finite(
        "quotes",
        batch.symbol,
        bid=batch.bid,
        bid_size=batch.bid_size,
        ask=batch.ask,
        ask_size=batch.ask_size,
    )
    if len(batch) < 2:
        return batch
    dts = np.diff(batch.ts)
    if bool(((dts > 0) | ((dts == 0) & (np.diff(batch.update_id) >= 0))).all()):
        return batch
    order = np.lexsort((batch.update_id, batch.ts))
    return QuoteBatch(
        batch.symbol,
        batch.ts[order],
        batch.bid[order],
        batch.bid_size[order],
        batch.ask[order],
        batch.ask_size[order],
        batch.update_id[order],
        source=batch.source,
    )


def check_bars(bars: BarBatch) -> None:
    """Refuse bars that cannot be stored."""
    check_symbol(bars.symbol)
    check_finite(
        "bars",
        bars.symbol,
        **{c: getattr(bars, c) for c in BAR_VALUE_COLUMNS if c != "trades"},
    )


def interleave(n: int, first: Any, columns: list[list[Any]]) -> list[Any]:
    """Row-major flat list ``[first, c0[0], c1[0], ..., first, c0[1], ...]`` built in C."""
    width = len(columns) + 1
    flat: list[Any] = [first] * (n * width)
    for j, col in enumerate(columns, start=1):
        flat[j::width] = col
    return flat


def dump_json(obj: dict[str, Any], what: str) -> str:
    """Serialise an alert rule or event body, with a clear error for non-JSON values."""
    if not isinstance(obj, dict):
        raise TypeError(f"{what} must be a dict, got {type(obj).__name__}")
    try:
        return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError as exc:
        raise InputError(f"{what} is not JSON-serialisable: {exc}") from exc


def load_json(text: str) -> dict[str, Any]:
    """Parse a stored JSON body."""
    out = orjson.loads(text)
    if not isinstance(out, dict):
        raise StoreError(f"stored JSON body is not an object: {text[:80]!r}")
    return out


def event_parts(event: dict[str, Any]) -> tuple[int, int, str]:
    """Split an alert event into (rule_id, ts, payload JSON)."""
    if not isinstance(event, dict):
        raise TypeError(f"alert event must be a dict, got {type(event).__name__}")
    missing = [k for k in ("rule_id", "ts") if k not in event]
    if missing:
        raise InputError(f"alert event lacks {missing}; it needs 'rule_id' and 'ts' (epoch µs)")
    rule_id, ts = event["rule_id"], event["ts"]
    for name, v in (("rule_id", rule_id), ("ts", ts)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise InputError(f"alert event {name} must be an int, got {v!r}")
    payload = {k: v for k, v in event.items() if k not in ("id", "rule_id", "ts")}
    return int(rule_id), int(ts), dump_json(payload, "alert event")


def event_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """(id, rule_id, ts, payload) -> the event dict handed back to callers."""
    out = load_json(row[3])
    out.update(id=int(row[0]), rule_id=int(row[1]), ts=int(row[2]))
    return out


def rule_body(rule: dict[str, Any]) -> tuple[int | None, str]:
    """Split an alert rule into (id or None, JSON body without the id)."""
    if not isinstance(rule, dict):
        raise TypeError(f"alert rule must be a dict, got {type(rule).__name__}")
    rid = rule.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, (int, np.integer))):
        raise InputError(f"alert rule id must be an int or absent, got {rid!r}")
    body = {k: v for k, v in rule.items() if k != "id"}
    return (None if rid is None else int(rid)), dump_json(body, "alert rule")


__all__ = [
    "BAR_VALUE_COLUMNS",
    "QUOTE_COLUMNS",
    "TICK_COLUMNS",
    "check_bars",
    "check_range",
    "check_symbol",
    "content_keys",
    "dump_json",
    "event_dict",
    "event_parts",
    "interleave",
    "load_json",
    "now_us",
    "rule_body",
    "sorted_quotes",
    "sorted_ticks",
    "unique_ticks",
]


def range_clause(
    start: int | None, end: int | None, col: str, placeholder: str
) -> tuple[str, tuple[int, ...]]:
    """``" AND col >= ? AND col < ?"`` for ``[start, end)`` with the driver's placeholder."""
    check_range(start, end)
    sql = ""
    params: tuple[int, ...] = ()
    if start is not None:
        sql, params = f" AND {col} >= {placeholder}", (int(start),)
    if end is not None:
        sql, params = f"{sql} AND {col} < {placeholder}", (*params, int(end))
    return sql, params
