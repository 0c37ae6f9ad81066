"""The store contract: what every backend (SQLite, PostgreSQL) provides.

Times are epoch µs UTC; ranges are ``start <= ts < end`` with ``None`` meaning unbounded. Writes are
idempotent: ticks with a trade id are unique on (symbol, trade_id), ticks without one on a content
key (symbol, ts, price, size); quotes on (symbol, ts, update_id) or content; bars are upserted on
(symbol, timeframe, open_time). Every write commits as one transaction unless it runs inside
:meth:`TickStore.transaction`, which groups several writes into one all-or-nothing unit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from statarb.model import BarBatch, QuoteBatch, TickBatch
from statarb.store._paper import PaperLedger


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """What is stored for one symbol."""

    symbol: str
    ticks: int
    first_ts: int | None
    last_ts: int | None
    quotes: int = 0
    #: timeframe name -> number of stored bars
    bars: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (times as ISO-8601 UTC)."""
        from statarb.timeutil import us_to_iso

        return {
            "symbol": self.symbol,
            "ticks": self.ticks,
            "first": None if self.first_ts is None else us_to_iso(self.first_ts),
            "last": None if self.last_ts is None else us_to_iso(self.last_ts),
            "quotes": self.quotes,
            "timeframes": sorted(self.bars),
            "bars": dict(self.bars),
        }


@runtime_checkable
class TickStore(Protocol):
    """A store of ticks, quotes and bars (and, for the engine, alert rules and history)."""

    url: str
    #: the paper trader's ledger (strategies, orders, fills, events)
    paper: PaperLedger

    def write_ticks(self, batch: TickBatch) -> int:
        """Store ticks, skipping ones already stored; return how many were new."""
        ...

    def write_quotes(self, batch: QuoteBatch) -> int:
        """Store quotes, skipping ones already stored; return how many were new."""
        ...

    def write_bars(self, bars: BarBatch) -> int:
        """Insert or replace bars on (symbol, timeframe, open_time); return rows written."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Group the writes inside the ``with`` block into one atomic transaction."""
        ...

    def symbols(self) -> list[SymbolInfo]:
        """Every symbol with stored ticks, quotes or bars, sorted by name."""
        ...

    def read_ticks(
        self, symbol: str, start: int | None = None, end: int | None = None
    ) -> TickBatch:
        """Ticks of one symbol in ``[start, end)`` ordered by (ts, trade_id)."""
        ...

    def iter_ticks(
        self,
        symbol: str,
        start: int | None = None,
        end: int | None = None,
        chunk: int = 1_000_000,
    ) -> Iterator[TickBatch]:
        """Like :meth:`read_ticks` in chunks of at most ``chunk`` rows (constant memory)."""
        ...

    def read_quotes(
        self, symbol: str, start: int | None = None, end: int | None = None
    ) -> QuoteBatch:
        """Quotes of one symbol in ``[start, end)`` ordered by ts."""
        ...

    def read_bars(
        self, symbol: str, timeframe: str, start: int | None = None, end: int | None = None
    ) -> BarBatch:
        """Stored bars of one symbol and timeframe with open_time in ``[start, end)``."""
        ...

    def last_trade_id(self, symbol: str) -> int | None:
        """The highest stored trade id of a symbol (for resuming a feed), or ``None``."""
        ...

    # -- alert rules and history (JSON-able dicts; the alerts package owns their shape) --------
    def save_alert_rule(self, rule: dict[str, Any]) -> int:
        """Insert a rule (no ``"id"`` key) or replace the rule with that ``"id"``; return its id."""
        ...

    def list_alert_rules(self) -> list[dict[str, Any]]:
        """Every stored rule as saved, each with its ``"id"``, ordered by id."""
        ...

    def delete_alert_rule(self, rule_id: int) -> bool:
        """Delete a rule (its history stays); return whether it existed."""
        ...

    def reserve_alert_event_ids(self, n: int) -> list[int]:
        """Reserve ``n`` ascending ids that the store never assigns to another alert event."""
        ...

    def add_alert_event(self, event: dict[str, Any]) -> int:
        """Record a trigger (``rule_id``, ``ts`` in epoch µs, any JSON payload); return its id.

        An ``"id"`` (from :meth:`reserve_alert_event_ids`) is kept; recording it again is a no-op.
        """
        ...

    def update_alert_event(self, event_id: int, changes: dict[str, Any]) -> None:
        """Merge ``changes`` (e.g. delivery status) into a recorded trigger."""
        ...

    def list_alert_events(
        self,
        *,
        rule_id: int | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Recorded triggers, newest first, each with ``"id"``, ``"rule_id"`` and ``"ts"``."""
        ...

    # -- the book of watched pairs (the engine owns the settings' shape) -----------------------
    def save_book_pair(self, a: str, b: str, timeframe: str, settings: dict[str, Any]) -> int:
        """Add a pair to the book (or replace its settings); return its id."""
        ...

    def list_book_pairs(self) -> list[dict[str, Any]]:
        """Every pair of the book (``id``, ``a``, ``b``, ``timeframe``, ``settings``)."""
        ...

    def delete_book_pair(self, pair_id: int) -> bool:
        """Remove a pair from the book; return whether it was there."""
        ...

    def close(self) -> None:
        """Flush and release the connection."""
        ...


__all__ = ["SymbolInfo", "TickStore"]
