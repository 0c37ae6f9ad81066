"""Cache of pair-scan results in the store (SQLite or PostgreSQL), one row per tested pair.

A row is keyed by the pair (dependent ``a``, regressor ``b``), the bar timeframe and window
(``start_us``/``end_us``, epoch µs) and the scan parameters (:meth:`ScanParams.key`); it also
keeps ``data_key``, a hash of both legs' aligned bars. A lookup returns a row only when the
``data_key`` still matches, so a pair whose bars changed inside the same window (a backfill, a
late import) is recomputed and every other pair is read back. Rows are written chunk by chunk
as the scan runs, each chunk in one transaction, so an interrupted scan resumes where it
stopped.

The table lives beside the store's own tables but outside its versioned migrations: it is a
cache, created on first use (``CREATE TABLE IF NOT EXISTS``) and safe to drop at any time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from statarb.errors import StoreError

TABLE = "scan_pair_cache"

#: result fields stored per pair, in column order
FIELDS = ("statistic", "used_lag", "nobs", "icbest", "hl_b", "correlation", "status")

_DDL = {
    "sqlite": f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        a TEXT NOT NULL, b TEXT NOT NULL, timeframe TEXT NOT NULL,
        start_us INTEGER NOT NULL, end_us INTEGER NOT NULL, params TEXT NOT NULL,
        data_key TEXT NOT NULL,
        statistic REAL, used_lag INTEGER NOT NULL, nobs INTEGER NOT NULL, icbest REAL,
        hl_b REAL, correlation REAL, status INTEGER NOT NULL, computed_us INTEGER NOT NULL,
        PRIMARY KEY (timeframe, start_us, end_us, params, a, b)
    ) WITHOUT ROWID""",
    "postgres": f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        a TEXT NOT NULL, b TEXT NOT NULL, timeframe TEXT NOT NULL,
        start_us BIGINT NOT NULL, end_us BIGINT NOT NULL, params TEXT NOT NULL,
        data_key TEXT NOT NULL,
        statistic DOUBLE PRECISION, used_lag INTEGER NOT NULL, nobs BIGINT NOT NULL,
        icbest DOUBLE PRECISION, hl_b DOUBLE PRECISION, correlation DOUBLE PRECISION,
        status SMALLINT NOT NULL, computed_us BIGINT NOT NULL,
        PRIMARY KEY (timeframe, start_us, end_us, params, a, b)
    )""",
}

_KEY = ("timeframe", "start_us", "end_us", "params")
_UPSERT = (
    f"INSERT INTO {TABLE} (a, b, {', '.join(_KEY)}, data_key, {', '.join(FIELDS)}, computed_us) "
    f"VALUES ({', '.join(['?'] * (len(_KEY) + len(FIELDS) + 4))}) "
    "ON CONFLICT (timeframe, start_us, end_us, params, a, b) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ("data_key", *FIELDS, "computed_us"))
)


class ScanCache:
    """Pair-scan results cached in the store named by ``url`` (its own connection).

    Parameters
    ----------
    url
        The store URL (``sqlite:///file.db`` or ``postgresql://...[?schema=name]``).

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> cache = ScanCache(f"sqlite:///{os.path.join(d, 's.db')}")
    >>> cache.lookup("1m", 0, 60_000_000, "p", [("A", "B", "k")])
    {}
    >>> cache.close()
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        if url.startswith("sqlite:"):
            self._kind = "sqlite"
            self._con = self._sqlite(url)
        elif url.startswith(("postgresql:", "postgres:")):
            self._kind = "postgres"
            self._con = self._postgres(url)
        else:
            raise StoreError(f"unknown store URL {url!r} for the scan cache")

    @staticmethod
    def _sqlite(url: str) -> Any:
        import sqlite3
        from pathlib import Path

        from statarb.store.sqlite import sqlite_path

        path = sqlite_path(url)
        if path == ":memory:":
            raise StoreError("the scan cache needs a store file, not sqlite:///:memory:")
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA busy_timeout = 10000")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute(_DDL["sqlite"])
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the scan cache in {path}: {exc}") from exc
        return con

    @staticmethod
    def _postgres(url: str) -> Any:
        import psycopg
        from psycopg import sql

        from statarb.store.postgres import redact, split_url

        conninfo, schema = split_url(url)
        try:
            con = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
            if schema:
                con.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
                con.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            con.execute(_DDL["postgres"])
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the scan cache in {redact(conninfo)}: {exc}") from exc
        return con

    def _sql(self, sql: str) -> str:
        return sql if self._kind == "sqlite" else sql.replace("?", "%s")

    def lookup(
        self,
        timeframe: str,
        start_us: int,
        end_us: int,
        params: str,
        pairs: Iterable[tuple[str, str, str]],
    ) -> dict[tuple[str, str], tuple[Any, ...]]:
        """Cached results of ``pairs`` (``(a, b, data_key)``) whose data key still matches.

        Returns ``{(a, b): (statistic, used_lag, nobs, icbest, hl_b, correlation, status)}``.
        """
        want = {(a, b): k for a, b, k in pairs}
        if not want:
            return {}
        sql = self._sql(
            f"SELECT a, b, data_key, {', '.join(FIELDS)} FROM {TABLE} "
            "WHERE timeframe = ? AND start_us = ? AND end_us = ? AND params = ?"
        )
        try:
            with self._lock:
                rows = self._con.execute(sql, (timeframe, start_us, end_us, params)).fetchall()
        except Exception as exc:
            raise StoreError(f"scan cache read failed: {exc}") from exc
        out: dict[tuple[str, str], tuple[Any, ...]] = {}
        for a, b, key, *vals in rows:
            if want.get((a, b)) == key:
                out[(a, b)] = tuple(vals)
        return out

    def save(
        self,
        timeframe: str,
        start_us: int,
        end_us: int,
        params: str,
        rows: Sequence[tuple[str, str, str, tuple[Any, ...]]],
        computed_us: int,
    ) -> None:
        """Store ``(a, b, data_key, fields)`` rows in one transaction (replacing older ones)."""
        if not rows:
            return
        args = [
            (a, b, timeframe, start_us, end_us, params, key, *vals, computed_us)
            for a, b, key, vals in rows
        ]
        sql = self._sql(_UPSERT)
        try:
            with self._lock:
                if self._kind == "sqlite":
                    self._con.execute("BEGIN IMMEDIATE")
                    try:
                        self._con.executemany(sql, args)
                    except BaseException:
                        self._con.execute("ROLLBACK")
                        raise
                    self._con.execute("COMMIT")
                else:
                    with self._con.transaction(), self._con.cursor() as cur:
                        cur.executemany(sql, args)
        except Exception as exc:
            raise StoreError(f"scan cache write failed: {exc}") from exc

    def clear(self) -> int:
        """Delete every cached row; return how many there were."""
        with self._lock:
            cur = self._con.execute(f"DELETE FROM {TABLE}")
            return int(cur.rowcount)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._con.close()

    def __enter__(self) -> ScanCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["FIELDS", "TABLE", "ScanCache"]
