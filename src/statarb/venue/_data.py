"""Recorded market data prepared for replay: one time-ordered event list, frames, REST answers.

Recordings are read with :func:`statarb.ingest.files.read_file` (aggTrade or trade frames, dumps,
CSV ... anything it understands). Trades are served as ``aggTrade`` (one trade per aggregate:
``a = f = l = t``) and as ``trade`` (or spoilt, for the ``malformed`` fault); quotes as
``bookTicker``. With ``loop`` the recording repeats with ids and times shifted forward each
round, so ids stay consecutive and time moves on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from statarb.errors import InputError
from statarb.model import QuoteBatch, TickBatch

KIND_TRADE = 0
KIND_QUOTE = 1


@dataclass
class Recording:
    """Every event of the replayed files, merged in exchange-time order.

    ``kind[i]``, ``sym[i]`` (index into ``symbols``) and ``row[i]`` (row in that symbol's trade or
    quote batch) describe event ``i``; ``ts`` is its exchange time (µs, non-decreasing).
    """

    symbols: list[str]
    trades: dict[str, TickBatch]
    quotes: dict[str, QuoteBatch]
    kind: np.ndarray
    sym: np.ndarray
    row: np.ndarray
    ts: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def duration_us(self) -> int:
        """Span of one round (first to last event, plus 1 ms)."""
        return int(self.ts[-1] - self.ts[0]) + 1000 if len(self.ts) else 0

    def id_span(self, symbol: str) -> int:
        """How far trade ids move per loop round."""
        ids = self.trades[symbol].trade_id
        return int(ids[-1] - ids[0] + 1) if len(ids) else 0


def load_recording(files: Sequence[Path]) -> Recording:
    """Read files into a :class:`Recording` (trades sorted and de-duplicated by id per symbol)."""
    from statarb.ingest.files import read_file

    ticks: dict[str, list[TickBatch]] = {}
    quotes: dict[str, list[QuoteBatch]] = {}
    for f in files:
        for chunk in read_file(f):
            for s, b in chunk.ticks.items():
                ticks.setdefault(s, []).append(b)
            for s, q in chunk.quotes.items():
                quotes.setdefault(s, []).append(q)
    trades = {s: _clean_trades(TickBatch.concat(bs)) for s, bs in ticks.items()}
    qts = {s: _concat_quotes(qs) for s, qs in quotes.items()}
    symbols = sorted(set(trades) | set(qts))
    if not symbols:
        raise InputError(f"no trades or quotes found in {[str(f) for f in files]}")
    parts = []
    for i, s in enumerate(symbols):
        if s in trades and len(trades[s]):
            t = np.maximum.accumulate(trades[s].ts)  # keeps id order when times tie or step back
            parts.append((t, KIND_TRADE, i))
        if s in qts and len(qts[s]):
            parts.append((qts[s].ts, KIND_QUOTE, i))
    ts = np.concatenate([p[0] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[1], np.int8) for p in parts])
    sym = np.concatenate([np.full(len(p[0]), p[2], np.int32) for p in parts])
    row = np.concatenate([np.arange(len(p[0]), dtype=np.int64) for p in parts])
    order = np.argsort(ts, kind="stable")
    return Recording(symbols, trades, qts, kind[order], sym[order], row[order], ts[order])


def _clean_trades(b: TickBatch) -> TickBatch:
    if np.any(b.trade_id < 0):
        raise InputError(f"{b.symbol}: replay needs trade ids on every trade")
    _, first = np.unique(b.trade_id, return_index=True)
    return b.take(first)  # np.unique sorts by id


def _concat_quotes(qs: list[QuoteBatch]) -> QuoteBatch:
    cols = ("ts", "bid", "bid_size", "ask", "ask_size", "update_id")
    arrays = {c: np.concatenate([getattr(x, c) for x in qs]) for c in cols}
    order = np.argsort(arrays["ts"], kind="stable")
    a = {c: v[order] for c, v in arrays.items()}
    return QuoteBatch(qs[0].symbol, a["ts"], a["bid"], a["bid_size"], a["ask"], a["ask_size"],
                      a["update_id"])  # fmt: skip


def _num(x: float) -> str:
    return repr(float(x))


def agg_trade(b: TickBatch, j: int, rnd: int, span: int, dur: int) -> dict[str, Any]:
    """The ``aggTrade`` payload of trade ``j`` in round ``rnd`` (REST rows drop e, E, s)."""
    tid = int(b.trade_id[j]) + rnd * span
    t_ms = (int(b.ts[j]) + rnd * dur) // 1000
    return {
        "e": "aggTrade", "E": t_ms, "s": b.symbol, "a": tid, "p": _num(b.price[j]),
        "q": _num(b.size[j]), "f": tid, "l": tid, "T": t_ms, "m": bool(b.side[j] == 1),
    }  # fmt: skip


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


def book_ticker(q: QuoteBatch, j: int, rnd: int, dur: int) -> dict[str, Any]:
    """The ``bookTicker`` payload of quote ``j`` in round ``rnd``."""
    t_ms = (int(q.ts[j]) + rnd * dur) // 1000
    u = int(q.update_id[j])
    u = j if u < 0 else u
    if rnd:  # update ids keep increasing from round to round
        u += rnd * (int(q.update_id.max()) + len(q) + 1)
    return {"e": "bookTicker", "u": u, "s": q.symbol, "b": _num(q.bid[j]),
            "B": _num(q.bid_size[j]), "a": _num(q.ask[j]), "A": _num(q.ask_size[j]),
            "T": t_ms, "E": t_ms}  # fmt: skip


def rest_rows(
    rec: Recording, symbol: str, released: int, *, from_id: int | None, limit: int,
    start_ms: int | None = None, end_ms: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """``/fapi/v1/aggTrades`` rows among the first ``released`` trades (counted over rounds)."""
    b = rec.trades.get(symbol)
    if b is None or not len(b) or released <= 0:
        return []
    n, span, dur = len(b), rec.id_span(symbol), rec.duration_us
    if from_id is not None:
        rnd = max(0, (from_id - int(b.trade_id[0])) // span)
        g = rnd * n + int(np.searchsorted(b.trade_id, from_id - rnd * span))
    elif start_ms is not None:
        g = _first_at(b, start_ms * 1000, dur, released)
    else:
        g = max(0, released - limit)
    out: list[dict[str, Any]] = []
    while g < released and len(out) < limit:
        row = agg_trade(b, g % n, g // n, span, dur)
        if end_ms is not None and row["T"] > end_ms:
            break
        del row["e"], row["E"], row["s"]
        out.append(row)
        g += 1
    return out


def _first_at(b: TickBatch, t_us: int, dur: int, released: int) -> int:
    n = len(b)
    rnd = max(0, (t_us - int(b.ts[0])) // dur) if dur else 0
    g = rnd * n + int(np.searchsorted(b.ts, t_us - rnd * dur))
    return min(g, released)


def exchange_info(rec: Recording, server_ms: int) -> dict[str, Any]:
    """A ``/fapi/v1/exchangeInfo`` answer (real schema) for the replayed symbols."""
    return {
        "timezone": "UTC", "serverTime": server_ms, "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [_symbol_info(rec, s) for s in rec.symbols],
    }  # fmt: skip


def _decimals(values: np.ndarray) -> int:
    for d in range(9):
        if np.allclose(np.round(values, d), values, rtol=0, atol=1e-9):
            return d
    return 8


def _symbol_info(rec: Recording, s: str) -> dict[str, Any]:
    b = rec.trades.get(s)
    pd = _decimals(b.price[:5000]) if b is not None and len(b) else 2
    qd = _decimals(b.size[:5000]) if b is not None and len(b) else 3
    base = s[:-4] if s.endswith(("USDT", "USDC")) else s[:-3]
    tick, step = f"{10.0**-pd:.{pd}f}", f"{10.0**-qd:.{qd}f}"
    return {
        "symbol": s, "pair": s, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": base, "quoteAsset": s[len(base):],
        "marginAsset": s[len(base):], "pricePrecision": pd, "quantityPrecision": qd,
        "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
        "underlyingSubType": [], "settlePlan": 0, "triggerProtect": "0.0500",
        "liquidationFee": "0.012500", "marketTakeBound": "0.05",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "4529764",
             "tickSize": tick},
            {"filterType": "LOT_SIZE", "stepSize": step, "maxQty": "1000", "minQty": step},
            {"filterType": "MARKET_LOT_SIZE", "stepSize": step, "maxQty": "120", "minQty": step},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": "100"},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
             "multiplierDecimal": "4"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT",
                       "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }  # fmt: skip


__all__ = [
    "MALFORMED_KINDS",
    "Recording",
    "agg_trade",
    "book_ticker",
    "exchange_info",
    "load_recording",
    "rest_rows",
    "spoilt",
]
