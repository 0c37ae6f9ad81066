"""Tick stores: SQLite (embedded default) and PostgreSQL (scale-out), one contract."""

from __future__ import annotations

from statarb.errors import StoreError
from statarb.store.base import SymbolInfo, TickStore


def open_store(url: str, *, read_only: bool = False) -> TickStore:
    """Open (creating and migrating if needed) the store named by ``url``.

    Parameters
    ----------
    url
        ``sqlite:///relative/or/absolute/path.db`` (``sqlite:////abs/path.db`` also works) or
        ``postgresql://user@host:port/dbname``; a ``?schema=name`` parameter keeps the PostgreSQL
        tables in that schema (created if missing).
    read_only
        Open for reading only (the dashboard); no migrations are run.
    """
    if url.startswith("sqlite:"):
        from statarb.store.sqlite import SQLiteStore

        return SQLiteStore(url, read_only=read_only)
    if url.startswith(("postgresql:", "postgres:")):
        from statarb.store.postgres import PostgresStore

        return PostgresStore(url, read_only=read_only)
    raise StoreError(
        f"unknown store URL {url!r}: use sqlite:///path/to/file.db or postgresql://host/db"
    )


__all__ = ["SymbolInfo", "TickStore", "open_store"]
