"""The scale-out store: PostgreSQL through psycopg 3, bulk paths over binary COPY.

Ticks live in a table partitioned by symbol (one partition per symbol, created on its first
write) with BRIN indexes on ``ts`` and ``trade_id``: rows arrive mostly in time order, so the
indexes stay tiny and a bulk write is a binary COPY (payload built by numpy, see
:mod:`statarb.store._pgcopy`) straight into the partition. Idempotency is enforced by the writer
under a per-symbol advisory lock: the batch is deduplicated in numpy and keys already stored in
its id and time ranges are looked up (through BRIN) and dropped. Btree unique indexes cost about
3 µs per row to maintain here, several times the COPY itself. Quotes, being fewer, use a staging
table and ``INSERT ... ON CONFLICT DO NOTHING`` on a unique index.

Reads stream ``COPY (SELECT ...) TO STDOUT`` in binary, parsed by numpy and put in key order. The
connection runs in autocommit mode: every write is its own transaction unless grouped by
:meth:`PostgresStore.transaction` (savepoints when nested), and no read leaves a transaction open
on a long-lived engine connection.

TimescaleDB is not needed: per-symbol partitions with BRIN indexes give the same pruning for time
ranges; a hypertable would also need the time column in every unique key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from statarb.errors import InputError, StoreError
from statarb.masking import mask_url
from statarb.model import BarBatch, QuoteBatch, TickBatch, Timeframe
from statarb.store import _common as c
from statarb.store import _pgcopy, _pgticks
from statarb.store._alerts import AlertPersistence
from statarb.store._book import BookPersistence
from statarb.store._migrate import migrate_postgres, postgres_version
from statarb.store._paper import PaperLedger
from statarb.store.base import SymbolInfo

_TICK_LOCK = 0x57A7  # pg_advisory_xact_lock(class, symbol_id): one tick writer per symbol
_QUOTE_TYPES = ["i8", "i8", "f8", "f8", "f8", "f8"]
_MAX_PACKED_ROWS = 2_000_000
_COPY_PART_ROWS = 100_000

log = logging.getLogger(__name__)


def split_url(url: str) -> tuple[str, str | None]:
    """(libpq conninfo URL, schema or None) from ``postgresql://...[?schema=name]``."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise StoreError(
            f"PostgreSQL URL {mask_url(url)!r} is not valid: use postgresql://user@host/db"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    if schema is not None and (not schema or not schema.replace("_", "a").isalnum()):
        raise StoreError(f"schema {schema!r} is not valid: use letters, digits and underscores")
    return urlunsplit(parts._replace(query=rest)), schema


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


class PostgresStore(AlertPersistence, BookPersistence):
    """A :class:`~statarb.store.base.TickStore` in PostgreSQL.

    Parameters
    ----------
    url
        ``postgresql://user@host:port/dbname``; an optional ``schema=name`` query parameter keeps
        the tables in that schema (created if missing), other parameters go to libpq.
    read_only
        Refuse writes (the session is also ``default_transaction_read_only``); no migrations.

    A lost connection (server restart, terminated backend) fails the call that finds it with
    :class:`~statarb.errors.StoreError`; the next call outside a transaction reconnects.
    """

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only
        self._conninfo, self.schema = split_url(url)
        self._lock = threading.RLock()
        self._ids: dict[str, int] = {}
        self._parts: set[int] = set()
        self._depth = 0
        self.paper = PaperLedger(self._execute, self.transaction)
        self._con = self._connect()

    # -- connection and schema ------------------------------------------------------------
    def _connect(self) -> Any:
        import psycopg

        conninfo = self._conninfo
        try:
            given = psycopg.conninfo.conninfo_to_dict(conninfo)
            extra: dict[str, str | int] = {"connect_timeout": 10, "application_name": "statarb"}
            full = psycopg.conninfo.make_conninfo(
                conninfo, **{k: v for k, v in extra.items() if k not in given}
            )
            con = psycopg.connect(full, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL store {redact(conninfo)}: {exc}"
            ) from exc
        try:
            self._setup(con)
        except psycopg.Error as exc:
            con.close()
            raise StoreError(f"cannot set up PostgreSQL store {redact(conninfo)}: {exc}") from exc
        except BaseException:
            con.close()
            raise
        return con

    def _revive(self) -> None:
        """Reconnect when the connection was lost, unless a transaction is open on it."""
        if self._depth == 0 and self._con.broken:  # not after close()
            log.warning("PostgreSQL connection %s lost; reconnecting", redact(self._conninfo))
            self._ids.clear()
            self._parts.clear()
            self._con = self._connect()

    def _error(self, what: str, exc: Exception) -> StoreError:
        lost = " (connection lost; the next call reconnects)" if self._con.broken else ""
        return StoreError(f"PostgreSQL {what} failed{lost}: {exc}")

    @contextmanager
    def _reading(self, what: str = "read") -> Iterator[Any]:
        """The live connection under the lock; psycopg errors become :class:`StoreError`."""
        import psycopg

        with self._lock:
            self._revive()
            try:
                yield self._con
            except psycopg.Error as exc:
                raise self._error(what, exc) from exc

    def _setup(self, con: Any) -> None:
        from psycopg import sql

        if self.schema:
            if not self.read_only:
                con.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            con.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        # rows then arrive in physical (mostly key) order, so putting them in order is cheap;
        # the packing aggregate, not the scan, is what bounds a read
        con.execute("SET max_parallel_workers_per_gather = 0")
        if self.read_only:
            con.execute("SET default_transaction_read_only = on")
        migrate_postgres(con, "PostgreSQL store", read_only=self.read_only)
        if not self.read_only:
            con.execute(
                "CREATE TEMP TABLE IF NOT EXISTS stage_quotes (ts BIGINT, update_id BIGINT, "
                "bid DOUBLE PRECISION, bid_size DOUBLE PRECISION, ask DOUBLE PRECISION, "
                "ask_size DOUBLE PRECISION)"
            )
            con.execute(
                "CREATE TEMP TABLE IF NOT EXISTS stage_bars (open_time BIGINT, "
                "open DOUBLE PRECISION, high DOUBLE PRECISION, low DOUBLE PRECISION, "
                "close DOUBLE PRECISION, volume DOUBLE PRECISION, notional DOUBLE PRECISION, "
                "trades BIGINT, taker_buy_volume DOUBLE PRECISION)"
            )

    @property
    def schema_version(self) -> int:
        """The schema version the database is at (0 when no table exists yet)."""
        with self._reading() as con:
            return postgres_version(con)

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the writes inside the block into one atomic unit (nestable via savepoints).

        Any exception, ``KeyboardInterrupt`` included, rolls back the block.
        """
        import psycopg

        self._writable()
        with self._lock:
            self._revive()
            self._depth += 1
            try:
                with self._con.transaction():
                    yield
            except psycopg.Error as exc:
                self._ids.clear()
                self._parts.clear()
                raise self._error("transaction", exc) from exc
            except BaseException:
                self._ids.clear()  # ids and partitions created inside the block may be gone
                self._parts.clear()
                raise
            finally:
                self._depth -= 1

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("PostgreSQL store is open read-only; writes are refused")

    def _symbol_id(self, symbol: str, *, create: bool) -> int | None:
        sid = self._ids.get(symbol)
        if sid is not None:
            return sid
        with self._reading() as con:
            row = con.execute("SELECT id FROM symbols WHERE name = %s", (symbol,)).fetchone()
        if row is None:
            if not create:
                return None
            row = self._con.execute(
                "INSERT INTO symbols (name) VALUES (%s) ON CONFLICT (name) DO UPDATE "
                "SET name = excluded.name RETURNING id",
                (symbol,),
            ).fetchone()
            assert row is not None
            self._con.execute(
                "INSERT INTO symbol_stats (symbol_id) VALUES (%s) ON CONFLICT DO NOTHING", (row[0],)
            )
        self._ids[symbol] = int(row[0])
        return int(row[0])

    def _copy_in(
        self, table: Any, columns: list[tuple[np.ndarray, str]], *, truncate: bool = True
    ) -> None:
        from psycopg import sql

        target = sql.Identifier(table) if isinstance(table, str) else table
        if truncate:
            self._con.execute(sql.SQL("TRUNCATE {}").format(target))
        from psycopg.copy import QueuedLibpqWriter

        cur = self._con.cursor()
        big = len(columns[0][0]) > 2 * _COPY_PART_ROWS  # a writer thread pays off only then
        with cur.copy(
            sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(target),
            writer=QueuedLibpqWriter(cur) if big else None,
        ) as cp:
            for part in _pgcopy.encode(columns, rows_per_part=_COPY_PART_ROWS):
                cp.write(part)

    # -- writes -------------------------------------------------------------------------------
    def write_ticks(self, batch: TickBatch) -> int:
        """Store ticks, skipping ones already stored; return how many were new.

        Under a per-symbol advisory lock (so concurrent writers of one symbol cannot both add a
        tick), the batch is deduplicated in numpy, keys already stored in the batch's id and time
        ranges are looked up through the BRIN indexes and dropped, and the rest is streamed with
        binary COPY straight into the symbol's partition.
        """
        b = c.unique_ticks(c.sorted_ticks(batch))
        if not len(b):
            return 0
        with self.transaction():
            sid = self._symbol_id(b.symbol, create=True)
            assert sid is not None
            self._con.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_TICK_LOCK, sid))
            part = self._partition(sid)
            b = self._drop_stored(sid, b)
            if not len(b):
                return 0
            n = len(b)
            cols = [(np.full(n, sid, dtype=np.int32), "i4")]
            cols += list(
                zip([getattr(b, k) for k in c.TICK_COLUMNS], _pgticks.TICK_TYPES, strict=True)
            )
            self._copy_in(part, cols, truncate=False)
            ids = b.trade_id[b.trade_id >= 0]
            lo, hi = (int(ids.min()), int(ids.max())) if len(ids) else (None, None)
            self._con.execute(
                "UPDATE symbol_stats SET ticks = ticks + %s, first_ts = LEAST(first_ts, %s),"
                " last_ts = GREATEST(last_ts, %s), has_recv_ts = has_recv_ts OR %s,"
                " min_trade_id = LEAST(min_trade_id, %s), max_trade_id = GREATEST(max_trade_id, %s)"
                " WHERE symbol_id = %s",
                (n, int(b.ts.min()), int(b.ts.max()), bool(b.recv_ts.any()), lo, hi, sid),
            )
        return n

    def _partition(self, sid: int) -> Any:
        """The symbol's ticks partition (created on first use), as an SQL identifier."""
        from psycopg import sql

        name = f"ticks_s{int(sid)}"
        if sid not in self._parts:
            row = self._con.execute("SELECT to_regclass(%s)", (name,)).fetchone()
            if row is None or row[0] is None:
                self._con.execute(
                    sql.SQL("CREATE TABLE {} PARTITION OF ticks FOR VALUES IN ({})").format(
                        sql.Identifier(name), sql.Literal(int(sid))
                    )
                )
            self._parts.add(sid)
        return sql.Identifier(name)

    def _drop_stored(self, sid: int, b: TickBatch) -> TickBatch:
        row = self._con.execute(
            "SELECT first_ts, last_ts, min_trade_id, max_trade_id FROM symbol_stats "
            "WHERE symbol_id = %s",
            (sid,),
        ).fetchone()
        return _pgticks.drop_stored(b, sid, row, self._copy_out)

    def write_quotes(self, batch: QuoteBatch) -> int:
        """Store quotes, skipping ones already stored; return how many were new."""
        b = c.sorted_quotes(batch)
        if not len(b):
            return 0
        cols = [getattr(b, n) for n in c.QUOTE_COLUMNS]
        with self.transaction():
            sid = self._symbol_id(b.symbol, create=True)
            self._copy_in("stage_quotes", list(zip(cols, _QUOTE_TYPES, strict=True)))
            cur = self._con.execute(
                "INSERT INTO quotes SELECT %s, ts, update_id, bid, bid_size, ask, ask_size "
                "FROM stage_quotes ON CONFLICT DO NOTHING",
                (sid,),
            )
            new = max(cur.rowcount, 0)
            if new:
                self._con.execute(
                    "UPDATE symbol_stats SET quotes = quotes + %s WHERE symbol_id = %s", (new, sid)
                )
        return new

    def write_bars(self, bars: BarBatch) -> int:
        """Insert or replace bars on (symbol, timeframe, open_time); return rows written.

        Within one batch the last bar of an open time wins, as with a row-by-row upsert.
        """
        c.check_bars(bars)
        n = len(bars)
        if not n:
            return 0
        tf = Timeframe.parse(bars.timeframe).name
        last = bars.take(n - 1 - np.unique(bars.open_time[::-1], return_index=True)[1])
        cols = [(last.open_time, "i8")]
        cols += [(getattr(last, k), "i8" if k == "trades" else "f8") for k in c.BAR_VALUE_COLUMNS]
        names = ", ".join(c.BAR_VALUE_COLUMNS)
        sets = ", ".join(f"{k} = excluded.{k}" for k in c.BAR_VALUE_COLUMNS)
        count = (
            "SELECT count(*) FROM bars WHERE symbol_id = %s AND timeframe = %s "
            "AND open_time BETWEEN %s AND %s"
        )
        with self.transaction():
            sid = self._symbol_id(bars.symbol, create=True)
            span = (sid, tf, int(last.open_time[0]), int(last.open_time[-1]))
            before = self._scalar(count, span)
            self._copy_in("stage_bars", cols)
            self._con.execute(
                f"INSERT INTO bars SELECT %s, %s, open_time, {names} FROM stage_bars "
                f"ON CONFLICT (symbol_id, timeframe, open_time) DO UPDATE SET {sets}",
                (sid, tf),
            )
            added = self._scalar(count, span) - before
            if added:
                self._con.execute(
                    "INSERT INTO bar_stats (symbol_id, timeframe, bars) VALUES (%s, %s, %s) "
                    "ON CONFLICT (symbol_id, timeframe) DO UPDATE "
                    "SET bars = bar_stats.bars + excluded.bars",
                    (sid, tf, added),
                )
        return n

    def _scalar(self, query: str, params: tuple[Any, ...]) -> int:
        row = self._con.execute(query, params).fetchone()
        return int(row[0]) if row else 0

    # -- reads -------------------------------------------------------------------------------
    def _copy_out(self, query: str, params: tuple[Any, ...], types: list[str]) -> list[np.ndarray]:
        """Run a SELECT of NOT NULL fixed-width columns; its columns as numpy arrays."""
        with self._reading() as con:
            row = con.execute(_pgcopy.packed_query(query, types), params, binary=True).fetchone()
        return _pgcopy.unpack(None if row is None else row[0], types)

    @staticmethod
    def _where(start: int | None, end: int | None, col: str) -> tuple[str, tuple[int, ...]]:
        return c.range_clause(start, end, col, "%s")

    def read_ticks(
        self, symbol: str, start: int | None = None, end: int | None = None
    ) -> TickBatch:
        """Ticks of one symbol in ``[start, end)`` ordered by (ts, trade_id)."""
        return next(self.iter_ticks(symbol, start, end, chunk=0))

    def iter_ticks(
        self,
        symbol: str,
        start: int | None = None,
        end: int | None = None,
        chunk: int = 1_000_000,
    ) -> Iterator[TickBatch]:
        """Like :meth:`read_ticks` in chunks of at most ``chunk`` rows (``0``: one chunk)."""
        c.check_symbol(symbol)
        if chunk < 0 or isinstance(chunk, bool):
            raise InputError(f"chunk must be a positive row count (or 0 for all), got {chunk!r}")
        sid = self._symbol_id(symbol, create=False)
        if sid is None:
            yield TickBatch.empty(symbol)
            return
        c.check_range(start, end)
        if chunk == 0:
            # one packed result must stay well below PostgreSQL's 1 GB value limit
            parts = list(self._windows(symbol, sid, start, end, _MAX_PACKED_ROWS))
            if len(parts) == 1:
                yield parts[0]
            else:
                yield TickBatch.concat(parts) if parts else TickBatch.empty(symbol)
            return
        yield from self._windows(symbol, sid, start, end, chunk)

    def _windows(
        self, symbol: str, sid: int, start: int | None, end: int | None, chunk: int
    ) -> Iterator[TickBatch]:
        with self._reading() as con:
            row = con.execute(
                "SELECT ticks, first_ts, last_ts FROM symbol_stats WHERE symbol_id = %s", (sid,)
            ).fetchone()
        return _pgticks.windows(symbol, sid, row, start, end, chunk, self._copy_out)

    def read_quotes(
        self, symbol: str, start: int | None = None, end: int | None = None
    ) -> QuoteBatch:
        """Quotes of one symbol in ``[start, end)`` ordered by (ts, update_id)."""
        c.check_symbol(symbol)
        sid = self._symbol_id(symbol, create=False)
        if sid is None:
            return QuoteBatch.empty(symbol)
        where, params = self._where(start, end, "ts")
        ts, uid, bid, bsz, ask, asz = self._copy_out(
            f"SELECT {', '.join(c.QUOTE_COLUMNS)} FROM quotes WHERE symbol_id = %s{where} "
            "ORDER BY ts, update_id, bid, bid_size, ask, ask_size",
            (sid, *params),
            _QUOTE_TYPES,
        )
        return QuoteBatch(symbol, ts, bid, bsz, ask, asz, uid)

    def read_bars(
        self, symbol: str, timeframe: str, start: int | None = None, end: int | None = None
    ) -> BarBatch:
        """Stored bars of one symbol and timeframe with open_time in ``[start, end)``."""
        c.check_symbol(symbol)
        tf = Timeframe.parse(timeframe).name
        sid = self._symbol_id(symbol, create=False)
        if sid is None:
            return BarBatch.empty(symbol, tf)
        where, params = self._where(start, end, "open_time")
        cols = self._copy_out(
            f"SELECT open_time, {', '.join(c.BAR_VALUE_COLUMNS)} FROM bars "
            f"WHERE symbol_id = %s AND timeframe = %s{where} ORDER BY open_time",
            (sid, tf, *params),
            ["i8", "f8", "f8", "f8", "f8", "f8", "f8", "i8", "f8"],
        )
        return BarBatch(symbol, tf, *cols)

    def symbols(self) -> list[SymbolInfo]:
        """Every symbol with stored ticks, quotes or bars, sorted by name."""
        with self._reading() as con:
            stats = con.execute(
                "SELECT s.id, s.name, t.ticks, t.first_ts, t.last_ts, t.quotes FROM symbols s "
                "JOIN symbol_stats t ON t.symbol_id = s.id ORDER BY s.name"
            ).fetchall()
            bars: dict[int, dict[str, int]] = {}
            for sid, tf, n in con.execute(
                "SELECT symbol_id, timeframe, bars FROM bar_stats WHERE bars > 0"
            ).fetchall():
                bars.setdefault(sid, {})[tf] = int(n)
        return [
            SymbolInfo(name, int(ticks), first, last, int(quotes), bars.get(sid, {}))
            for sid, name, ticks, first, last, quotes in stats
            if ticks or quotes or sid in bars
        ]

    def last_trade_id(self, symbol: str) -> int | None:
        """The highest stored trade id of a symbol (for resuming a feed), or ``None``."""
        c.check_symbol(symbol)
        sid = self._symbol_id(symbol, create=False)
        if sid is None:
            return None
        with self._reading() as con:
            row = con.execute(
                "SELECT max_trade_id FROM symbol_stats WHERE symbol_id = %s", (sid,)
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    # -- plumbing for the alert persistence ----------------------------------------------------
    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[tuple[Any, ...]], int]:
        with self._reading("statement") as con:
            cur = con.execute(sql.replace("?", "%s"), params)
            return (cur.fetchall() if cur.description else []), cur.rowcount

    def _sync_ids(self, table: str) -> None:
        # keep the id sequence ahead of ids chosen by callers
        if table not in ("alert_rules", "alert_events"):
            raise ValueError(f"no id sequence for table {table!r}")
        self._execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"GREATEST((SELECT max(id) FROM {table}), 1))"
        )

    def _reserve_ids(self, table: str, n: int) -> list[int]:
        # nextval is never rolled back nor handed out twice, whichever session asks
        if table not in ("alert_rules", "alert_events"):
            raise ValueError(f"no id sequence for table {table!r}")
        rows, _ = self._execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, ?)",
            (n,),
        )
        return sorted(int(r[0]) for r in rows)

    def close(self) -> None:
        """Release the connection (idempotent)."""
        with self._lock:
            if self._depth:
                raise StoreError("close() inside an open transaction")
            self._con.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"PostgresStore({redact(self.url)!r}, {mode})"


__all__ = ["PostgresStore", "redact", "split_url"]
