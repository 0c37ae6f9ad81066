"""Event payloads and the hub protocol of the engine (JSON shapes published to subscribers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from statarb.model import BarBatch, Tick, TickBatch
from statarb.timeutil import us_to_iso

if TYPE_CHECKING:
    from statarb.ingest.binance import FeedBatch


class Hub(Protocol):
    """Where the engine publishes live events (the API's WebSocket hub implements it)."""

    def publish(self, topic: str, type: str, data: Any) -> None:
        """Queue ``{topic, type, data}`` for every subscriber of ``topic``; never blocks."""
        ...

    def wants(self, topic: str) -> bool:
        """Whether anyone listens to ``topic`` (lets the engine skip building payloads)."""
        ...


class NullHub:
    """A hub with no subscribers."""

    def publish(self, topic: str, type: str, data: Any) -> None:
        """Drop the event."""

    def wants(self, topic: str) -> bool:
        """Nobody listens."""
        return False


def tick_dict(t: Tick) -> dict[str, Any]:
    """A tick as JSON (``ts`` epoch µs and ``time`` ISO-8601 UTC)."""
    return {"symbol": t.symbol, "ts": t.ts, "time": us_to_iso(t.ts), "price": t.price,
            "size": t.size, "is_buyer_maker": t.is_buyer_maker, "trade_id": t.trade_id}  # fmt: skip


def bar_dict(bars: BarBatch, i: int) -> dict[str, Any]:
    """Bar ``i`` of a batch as JSON (``time`` is the ISO-8601 UTC open time)."""
    ot = int(bars.open_time[i])
    return {
        "symbol": bars.symbol, "timeframe": bars.timeframe, "time": us_to_iso(ot),
        "open_time": ot, "open": float(bars.open[i]), "high": float(bars.high[i]),
        "low": float(bars.low[i]), "close": float(bars.close[i]),
        "volume": float(bars.volume[i]), "notional": float(bars.notional[i]),
        "trades": int(bars.trades[i]), "taker_buy_volume": float(bars.taker_buy_volume[i]),
    }  # fmt: skip


def with_recv(t: Tick, now: int) -> Tick:
    return Tick(t.symbol, t.ts, t.price, t.size, t.is_buyer_maker, t.trade_id, t.source, now)


def bar_obj(bar: Any) -> dict[str, Any]:
    return {"symbol": bar.symbol, "timeframe": bar.timeframe, "time": us_to_iso(bar.open_time),
            "open_time": bar.open_time, "open": bar.open, "high": bar.high, "low": bar.low,
            "close": bar.close, "volume": bar.volume, "notional": bar.notional,
            "trades": bar.trades, "taker_buy_volume": bar.taker_buy_volume}  # fmt: skip


def group_rows(rows: Sequence[Any]) -> dict[str, TickBatch]:
    """Trade rows (``Tick`` field order) as one :class:`TickBatch` per symbol, in arrival order."""
    from operator import itemgetter

    from statarb.ingest.writer import rows_to_tick_batch

    if rows and all(map(rows[0][0].__eq__, map(itemgetter(0), rows))):  # one symbol: no loop
        return {rows[0][0]: rows_to_tick_batch(rows[0][0], rows)}
    by_sym: dict[str, list[Any]] = {}
    for r in rows:
        lst = by_sym.get(r[0])
        if lst is None:
            lst = by_sym[r[0]] = []
        lst.append(r)
    return {s: rows_to_tick_batch(s, v) for s, v in by_sym.items()}


def feed_batch(ticks: Sequence[Tick]) -> FeedBatch:
    from statarb.ingest.binance import FeedBatch

    return FeedBatch.of(ticks=ticks)


__all__ = [
    "Hub",
    "NullHub",
    "bar_dict",
    "bar_obj",
    "feed_batch",
    "group_rows",
    "tick_dict",
    "with_recv",
]
