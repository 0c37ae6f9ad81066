"""The embedded store: one SQLite file in WAL mode, batched idempotent writes, numpy reads.

Write speed comes from sending many rows per ``INSERT OR IGNORE`` statement (the rows flattened
into one parameter list built in C), rows ordered by the clustered key first, and integer symbol
ids; read speed from filling numpy arrays straight from the cursor in chunks.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from statarb.errors import InputError, StoreError
from statarb.model import BarBatch, QuoteBatch, TickBatch, Timeframe
from statarb.store import _common as c
from statarb.store._alerts import AlertPersistence
from statarb.store._book import BookPersistence
from statarb.store._migrate import migrate_sqlite, sqlite_version
from statarb.store._paper import PaperLedger
from statarb.store._sqlite_faults import hint, immutable, not_writable
from statarb.store.base import SymbolInfo

#: rows per multi-row INSERT statement (7-9 parameters each, far below SQLite's variable limit)
_ROWS_PER_STATEMENT = 256
_TICK_DTYPE = np.dtype([("ts", "i8"), ("tid", "i8"), ("price", "f8"), ("size", "f8")])
_TICK_DTYPE_RECV = np.dtype([*_TICK_DTYPE.descr, ("recv_ts", "i8")])
#: trade ids from here on do not survive ``trade_id << 2`` in 64 bits: read unpacked
_PACKED_ID_LIMIT = 2**61
_ID_DTYPE = np.dtype([("trade_id", "i8")])
_QUOTE_DTYPE = np.dtype(
    [("ts", "i8"), ("update_id", "i8"), ("bid", "f8"), ("bid_size", "f8"), ("ask", "f8"),
     ("ask_size", "f8")]
)  # fmt: skip
_BAR_DTYPE = np.dtype(
    [("open_time", "i8"), ("open", "f8"), ("high", "f8"), ("low", "f8"), ("close", "f8"),
     ("volume", "f8"), ("notional", "f8"), ("trades", "i8"), ("taker_buy_volume", "f8")]
)  # fmt: skip


#: megabytes of SQLite page cache per connection unless the URL says ``?cache_mb=N``
DEFAULT_CACHE_MB = 128
#: megabytes of the file SQLite maps into memory unless the URL says ``?mmap_mb=N`` (0: none)
DEFAULT_MMAP_MB = 256
_OPTIONS = {"cache_mb": (DEFAULT_CACHE_MB, 1), "mmap_mb": (DEFAULT_MMAP_MB, 0)}


def sqlite_options(url: str) -> dict[str, int]:
    """The options of a ``sqlite:///path.db?cache_mb=64&mmap_mb=0`` URL.

    ``cache_mb`` bounds the page cache of each connection (default :data:`DEFAULT_CACHE_MB`);
    ``mmap_mb`` is how much of the file is memory-mapped (default :data:`DEFAULT_MMAP_MB`,
    ``0`` turns mapping off). Mapped pages count in the resident size as they are read; a
    long-running process on a small machine may want less of both, a big import more cache.
    """
    from urllib.parse import parse_qsl

    query = url.split("?", 1)[1] if "?" in url else ""
    out = {k: default for k, (default, _lo) in _OPTIONS.items()}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in _OPTIONS:
            known = ", ".join(_OPTIONS)
            raise StoreError(f"SQLite URL {url!r}: unknown option {key!r}; known: {known}")
        lo = _OPTIONS[key][1]
        if not value.isdigit() or not lo <= int(value) <= 1_000_000:
            raise StoreError(f"SQLite URL {url!r}: {key} must be a whole number of MB >= {lo}")
        out[key] = int(value)
    return out


def sqlite_path(url: str) -> str:
    """The file path (or ``":memory:"``) named by a ``sqlite:///...`` URL."""
    if not url.startswith("sqlite:///"):
        raise StoreError(
            f"SQLite URL {url!r} is not valid: use sqlite:///relative/path.db, "
            "sqlite:////absolute/path.db or sqlite:///:memory:"
        )
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    if not path:
        raise StoreError(f"SQLite URL {url!r} names no file")
    return path


class SQLiteStore(AlertPersistence, BookPersistence):
    """A :class:`~statarb.store.base.TickStore` in one SQLite file.

    Parameters
    ----------
    url
        ``sqlite:///relative/path.db``, ``sqlite:////abs/path.db`` or ``sqlite:///:memory:``;
        ``?cache_mb=N`` sets the page cache (default 128 MB, see :func:`sqlite_options`).
    read_only
        Open with ``mode=ro`` (the dashboard): no migrations, every write raises
        :class:`~statarb.errors.StoreError`. A file on read-only media is read as immutable.
    busy_timeout
        Seconds a write waits for another connection's write lock before it fails with
        :class:`~statarb.errors.StoreError`.

    Examples
    --------
    >>> store = SQLiteStore("sqlite:///:memory:")
    >>> store.symbols()
    []
    >>> store.close()
    """

    def __init__(self, url: str, *, read_only: bool = False, busy_timeout: float = 10.0) -> None:
        self.url = url
        self.read_only = read_only
        self.busy_timeout = busy_timeout
        self._path = sqlite_path(url)
        opts = sqlite_options(url)
        self._cache_mb, self._mmap_mb = opts["cache_mb"], opts["mmap_mb"]
        self._lock = threading.RLock()
        self._depth = 0
        self._ids: dict[str, int] = {}
        self.paper = PaperLedger(self._execute, self.transaction)
        self._con = self._connect()
        try:
            migrate_sqlite(self._con, f"store {self._path}", read_only=self.read_only)
        except BaseException:
            self._con.close()
            raise

    # -- connection and schema ------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        memory = self._path == ":memory:"
        if self.read_only and memory:
            raise StoreError("sqlite:///:memory: cannot be opened read-only; name a file")
        path = Path(self._path)
        try:
            if self.read_only:
                if not path.is_file():
                    raise StoreError(f"store file {self._path} does not exist (read-only open)")
                uri = f"{path.resolve().as_uri()}?mode=ro"
                if immutable(path):  # read-only media: no -shm file can be made
                    uri += "&immutable=1"
                con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            else:
                if not memory:
                    if path.is_file() and (why := not_writable(path)):
                        raise StoreError(
                            f"store file {self._path} cannot be opened for writing: {why}; "
                            "open it read-only to read it"
                        )
                    path.parent.mkdir(parents=True, exist_ok=True)
                con = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            con.execute(f"PRAGMA busy_timeout = {max(0, int(self.busy_timeout * 1000))}")
            if not self.read_only:
                # larger pages: ~10% faster bulk inserts (takes effect only on a new file)
                con.execute("PRAGMA page_size = 8192")
            if not memory and not self.read_only:
                con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
            con.execute(f"PRAGMA cache_size = -{self._cache_mb * 1024}")  # KiB
            con.execute(f"PRAGMA mmap_size = {self._mmap_mb * 1024 * 1024}")
            con.execute("PRAGMA temp_store = MEMORY")
            con.execute("PRAGMA journal_size_limit = 67108864")  # trim the WAL after big imports
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open SQLite store {self._path}: {exc}{hint(exc, path)}"
            ) from exc
        except OSError as exc:
            raise StoreError(f"cannot open SQLite store {self._path}: {exc}") from exc
        return con

    @property
    def schema_version(self) -> int:
        """The schema version the file is at."""
        with self._reading():
            return sqlite_version(self._con)

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the writes inside the block into one atomic unit (nestable via savepoints).

        Any exception, ``KeyboardInterrupt`` included, rolls back the block.
        """
        self._writable()
        with self._lock:
            self._depth += 1
            depth = self._depth
            try:
                self._sql("BEGIN IMMEDIATE" if depth == 1 else f"SAVEPOINT sp{depth}")
                try:
                    yield
                except BaseException as exc:
                    self._rollback(depth)
                    if isinstance(exc, sqlite3.Error):
                        raise self._error("write", exc) from exc
                    raise
                try:
                    self._sql("COMMIT" if depth == 1 else f"RELEASE SAVEPOINT sp{depth}")
                except StoreError:
                    self._rollback(depth)
                    raise
            finally:
                self._depth -= 1

    def _sql(self, statement: str) -> None:
        try:
            self._con.execute(statement)
        except sqlite3.Error as exc:
            raise self._error(statement.split()[0], exc) from exc

    def _error(self, what: str, exc: sqlite3.Error) -> StoreError:
        return StoreError(
            f"SQLite {what} failed on {self._path}: {exc}{hint(exc, Path(self._path))}"
        )

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Hold the connection lock; SQLite errors become :class:`StoreError`."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise self._error("read", exc) from exc

    def _rollback(self, depth: int) -> None:
        self._ids.clear()  # ids created inside the block may be gone
        if not self._con.in_transaction:
            return
        if depth == 1:
            self._con.execute("ROLLBACK")
        else:
            self._con.execute(f"ROLLBACK TO SAVEPOINT sp{depth}")
            self._con.execute(f"RELEASE SAVEPOINT sp{depth}")

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"store {self._path} is open read-only; writes are refused")

    def _symbol_id(self, symbol: str, *, create: bool) -> int | None:
        sid = self._ids.get(symbol)
        if sid is not None:
            return sid
        with self._reading():
            row = self._con.execute("SELECT id FROM symbols WHERE name = ?", (symbol,)).fetchone()
        if row is None:
            if not create:
                return None
            cur = self._con.execute("INSERT INTO symbols (name) VALUES (?)", (symbol,))
            sid = int(cur.lastrowid or 0)
            self._con.execute("INSERT INTO symbol_stats (symbol_id) VALUES (?)", (sid,))
        else:
            sid = int(row[0])
        self._ids[symbol] = sid
        return sid

    def _insert_many(
        self,
        table: str,
        sid: int,
        columns: list[list[Any]],
        n: int,
        *,
        verb: str = "INSERT OR IGNORE",
    ) -> int:
        """``verb`` ``n`` rows of (sid, *columns); return the number of rows changed."""
        width = len(columns) + 1
        flat = c.interleave(n, sid, columns)
        one = "(" + ",".join("?" * width) + ")"
        k = _ROWS_PER_STATEMENT
        full = n // k * k * width
        before = self._con.total_changes
        if full:
            sql = f"{verb} INTO {table} VALUES " + ",".join([one] * k)
            step = k * width
            self._con.executemany(sql, (flat[i : i + step] for i in range(0, full, step)))
        if full < len(flat):
            rest = flat[full:]
            sql = f"{verb} INTO {table} VALUES " + ",".join([one] * (len(rest) // width))
            self._con.execute(sql, rest)
        return self._con.total_changes - before

    # -- writes -------------------------------------------------------------------------------
    def write_ticks(self, batch: TickBatch) -> int:
        """Store ticks, skipping ones already stored; return how many were new.

        The primary key skips rows stored before; a stored tick with the same trade id (but other
        content) is looked up only when the batch's ids overlap the symbol's stored id range.
        """
        b = c.unique_ticks(c.sorted_ticks(batch))
        if not len(b):
            return 0
        if b.trade_id.min() < -_PACKED_ID_LIMIT:
            raise InputError(f"ticks of {b.symbol}: trade ids below -2**61 cannot be stored")
        with self.transaction():
            sid = self._symbol_id(b.symbol, create=True)
            assert sid is not None
            b = self._drop_stored_ids(sid, b)
            if not len(b):
                return 0
            cols = [getattr(b, name).tolist() for name in c.TICK_COLUMNS]
            new = self._insert_many("ticks", sid, cols, len(b))
            if new:
                # first/last from the table (index ends, O(log n))
                sql = ("UPDATE symbol_stats SET ticks = ticks + ?, "
                       "first_ts = (SELECT min(ts) FROM ticks WHERE symbol_id = ?), "
                       "last_ts = (SELECT max(ts) FROM ticks WHERE symbol_id = ?), "
                       "has_recv_ts = max(has_recv_ts, ?)")  # fmt: skip
                params: list[object] = [new, sid, sid, int(b.recv_ts.any())]
                ids = b.trade_id[b.trade_id >= 0]
                if len(ids):  # rows without ids leave the range as it is (min(x, NULL) is NULL)
                    lo, hi = int(ids.min()), int(ids.max())
                    sql += (", min_trade_id = min(coalesce(min_trade_id, ?), ?), "
                            "max_trade_id = max(coalesce(max_trade_id, ?), ?)")  # fmt: skip
                    params += [lo, lo, hi, hi]
                self._con.execute(sql + " WHERE symbol_id = ?", (*params, sid))
        return new

    def _drop_stored_ids(self, sid: int, b: TickBatch) -> TickBatch:
        """The rows of ``b`` whose trade id (when known) is not stored yet."""
        has_id = b.trade_id >= 0
        if not has_id.any():
            return b
        row = self._con.execute(
            "SELECT min_trade_id, max_trade_id FROM symbol_stats WHERE symbol_id = ?", (sid,)
        ).fetchone()
        if row is None or row[0] is None:
            return b
        ids = b.trade_id[has_id]
        lo, hi = max(int(ids.min()), row[0]), min(int(ids.max()), row[1])
        if lo > hi:  # the usual case: a feed or a file goes on after what is stored
            return b
        stored = self._fetch(
            "SELECT trade_id FROM ticks WHERE symbol_id = ? AND trade_id BETWEEN ? AND ?",
            (sid, lo, hi),
            _ID_DTYPE,
        )["trade_id"]
        if not len(stored):
            return b
        keep = ~(has_id & np.isin(b.trade_id, stored))
        return b if keep.all() else b.take(keep)

    def write_quotes(self, batch: QuoteBatch) -> int:
        """Store quotes, skipping ones already stored; return how many were new."""
        b = c.sorted_quotes(batch)
        if not len(b):
            return 0
        cols = [getattr(b, name).tolist() for name in c.QUOTE_COLUMNS]
        with self.transaction():
            sid = self._symbol_id(b.symbol, create=True)
            assert sid is not None
            new = self._insert_many("quotes", sid, cols, len(b))
            if new:
                self._con.execute(
                    "UPDATE symbol_stats SET quotes = quotes + ? WHERE symbol_id = ?", (new, sid)
                )
        return new

    def write_bars(self, bars: BarBatch) -> int:
        """Insert or replace bars on (symbol, timeframe, open_time); return rows written."""
        c.check_bars(bars)
        n = len(bars)
        if not n:
            return 0
        tf = Timeframe.parse(bars.timeframe).name
        cols = [[tf] * n, bars.open_time.tolist()]
        cols += [getattr(bars, name).tolist() for name in c.BAR_VALUE_COLUMNS]
        lo, hi = int(bars.open_time.min()), int(bars.open_time.max())
        count = (
            "SELECT count(*) FROM bars WHERE symbol_id = ? AND timeframe = ? "
            "AND open_time BETWEEN ? AND ?"
        )
        with self.transaction():
            sid = self._symbol_id(bars.symbol, create=True)
            assert sid is not None
            before = self._con.execute(count, (sid, tf, lo, hi)).fetchone()[0]
            self._insert_many("bars", sid, cols, n, verb="INSERT OR REPLACE")
            added = self._con.execute(count, (sid, tf, lo, hi)).fetchone()[0] - before
            if added:
                self._con.execute(
                    "INSERT INTO bar_stats (symbol_id, timeframe, bars) VALUES (?, ?, ?) "
                    "ON CONFLICT (symbol_id, timeframe) DO UPDATE SET bars = bars + excluded.bars",
                    (sid, tf, added),
                )
        return n

    # -- reads -------------------------------------------------------------------------------
    def _fetch(self, sql: str, params: tuple[Any, ...], dtype: np.dtype[Any]) -> np.ndarray:
        with self._reading():
            cur = self._con.execute(sql, params)
            parts = []
            while len(part := np.fromiter(islice(cur, 262144), dtype=dtype)):
                parts.append(part)
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

    @staticmethod
    def _where(start: int | None, end: int | None, col: str) -> tuple[str, tuple[int, ...]]:
        return c.range_clause(start, end, col, "?")

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
        """Like :meth:`read_ticks` in chunks of at most ``chunk`` rows (``0``: one chunk).

        Each chunk is a keyset query after the last key of the previous one, so memory stays
        constant and no connection-wide cursor is held between chunks.
        """
        c.check_symbol(symbol)
        if chunk < 0 or isinstance(chunk, bool):
            raise InputError(f"chunk must be a positive row count (or 0 for all), got {chunk!r}")
        sid = self._symbol_id(symbol, create=False)
        if sid is None:
            yield TickBatch.empty(symbol)
            return
        where, params = self._where(start, end, "ts")
        with self._reading():
            row = self._con.execute(
                "SELECT has_recv_ts, max_trade_id FROM symbol_stats WHERE symbol_id = ?", (sid,)
            ).fetchone()
        # fewer Python objects per row is what makes reading fast: the side code rides in the
        # two low bits of the trade id (unless an id is too big for that), and recv_ts is read
        # only for symbols that have one
        recv = bool(row and row[0])
        packed = not row or row[1] is None or row[1] < _PACKED_ID_LIMIT
        dtype = _TICK_DTYPE_RECV if recv else _TICK_DTYPE
        cols = "ts, (trade_id << 2) | (side + 1), price, size"
        if not packed:
            dtype = np.dtype([*dtype.descr, ("side", "i8")])
            cols = "ts, trade_id, price, size"
        cols += (", recv_ts" if recv else "") + ("" if packed else ", side")
        base = f"SELECT {cols} FROM ticks WHERE symbol_id = ?{where}"
        if chunk == 0:
            yield _tick_batch(symbol, self._fetch(base + _ORDER, (sid, *params), dtype))
            return
        key_sql = base + " AND (ts, trade_id, price, size) > (?, ?, ?, ?)" + _ORDER + " LIMIT ?"
        arr = self._fetch(base + _ORDER + " LIMIT ?", (sid, *params, chunk), dtype)
        while len(arr):
            yield _tick_batch(symbol, arr)
            if len(arr) < chunk:
                return
            last = arr[-1]
            key = (
                int(last["ts"]),
                int(last["tid"]) >> 2 if packed else int(last["tid"]),
                float(last["price"]),
                float(last["size"]),
            )
            arr = self._fetch(key_sql, (sid, *params, *key, chunk), dtype)

    def read_quotes(
        self, symbol: str, start: int | None = None, end: int | None = None
    ) -> QuoteBatch:
        """Quotes of one symbol in ``[start, end)`` ordered by (ts, update_id)."""
        c.check_symbol(symbol)
        sid = self._symbol_id(symbol, create=False)
        if sid is None:
            return QuoteBatch.empty(symbol)
        where, params = self._where(start, end, "ts")
        a = self._fetch(
            f"SELECT {', '.join(c.QUOTE_COLUMNS)} FROM quotes WHERE symbol_id = ?{where} "
            "ORDER BY ts, update_id, bid, bid_size, ask, ask_size",
            (sid, *params),
            _QUOTE_DTYPE,
        )
        return QuoteBatch(
            symbol, a["ts"], a["bid"], a["bid_size"], a["ask"], a["ask_size"], a["update_id"]
        )

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
        a = self._fetch(
            f"SELECT open_time, {', '.join(c.BAR_VALUE_COLUMNS)} FROM bars "
            f"WHERE symbol_id = ? AND timeframe = ?{where} ORDER BY open_time",
            (sid, tf, *params),
            _BAR_DTYPE,
        )
        return BarBatch(symbol, tf, *(a[name] for name in _BAR_DTYPE.names or ()))

    def symbols(self) -> list[SymbolInfo]:
        """Every symbol with stored ticks, quotes or bars, sorted by name."""
        with self._reading():
            stats = self._con.execute(
                "SELECT s.id, s.name, t.ticks, t.first_ts, t.last_ts, t.quotes FROM symbols s "
                "JOIN symbol_stats t ON t.symbol_id = s.id ORDER BY s.name"
            ).fetchall()
            bars: dict[int, dict[str, int]] = {}
            for sid, tf, n in self._con.execute(
                "SELECT symbol_id, timeframe, bars FROM bar_stats WHERE bars > 0"
            ):
                bars.setdefault(sid, {})[tf] = n
        out = []
        for sid, name, ticks, first, last, quotes in stats:
            if ticks or quotes or sid in bars:
                out.append(SymbolInfo(name, ticks, first, last, quotes, bars.get(sid, {})))
        return out

    def last_trade_id(self, symbol: str) -> int | None:
        """The highest stored trade id of a symbol (for resuming a feed), or ``None``."""
        c.check_symbol(symbol)
        sid = self._symbol_id(symbol, create=False)
        if sid is None:
            return None
        with self._reading():
            row = self._con.execute(
                "SELECT max_trade_id FROM symbol_stats WHERE symbol_id = ?", (sid,)
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    # -- plumbing for the alert persistence ----------------------------------------------------
    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[tuple[Any, ...]], int]:
        with self._lock:
            try:
                cur = self._con.execute(sql, params)
                return cur.fetchall(), cur.rowcount
            except sqlite3.Error as exc:
                raise self._error("statement", exc) from exc

    def _reserve_ids(self, table: str, n: int) -> list[int]:
        # AUTOINCREMENT assigns ids above sqlite_sequence.seq only: moving it up reserves them
        if table not in ("alert_rules", "alert_events"):
            raise ValueError(f"no id sequence for table {table!r}")
        seq, _ = self._execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
        top, _ = self._execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        first = max(int(seq[0][0]) if seq else 0, int(top[0][0])) + 1
        if seq:
            self._execute(
                "UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (first + n - 1, table)
            )
        else:
            self._execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, first + n - 1)
            )
        return list(range(first, first + n))

    def close(self) -> None:
        """Flush and release the connection (idempotent)."""
        with self._lock:
            if self._depth:
                raise StoreError("close() inside an open transaction")
            self._con.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"SQLiteStore({self.url!r}, {mode})"


_ORDER = " ORDER BY ts, trade_id, price, size"


def _tick_batch(symbol: str, a: np.ndarray) -> TickBatch:
    names = a.dtype.names or ()
    tid = a["tid"]
    recv = a["recv_ts"] if "recv_ts" in names else np.zeros(len(a), np.int64)
    if "side" in names:  # read unpacked
        return TickBatch(symbol, a["ts"], a["price"], a["size"], a["side"], tid, recv)
    return TickBatch(symbol, a["ts"], a["price"], a["size"], (tid & 3) - 1, tid >> 2, recv)


__all__ = ["SQLiteStore", "sqlite_path"]
