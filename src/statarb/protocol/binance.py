"""Binance USD-M futures stream protocol: stream names, routes, URLs, frame parsing, backoff.

Pure functions and small value types, no I/O: the client (:mod:`statarb.ingest.binance`) and the
replay server (:mod:`statarb.venue.server`) share them, and tests feed them recorded frames.

Routes (since April 2026): ``aggTrade`` and ``markPrice`` streams live on ``/market``,
``bookTicker`` on ``/public``; stream names are lower-case ``<symbol>@<kind>``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import orjson

from statarb.errors import InputError
from statarb.model import Quote, Tick

StreamKind = Literal["aggTrade", "bookTicker", "markPrice"]
Route = Literal["market", "public"]

#: route of every stream kind the client subscribes to
STREAM_ROUTES: dict[str, Route] = {
    "aggTrade": "market",
    "markPrice": "market",
    "bookTicker": "public",
}
SOURCE = "binance"

#: kline intervals of USD-M streams and REST
KLINE_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d",
                   "3d", "1w", "1M")  # fmt: skip
_KLINE = "|".join(KLINE_INTERVALS)
#: stream names carried on ``/public`` (high-frequency book data and raw trades)
PUBLIC_STREAM_RE = re.compile(
    r"^[a-z0-9]+@(bookTicker|trade|depth(5|10|20)?(@(0|100|250|500)ms)?|rpiDepth@500ms)$"
    r"|^!bookTicker$"
)
#: stream names carried on ``/market``
MARKET_STREAM_RE = re.compile(
    rf"^[a-z0-9]+@(aggTrade|markPrice(@1s)?|kline_({_KLINE})|miniTicker|ticker|forceOrder"
    r"|compositeIndex)$"
    r"|^[a-z0-9]+_(perpetual|current_quarter|next_quarter)@continuousKline_(" + _KLINE + r")$"
    r"|^!(markPrice@arr(@1s)?|miniTicker@arr|ticker@arr|forceOrder@arr|contractInfo|assetIndex@arr)$"
)
#: control methods of a stream connection
CONTROL_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")

# REST error codes (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code)
ERR_UNKNOWN = -1000
ERR_TOO_MANY_REQUESTS = -1003
ERR_ILLEGAL_CHARS = -1100
ERR_MANDATORY = -1102
ERR_BAD_INTERVAL = -1120
ERR_BAD_SYMBOL = -1121
ERR_WINDOW_TOO_BIG = -1127
ERR_BAD_LIMIT = -1130


def error_body(code: int, msg: str) -> bytes:
    """A REST error body ``{"code": <negative int>, "msg": ...}``."""
    return orjson.dumps({"code": code, "msg": msg})


def stream_route_of(name: str) -> Route | None:
    """The route of any well-formed stream name (``None`` if the name is invalid)."""
    if PUBLIC_STREAM_RE.match(name):
        return "public"
    if MARKET_STREAM_RE.match(name):
        return "market"
    return None


@dataclass(frozen=True, slots=True)
class MarkPrice:
    """One ``markPriceUpdate`` event (times in epoch µs UTC).

    Attributes
    ----------
    symbol
        Upper-case instrument.
    ts
        Event time.
    mark_price, index_price
        Mark and index price.
    funding_rate
        The current funding rate (a fraction, e.g. ``0.0001``).
    next_funding_time
        When the next funding is settled.
    recv_ts
        Local receipt time.
    """

    symbol: str
    ts: int
    mark_price: float
    index_price: float
    funding_rate: float
    next_funding_time: int
    recv_ts: int | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply to a control request: ``result`` on success, ``error`` (code, msg) on failure."""

    id: Any
    result: Any = None
    error: dict[str, Any] | None = None


Event = Tick | Quote | MarkPrice | Reply | None
#: a trade as a tuple in :class:`~statarb.model.Tick` field order (``Tick(*row)`` builds one):
#: (symbol, ts, price, size, is_buyer_maker, trade_id, source, recv_ts)
TradeRow = tuple[str, int, float, float, "bool | None", "int | None", str, "int | None"]
#: a best bid/ask in :class:`~statarb.model.Quote` field order (``Quote(*row)``)
QuoteRow = tuple[str, int, float, float, float, float, "int | None", "int | None"]
EV_NONE, EV_TRADE, EV_QUOTE, EV_MARK, EV_REPLY = 0, 1, 2, 3, 4


def check_symbols(symbols: Iterable[str]) -> list[str]:
    """Upper-case, de-duplicated symbols in the given order; raise on a malformed one."""
    out: list[str] = []
    for s in symbols:
        sym = str(s).strip().upper()
        if not sym.isalnum() or not sym.isascii():
            raise InputError(f"symbol {s!r} is not valid; use letters and digits, e.g. BTCUSDT")
        if sym not in out:
            out.append(sym)
    return out


def stream_name(symbol: str, kind: str) -> str:
    """``"btcusdt@aggTrade"`` for ``("BTCUSDT", "aggTrade")``."""
    if kind not in STREAM_ROUTES:
        raise InputError(
            f"stream kind {kind!r} is not supported; use one of {sorted(STREAM_ROUTES)}"
        )
    return f"{symbol.lower()}@{kind}"


def route_of(stream: str) -> Route:
    """The route (``"market"`` or ``"public"``) that carries a stream name."""
    kind = stream.partition("@")[2].partition("@")[0]
    try:
        return STREAM_ROUTES[kind]
    except KeyError:
        raise InputError(f"stream {stream!r} has no known route") from None


def plan_connections(
    symbols: Sequence[str], kinds: Sequence[str], max_streams: int
) -> list[tuple[Route, list[str]]]:
    """Group the streams of ``symbols x kinds`` by route, at most ``max_streams`` per connection."""
    if max_streams < 1:
        raise InputError(f"max_streams_per_connection must be >= 1, got {max_streams}")
    by_route: dict[Route, list[str]] = {}
    for kind in kinds:
        for sym in symbols:
            by_route.setdefault(STREAM_ROUTES[kind], []).append(stream_name(sym, kind))
    plan: list[tuple[Route, list[str]]] = []
    routes: tuple[Route, ...] = ("market", "public")
    for route in routes:
        names = by_route.get(route, [])
        for i in range(0, len(names), max_streams):
            plan.append((route, names[i : i + max_streams]))
    return plan


def stream_url(ws_url: str, route: Route, streams: Sequence[str]) -> str:
    """Combined-mode URL ``<ws_url>/<route>/stream?streams=a/b`` (bare ``/stream`` if none)."""
    base = f"{ws_url.rstrip('/')}/{route}/stream"
    if not streams:
        return base
    return base + "?streams=" + quote("/".join(streams), safe="/@_!")


def control_message(method: str, req_id: int, params: Sequence[Any] | None = None) -> str:
    """A SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS request with an unsigned int id."""
    if req_id < 0:
        raise InputError(f"request id must be an unsigned integer, got {req_id}")
    msg: dict[str, Any] = {"method": method}
    if params is not None:
        msg["params"] = list(params)
    msg["id"] = req_id
    return orjson.dumps(msg).decode()


def decode_frame(raw: str | bytes, recv_ts: int) -> tuple[int, Any]:
    """Parse one text frame into ``(kind, value)`` without building objects (the hot path).

    ``EV_TRADE`` -> :data:`TradeRow`, ``EV_QUOTE`` -> :data:`QuoteRow`, ``EV_MARK`` ->
    :class:`MarkPrice`, ``EV_REPLY`` -> :class:`Reply`, ``EV_NONE`` -> ``None``. Bad data is
    refused at this edge: ``ValueError`` for invalid JSON, a price that is not positive and
    finite or a size that is negative or not finite (a trade's must be positive), ``TypeError``
    for an id, time, side or symbol of the wrong JSON type, ``KeyError`` for a missing field.
    """
    obj = orjson.loads(raw)
    data = obj.get("data", obj) if "stream" in obj else obj
    e = data.get("e") if type(data) is dict else None
    if e == "aggTrade":
        return EV_TRADE, _trade_row(data, data["a"], recv_ts)
    if e == "bookTicker":
        return EV_QUOTE, _quote_row(data, recv_ts)
    if e == "markPriceUpdate":
        ev_t, fund_t, p = data["E"], data["T"], _number(data["p"], "mark price")
        if type(ev_t) is not int or type(fund_t) is not int:
            raise TypeError(f"markPriceUpdate E={ev_t!r} T={fund_t!r}: integers expected")
        if not 0.0 < p < _INF:
            raise ValueError(f"mark price {data['p']!r} is not a positive finite number")
        return EV_MARK, MarkPrice(
            _symbol(data["s"]), ev_t * 1000, p, float(data["i"]), float(data["r"] or 0.0),
            fund_t * 1000, recv_ts,
        )  # fmt: skip
    if e == "trade":
        return EV_TRADE, _trade_row(data, data["t"], recv_ts)
    if e is None and ("result" in obj or "error" in obj) and "id" in obj:
        return EV_REPLY, Reply(obj["id"], obj.get("result"), obj.get("error"))
    return EV_NONE, None


_INF = float("inf")


def _trade_row(data: dict[str, Any], tid: Any, recv_ts: int) -> TradeRow:
    sym, t, m, p, q = data["s"], data["T"], data["m"], data["p"], data["q"]
    if (type(tid) is not int or type(t) is not int or type(m) is not bool
            or type(sym) is not str or tid < 0):  # fmt: skip
        raise TypeError(f"trade s={sym!r} id={tid!r} T={t!r} m={m!r}: want a string symbol, "
                        "an integer id >= 0, an integer time, a boolean side")  # fmt: skip
    if type(p) is str and type(q) is str:  # what Binance sends
        price, size = float(p), float(q)
    else:
        price, size = _number(p, "price"), _number(q, "quantity")
    if not (0.0 < price < _INF and 0.0 < size < _INF):  # NaN fails every comparison
        raise ValueError(f"trade {tid}: price {p!r} and size {q!r} must be positive and finite")
    return (sym, t * 1000, price, size, m, tid, SOURCE, recv_ts)


def _quote_row(data: dict[str, Any], recv_ts: int) -> QuoteRow:
    t, u = data.get("T", data.get("E", 0)), data["u"]
    b, bq, a, aq = data["b"], data["B"], data["a"], data["A"]
    if type(t) is not int or type(u) is not int:
        raise TypeError(f"bookTicker T={t!r} u={u!r}: integers expected")
    if type(b) is str and type(bq) is str and type(a) is str and type(aq) is str:
        bid, bid_size, ask, ask_size = float(b), float(bq), float(a), float(aq)
    else:
        bid, bid_size, ask, ask_size = (_number(v, "bookTicker value") for v in (b, bq, a, aq))
    if not (0.0 < bid < _INF and 0.0 < ask < _INF and 0.0 <= bid_size < _INF
            and 0.0 <= ask_size < _INF):  # fmt: skip
        raise ValueError(f"bookTicker {u}: prices {b!r}/{a!r} must be positive, sizes "
                         f"{bq!r}/{aq!r} non-negative, all finite")  # fmt: skip
    return (_symbol(data["s"]), t * 1000, bid, bid_size, ask, ask_size, u, recv_ts)


def _symbol(s: Any) -> str:
    if type(s) is not str:
        raise TypeError(f"symbol {s!r} is not a string")
    return s


def _number(v: Any, what: str) -> float:
    if type(v) is not str and type(v) is not float and type(v) is not int:
        raise TypeError(f"{what} {v!r} is not a decimal string or a number")
    return float(v)


def parse_frame(raw: str | bytes, recv_ts: int) -> Event:
    """Parse one text frame (combined ``{"stream","data"}`` or raw payload).

    Returns a :class:`~statarb.model.Tick` (``aggTrade``, or ``trade`` with ``a = t``), a
    :class:`~statarb.model.Quote` (``bookTicker``), a :class:`MarkPrice`, a :class:`Reply` to a
    control request, or ``None`` for kinds the client does not use (depth, kline, ...). Unknown
    keys are ignored. Raises ``ValueError``/``KeyError``/``TypeError`` on a malformed frame.
    """
    kind, value = decode_frame(raw, recv_ts)
    if kind == EV_TRADE:
        return Tick(*value)
    if kind == EV_QUOTE:
        return Quote(*value)
    return value  # type: ignore[no-any-return,unused-ignore]


def tick_row(t: Tick) -> TradeRow:
    """A :class:`~statarb.model.Tick` as a :data:`TradeRow`."""
    return (t.symbol, t.ts, t.price, t.size, t.is_buyer_maker, t.trade_id, t.source, t.recv_ts)


def quote_row(q: Quote) -> QuoteRow:
    """A :class:`~statarb.model.Quote` as a :data:`QuoteRow`."""
    return (q.symbol, q.ts, q.bid, q.bid_size, q.ask, q.ask_size, q.update_id, q.recv_ts)


def event_time_ms(raw_event: Tick | Quote | MarkPrice) -> int:
    """Exchange time of an event in ms (for the receipt-latency statistic)."""
    return raw_event.ts // 1000


def rest_trade_to_tick(symbol: str, row: dict[str, Any], recv_ts: int) -> Tick:
    """One ``/fapi/v1/aggTrades`` row as a :class:`~statarb.model.Tick` (checked as frames are)."""
    return Tick(*_trade_row({**row, "s": symbol}, row["a"], recv_ts))


def backoff_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Reconnect delay with exponential growth, full jitter and a cap.

    ``rand() * min(cap, base * 2**attempt)`` seconds; ``attempt`` counts failures since the
    last healthy connection (0 for the first retry).

    Examples
    --------
    >>> backoff_delay(3, base=0.5, cap=30.0, rand=lambda: 1.0)
    4.0
    >>> backoff_delay(20, base=0.5, cap=30.0, rand=lambda: 1.0)
    30.0
    """
    if attempt < 0:
        raise InputError(f"attempt must be >= 0, got {attempt}")
    if base <= 0 or cap < base:
        raise InputError(f"backoff needs 0 < base <= cap, got base={base}, cap={cap}")
    ceiling = cap if attempt >= 63 else min(cap, base * (1 << attempt))
    return rand() * ceiling


__all__ = [
    "CONTROL_METHODS",
    "ERR_BAD_INTERVAL",
    "ERR_BAD_LIMIT",
    "ERR_BAD_SYMBOL",
    "ERR_ILLEGAL_CHARS",
    "ERR_MANDATORY",
    "ERR_TOO_MANY_REQUESTS",
    "ERR_UNKNOWN",
    "ERR_WINDOW_TOO_BIG",
    "EV_MARK",
    "EV_NONE",
    "EV_QUOTE",
    "EV_REPLY",
    "EV_TRADE",
    "KLINE_INTERVALS",
    "MARKET_STREAM_RE",
    "PUBLIC_STREAM_RE",
    "STREAM_ROUTES",
    "MarkPrice",
    "QuoteRow",
    "Reply",
    "Route",
    "StreamKind",
    "TradeRow",
    "backoff_delay",
    "check_symbols",
    "control_message",
    "decode_frame",
    "error_body",
    "event_time_ms",
    "parse_frame",
    "plan_connections",
    "quote_row",
    "rest_trade_to_tick",
    "route_of",
    "stream_name",
    "stream_route_of",
    "stream_url",
    "tick_row",
]
