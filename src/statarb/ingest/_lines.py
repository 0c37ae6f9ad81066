"""Line readers: NDJSON rows and recorded Binance WebSocket frames (orjson, one row a line)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import IO, Any

import orjson

from statarb.errors import InputError
from statarb.ingest._chunk import (
    ChunkBuilder,
    FileChunk,
    valid_price,
    valid_size,
    valid_symbol,
    valid_ts,
)
from statarb.ingest._formats import ALIASES
from statarb.model import NO_ID, SIDE_BUYER_MAKER, SIDE_BUYER_TAKER, SIDE_UNKNOWN
from statarb.timeutil import epoch_to_us, parse_time

_ROW_ERRORS = (KeyError, TypeError, ValueError, InputError, OverflowError, AttributeError)
_SELL = {"sell", "s", "ask", "true", "1"}
_BUY = {"buy", "b", "bid", "false", "0"}


def read_lines(
    stream: IO[bytes],
    raw: IO[bytes],
    *,
    source: str,
    symbol: str | None,
    chunk_rows: int,
    size: int,
) -> Iterator[FileChunk]:
    """Parse NDJSON / WebSocket lines into chunks of at most ``chunk_rows`` rows.

    ``size`` is the file size on disk; the chunks' ``bytes_read`` add up to it.
    """
    b = ChunkBuilder(source)
    pos = 0
    for lineno, line in enumerate(stream, 1):
        _parse_line(b, line, lineno, symbol)
        if b.rows >= chunk_rows:
            now = max(pos, min(raw.tell(), size))
            yield b.flush(now - pos)
            pos = now
    yield b.flush(max(0, size - pos))


def _split_prefix(line: bytes) -> tuple[bytes, int] | None:
    """``(json, recv_ts)`` of a line; ``None`` when it is not a frame (e.g. a URL line)."""
    if line[:1] in (b"{", b"["):
        return line, 0
    sp = line.find(b" ")
    if sp <= 0:
        return None
    prefix = line[:sp].rstrip(b":")
    rest = line[sp + 1 :].lstrip()
    if not rest.startswith((b"{", b"[")):
        return None
    if prefix.isdigit() and len(prefix) == 19:  # unix ns, the common case
        return rest, int(prefix) // 1000
    try:
        num: int | float = int(prefix)
    except ValueError:
        try:
            num = float(prefix)
        except ValueError:
            return None
    if not (isinstance(num, int) or math.isfinite(num)) or num <= 0:
        return None
    return rest, epoch_to_us(num)


def _parse_line(b: ChunkBuilder, line: bytes, lineno: int, symbol: str | None) -> None:
    line = line.strip()
    if not line:
        return
    split = _split_prefix(line)
    if split is None:
        b.skip("text")
        return
    payload, recv = split
    if recv and not valid_ts(recv):  # a prefix out of range would overflow the int64 column
        b.error(lineno, "receive time prefix is not between 1970 and 3000", line)
        return
    if payload.startswith(b'{"stream":"') and b"@depth" in payload[11:64].split(b'"', 1)[0]:
        b.skip("depthUpdate")  # order-book streams are not imported: skip before parsing
        return
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        b.error(lineno, f"invalid JSON: {exc}", line)
        return
    if not isinstance(obj, dict):
        b.error(lineno, f"expected a JSON object, got {type(obj).__name__}", line)
        return
    data = obj.get("data")
    if "stream" in obj and isinstance(data, dict):
        obj = data
    try:
        _dispatch(b, obj, recv, symbol, lineno, line)
    except _ROW_ERRORS as exc:
        b.error(lineno, _reason(exc), line)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _dispatch(
    b: ChunkBuilder, obj: dict[str, Any], recv: int, symbol: str | None, lineno: int, line: bytes
) -> None:
    event = obj.get("e")
    if event == "trade" or event == "aggTrade":
        tid = obj["t"] if event == "trade" else obj["a"]
        _add_tick(
            b,
            lineno,
            line,
            _symbol(obj.get("s"), symbol),
            _exchange_us(obj["T"]),
            float(obj["p"]),
            float(obj["q"]),
            _side(obj.get("m")),
            _int_id(tid),
            recv,
        )
    elif event == "bookTicker":
        _add_quote(b, lineno, line, obj, symbol)
    elif isinstance(event, str):
        b.skip(event)
    elif "lastUpdateId" in obj:
        b.skip("depthSnapshot")
    else:
        _add_record(b, lineno, line, obj, recv, symbol)


def _exchange_us(v: Any) -> int:
    """Exchange time (epoch ms from Binance; other units by magnitude) to epoch µs."""
    if type(v) is int and 100_000_000_000 <= v < 100_000_000_000_000:
        return v * 1000
    return epoch_to_us(_number(v, "T"))


def _number(v: Any, name: str) -> int | float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        if isinstance(v, str):
            return parse_time(v)
        raise ValueError(f"{name} must be a number, got {v!r}")
    return v


def _int_id(v: Any) -> int:
    if v is None:
        return NO_ID
    if isinstance(v, bool) or not isinstance(v, int | str):
        raise ValueError(f"trade id must be an integer, got {v!r}")
    i = int(v)
    if not 0 <= i < 2**63:
        raise ValueError(f"trade id {v!r} is out of range")
    return i


def _symbol(row_symbol: Any, default: str | None) -> str:
    if isinstance(row_symbol, str) and row_symbol.strip():
        sym = row_symbol.strip()
        if not (sym.isascii() and valid_symbol(sym.upper())):
            raise ValueError(f"symbol {sym[:50]!r} is not valid: use letters, digits and _.-")
        return sym.upper()
    if default:
        return default
    raise ValueError("row has no symbol; give one with --symbol")


def _side(v: Any) -> int:
    if v is None:
        return SIDE_UNKNOWN
    if isinstance(v, bool):
        return SIDE_BUYER_MAKER if v else SIDE_BUYER_TAKER
    text = str(v).strip().lower()
    if text in _SELL:
        return SIDE_BUYER_MAKER
    if text in _BUY:
        return SIDE_BUYER_TAKER
    if text == "":
        return SIDE_UNKNOWN
    raise ValueError(f"side {v!r} is not buy/sell or true/false")


def _add_tick(
    b: ChunkBuilder,
    lineno: int,
    line: bytes,
    sym: str,
    ts: int,
    price: float,
    size: float,
    side: int,
    tid: int,
    recv: int,
) -> None:
    if not valid_price(price):
        b.error(lineno, f"price {price!r} is not a positive number", line)
    elif not valid_size(size):
        b.error(lineno, f"size {size!r} is not a non-negative number", line)
    elif not valid_ts(ts):
        b.error(lineno, f"timestamp {ts} (epoch µs) is not between 1970 and 3000", line)
    else:
        b.tick(sym, ts, price, size, side, tid, recv)


def _add_quote(
    b: ChunkBuilder, lineno: int, line: bytes, obj: dict[str, Any], symbol: str | None
) -> None:
    ts = _exchange_us(obj.get("T") or obj["E"])
    bid, bid_size = float(obj["b"]), float(obj["B"])
    ask, ask_size = float(obj["a"]), float(obj["A"])
    if not (valid_price(bid) and valid_price(ask)):
        b.error(lineno, f"bid {bid!r} / ask {ask!r} must be positive numbers", line)
    elif not (valid_size(bid_size) and valid_size(ask_size)):
        b.error(lineno, "bid/ask sizes must be non-negative numbers", line)
    elif not valid_ts(ts):
        b.error(lineno, f"timestamp {ts} (epoch µs) is not between 1970 and 3000", line)
    else:
        uid = _int_id(obj.get("u"))
        b.quote(_symbol(obj.get("s"), symbol), (ts, bid, bid_size, ask, ask_size, uid))


def _pick(obj: dict[str, Any], field_name: str) -> Any:
    for alias in ALIASES[field_name]:
        if alias in obj:
            return obj[alias]
    return None


def _add_record(
    b: ChunkBuilder, lineno: int, line: bytes, obj: dict[str, Any], recv: int, symbol: str | None
) -> None:
    ts_v, price_v, size_v = _pick(obj, "ts"), _pick(obj, "price"), _pick(obj, "size")
    if ts_v is None or price_v is None or size_v is None:
        b.error(
            lineno,
            f"object has keys {sorted(obj)[:8]}; expected time (ts/timestamp/time/T), "
            "price (price/p) and size (size/qty/quantity/q)",
            line,
        )
        return
    if isinstance(price_v, bool) or isinstance(size_v, bool):
        raise ValueError("price and size must be numbers")
    ts = parse_time(ts_v)
    _add_tick(
        b,
        lineno,
        line,
        _symbol(_pick(obj, "symbol"), symbol),
        ts,
        float(price_v),
        float(size_v),
        _side(_pick(obj, "side")),
        _int_id(_pick(obj, "trade_id")),
        recv,
    )
