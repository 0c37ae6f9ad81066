"""Bring a store's schema to the version this code knows, one migration per transaction.

Migrations are the statement lists of :mod:`statarb.store._schema`; version ``k`` is the k-th.
A newer schema than known is refused (an older statarb must not write into it); a read-only open
never migrates and refuses an older schema.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from statarb.errors import StoreError
from statarb.store._common import now_us
from statarb.store._schema import POSTGRES_MIGRATIONS, POSTGRES_VERSION_TABLE, SQLITE_MIGRATIONS

_PG_MIGRATION_LOCK = 0x57A7A4B  # pg_advisory_xact_lock key: one migrator at a time


def check_version(have: int, known: int, where: str, *, read_only: bool) -> None:
    """Raise :class:`StoreError` when a store at ``have`` cannot be used by code at ``known``."""
    if have > known:
        raise StoreError(
            f"{where} has schema version {have}, newer than this statarb knows ({known}); "
            "upgrade statarb to open it"
        )
    if read_only and have < known:
        raise StoreError(
            f"{where} is at schema version {have}, expected {known}; "
            "open it once read-write (e.g. statarb serve) to migrate it"
        )


def sqlite_version(con: sqlite3.Connection) -> int:
    """The schema version recorded in ``PRAGMA user_version``."""
    return int(con.execute("PRAGMA user_version").fetchone()[0])


def migrate_sqlite(con: sqlite3.Connection, where: str, *, read_only: bool) -> None:
    """Apply the missing SQLite migrations (connection in autocommit mode)."""
    known = len(SQLITE_MIGRATIONS)
    check_version(sqlite_version(con), known, where, read_only=read_only)
    if read_only:
        return
    for version in range(sqlite_version(con) + 1, known + 1):
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:  # e.g. another process holds the write lock
            raise StoreError(f"migrating {where} to version {version} failed: {exc}") from exc
        try:
            # re-check inside the write lock: another process may have migrated meanwhile
            if sqlite_version(con) < version:
                for stmt in SQLITE_MIGRATIONS[version - 1]:
                    con.execute(stmt)
                con.execute(f"PRAGMA user_version = {int(version)}")
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            con.execute("ROLLBACK")
            raise StoreError(f"migrating {where} to version {version} failed: {exc}") from exc
        except BaseException:
            con.execute("ROLLBACK")
            raise


def postgres_version(con: Any) -> int:
    """The highest version in ``schema_version`` (0 when the table does not exist yet)."""
    row = con.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate_postgres(con: Any, where: str, *, read_only: bool) -> None:
    """Apply the missing PostgreSQL migrations (psycopg connection in autocommit mode)."""
    import psycopg

    known = len(POSTGRES_MIGRATIONS)
    check_version(postgres_version(con), known, where, read_only=read_only)
    if read_only:
        return
    for version in range(postgres_version(con) + 1, known + 1):
        try:
            with con.transaction():
                con.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_MIGRATION_LOCK,))
                con.execute(POSTGRES_VERSION_TABLE)
                if postgres_version(con) >= version:
                    continue
                for stmt in POSTGRES_MIGRATIONS[version - 1]:
                    con.execute(stmt)
                con.execute(
                    "INSERT INTO schema_version (version, applied_us) VALUES (%s, %s)",
                    (version, now_us()),
                )
        except psycopg.Error as exc:
            raise StoreError(f"migrating {where} to version {version} failed: {exc}") from exc


__all__ = [
    "check_version",
    "migrate_postgres",
    "migrate_sqlite",
    "postgres_version",
    "sqlite_version",
]
