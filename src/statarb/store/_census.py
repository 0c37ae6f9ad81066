"""Row counts and time extents of a store's tables, for planning and verifying a copy.

Counted with plain SQL over the layout both backends share (see :mod:`statarb.store._schema`),
through the statement runner of :class:`~statarb.store._alerts.AlertPersistence`: the counts are
of the rows themselves, not of the per-symbol statistics the writers keep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statarb.store import _common as c
from statarb.store.base import TickStore

Execute = Callable[..., tuple[list[tuple[Any, ...]], int]]


@dataclass(frozen=True, slots=True)
class Extent:
    """How many rows a table holds (in a range) and their first and last time (epoch µs)."""

    rows: int = 0
    first: int | None = None
    last: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (times as ISO-8601 UTC)."""
        from statarb.timeutil import us_to_iso

        return {
            "rows": self.rows,
            "first": None if self.first is None else us_to_iso(self.first),
            "last": None if self.last is None else us_to_iso(self.last),
        }


def executor(store: TickStore) -> Execute:
    """The store's SQL statement runner; ``TypeError`` for a store that is not statarb's own."""
    from statarb.store._alerts import AlertPersistence

    if not isinstance(store, AlertPersistence):
        raise TypeError(
            f"copying needs a SQLite or PostgreSQL store from statarb.store.open_store, "
            f"got {type(store).__name__}"
        )
    return store._execute


def symbol_id(store: TickStore, symbol: str) -> int | None:
    """The store's integer id of ``symbol`` (``None`` when it holds nothing of it)."""
    rows, _ = executor(store)("SELECT id FROM symbols WHERE name = ?", (symbol,))
    return int(rows[0][0]) if rows else None


def _extent(row: tuple[Any, ...]) -> Extent:
    n, first, last = row
    return Extent(
        int(n), None if first is None else int(first), None if last is None else int(last)
    )


def table_extent(
    store: TickStore, table: str, symbol: str, start: int | None, end: int | None
) -> Extent:
    """Rows of ``symbol`` in ``ticks`` or ``quotes`` with ``ts`` in ``[start, end)``."""
    if table not in ("ticks", "quotes"):
        raise ValueError(f"table must be 'ticks' or 'quotes', got {table!r}")
    sid = symbol_id(store, symbol)
    if sid is None:
        return Extent()
    where, params = c.range_clause(start, end, "ts", "?")
    rows, _ = executor(store)(
        f"SELECT count(*), min(ts), max(ts) FROM {table} WHERE symbol_id = ?{where}",
        (sid, *params),
    )
    return _extent(rows[0])


def bar_extents(
    store: TickStore, symbol: str, start: int | None, end: int | None
) -> dict[str, Extent]:
    """Stored bars of ``symbol`` per timeframe with ``open_time`` in ``[start, end)``."""
    sid = symbol_id(store, symbol)
    if sid is None:
        return {}
    where, params = c.range_clause(start, end, "open_time", "?")
    rows, _ = executor(store)(
        "SELECT timeframe, count(*), min(open_time), max(open_time) FROM bars "
        f"WHERE symbol_id = ?{where} GROUP BY timeframe ORDER BY timeframe",
        (sid, *params),
    )
    return {str(tf): _extent(tuple(rest)) for tf, *rest in rows}


def alert_extents(store: TickStore, start: int | None, end: int | None) -> tuple[Extent, Extent]:
    """(rules, events): every rule; the events with ``ts`` in ``[start, end)``."""
    run = executor(store)
    rules, _ = run("SELECT count(*), NULL, NULL FROM alert_rules")
    where, params = c.range_clause(start, end, "ts", "?")
    events, _ = run(
        f"SELECT count(*), min(ts), max(ts) FROM alert_events WHERE 1 = 1{where}", params
    )
    return _extent(rules[0]), _extent(events[0])


def identity(store: TickStore) -> tuple[Any, ...]:
    """What tells two open stores apart: the file, or the server, database and schema."""
    from statarb.errors import StoreError
    from statarb.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        import os

        path = store._path
        return ("sqlite", id(store) if path == ":memory:" else os.path.realpath(path))
    run = executor(store)
    try:  # the cluster's id survives every way of reaching the server (socket, IPs, names)
        server: Any = run("SELECT system_identifier FROM pg_control_system()")[0][0][0]
    except StoreError:
        server = run("SELECT inet_server_addr(), inet_server_port()")[0][0]
    db, schema = run("SELECT current_database(), current_schema()")[0][0]
    return ("postgresql", server, db, schema)


__all__ = [
    "Extent",
    "alert_extents",
    "bar_extents",
    "executor",
    "identity",
    "symbol_id",
    "table_extent",
]
