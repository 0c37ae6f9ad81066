"""Tick stores: write and read speed of SQLite and PostgreSQL against plain-library baselines.

Measured in one process, each against its baseline, the two timed alternately:

1. 1M-tick ``SQLiteStore.write_ticks`` into a fresh store vs a plain sqlite3 ``executemany`` in
   one transaction into a table with the same unique key (row tuples built from the same numpy
   columns inside the timing); the seed style (INSERT + commit per tick, 5k rows measured and
   extrapolated) is printed for contrast. Target: write_ticks well over 400k rows/s.
2. 1M-tick ``read_ticks`` of one symbol vs ``pandas.read_sql`` of the same query. Target >= 1.5x.
3. PostgreSQL binary-COPY ingest of the same 1M ticks vs SQLite's write_ticks. Target >= 1.5x.
4. ``statarb migrate`` (:func:`statarb.store.copy.copy_store`, with its count verification) of a
   1M-tick SQLite store into PostgreSQL vs a plain copy: sqlite3 rows streamed into psycopg's
   COPY of a table with the same unique key (no verification). Target: not slower.
5. 1-minute bars over ``STATARB_BENCH_TICKS`` stored ticks (default 10M) read from PostgreSQL vs
   from SQLite (read_ticks + :func:`statarb.bars.resample`).

PostgreSQL parts are skipped with a message when the server at ``STATARB_BENCH_POSTGRES``
(default ``postgresql://postgres@127.0.0.1:5432/test``) is not reachable. Each PostgreSQL run
uses its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from bench._common import measure, paired, report
from statarb.model import TickBatch

N = 1_000_000
SEED_ROWS = 5_000
PG_URL = os.environ.get("STATARB_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
T0 = 1_704_067_200_000_000


def make_ticks(n: int, symbol: str = "BTCUSDT", seed: int = 20240601) -> TickBatch:
    """Poisson arrivals (mean gap 50 ms), random-walk prices, Binance-like aggregate ids."""
    rng = np.random.default_rng(seed)
    ts = T0 + np.cumsum(rng.exponential(50_000.0, n)).astype(np.int64)
    price = np.round(42_000 + np.cumsum(rng.normal(0, 0.5, n)), 1)
    size = np.round(rng.exponential(0.05, n), 3) + 0.001
    side = (rng.random(n) < 0.5).astype(np.int8)
    return TickBatch(symbol, ts, price, size, side, np.arange(1_989_156_011, 1_989_156_011 + n))


def _fresh(folder: Path, name: str) -> Path:
    for p in folder.glob(f"{name}*"):
        p.unlink()
    return folder / name


def bench_sqlite_write(folder: Path, b: TickBatch) -> None:
    from statarb.store.sqlite import SQLiteStore

    def ours() -> int:
        store = SQLiteStore(f"sqlite:///{_fresh(folder, 'ours.db')}")
        n = store.write_ticks(b)
        store.close()
        return n

    def plain(rows_limit: int | None = None, per_tick: bool = False) -> int:
        con = sqlite3.connect(_fresh(folder, "plain.db"), isolation_level=None)
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute(
            "CREATE TABLE ticks (symbol TEXT, trade_id INTEGER, ts INTEGER, price REAL, "
            "size REAL, side INTEGER, recv_ts INTEGER, PRIMARY KEY (symbol, trade_id))"
        )
        k = rows_limit or len(b)
        rows = zip(
            [b.symbol] * k,
            b.trade_id[:k].tolist(),
            b.ts[:k].tolist(),
            b.price[:k].tolist(),
            b.size[:k].tolist(),
            b.side[:k].tolist(),
            b.recv_ts[:k].tolist(),
            strict=True,
        )
        sql = "INSERT OR IGNORE INTO ticks VALUES (?, ?, ?, ?, ?, ?, ?)"
        if per_tick:
            for r in rows:
                con.execute("BEGIN")
                con.execute(sql, r)
                con.execute("COMMIT")
        else:
            con.execute("BEGIN")
            con.executemany(sql, rows)
            con.execute("COMMIT")
        con.close()
        return k

    t_ours, t_base, n = paired(ours, plain)
    assert n == len(b)
    report("store", f"write {len(b):,} ticks (SQLite)", t_ours, t_base, ours_name="write_ticks",
           base_name="executemany 1 txn, same key", items=len(b),
           target=">= 400k rows/s")  # fmt: skip
    t_seed, _ = measure(lambda: plain(SEED_ROWS, per_tick=True), repeat=1, warmup=0)
    scaled = {k: v * len(b) / SEED_ROWS for k, v in t_seed.items()}
    report("store", f"write {len(b):,} ticks vs seed style ({SEED_ROWS:,} measured, extrapolated)",
           t_ours, scaled, ours_name="write_ticks", base_name="commit per tick (WAL)",
           items=len(b))  # fmt: skip


def bench_sqlite_read(folder: Path, b: TickBatch) -> None:
    import pandas as pd

    from statarb.store.sqlite import SQLiteStore

    path = _fresh(folder, "read.db")
    store = SQLiteStore(f"sqlite:///{path}")
    store.write_ticks(b)
    store.write_ticks(make_ticks(200_000, "ETHUSDT", seed=7))
    con = sqlite3.connect(path)
    query = (
        "SELECT ts, trade_id, price, size, side, recv_ts FROM ticks "
        "WHERE symbol_id = (SELECT id FROM symbols WHERE name = ?) "
        "ORDER BY ts, trade_id, price, size"
    )
    t_ours, t_base, got = paired(
        lambda: store.read_ticks(b.symbol), lambda: pd.read_sql(query, con, params=(b.symbol,))
    )
    frame = pd.read_sql(query, con, params=(b.symbol,))
    assert np.array_equal(got.price, frame["price"].to_numpy()) and len(got) == len(b)
    report("store", f"read {len(b):,} ticks of one symbol (SQLite)", t_ours, t_base,
           ours_name="read_ticks", base_name="pandas.read_sql", items=len(b),
           target=">= 1.5x")  # fmt: skip
    con.close()
    store.close()


def _pg_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=2).close()
        return True
    except Exception as exc:  # the bench reports and goes on without PostgreSQL
        print(f"[store] PostgreSQL at {PG_URL} not reachable ({exc}); skipping its parts")
        return False


class _PgSchema:
    """A throw-away schema for one PostgreSQL measurement."""

    def __init__(self) -> None:
        self.name = f"statarb_bench_{uuid.uuid4().hex[:10]}"
        self.url = f"{PG_URL}?schema={self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


def bench_pg_ingest(folder: Path, b: TickBatch) -> None:
    from statarb.store.postgres import PostgresStore
    from statarb.store.sqlite import SQLiteStore

    def pg() -> int:
        schema = _PgSchema()
        try:
            store = PostgresStore(schema.url)
            n = store.write_ticks(b)
            store.close()
        finally:
            schema.drop()
        return n

    def lite() -> int:
        store = SQLiteStore(f"sqlite:///{_fresh(folder, 'cmp.db')}")
        n = store.write_ticks(b)
        store.close()
        return n

    t_pg, t_lite, n = paired(pg, lite)
    assert n == len(b)
    report("store", f"ingest {len(b):,} ticks: PostgreSQL COPY vs SQLite", t_pg, t_lite,
           ours_name="PostgresStore.write_ticks", base_name="SQLiteStore.write_ticks",
           items=len(b), target=">= 1.5x")  # fmt: skip


def bench_migrate(folder: Path, b: TickBatch) -> None:
    from statarb.store.copy import copy_store
    from statarb.store.postgres import PostgresStore
    from statarb.store.sqlite import SQLiteStore

    path = _fresh(folder, "migrate.db")
    src = SQLiteStore(f"sqlite:///{path}")
    src.write_ticks(b)

    def ours() -> int:
        schema = _PgSchema()
        try:
            dst = PostgresStore(schema.url)
            report = copy_store(src, dst)
            dst.close()
        finally:
            schema.drop()
        assert report.ok
        return report.new

    def plain() -> int:
        import psycopg

        schema = _PgSchema()
        try:
            with psycopg.connect(PG_URL, autocommit=True) as pg:
                pg.execute(f'CREATE SCHEMA "{schema.name}"')
                pg.execute(
                    f'CREATE TABLE "{schema.name}".ticks (symbol_id INT, trade_id BIGINT, '
                    "ts BIGINT, price DOUBLE PRECISION, size DOUBLE PRECISION, side SMALLINT, "
                    "recv_ts BIGINT, PRIMARY KEY (symbol_id, trade_id))"
                )
                lite = sqlite3.connect(path)
                cur = lite.execute(
                    "SELECT symbol_id, trade_id, ts, price, size, side, recv_ts FROM ticks"
                )
                n = 0
                with pg.cursor().copy(f'COPY "{schema.name}".ticks FROM STDIN') as cp:
                    for row in cur:
                        cp.write_row(row)
                        n += 1
                lite.close()
        finally:
            schema.drop()
        return n

    t_ours, t_base, n = paired(ours, plain, repeat=2)
    src.close()
    assert n == len(b)
    report("store", f"migrate {len(b):,} ticks SQLite -> PostgreSQL", t_ours, t_base,
           ours_name="copy_store (verified)", base_name="sqlite3 rows -> psycopg COPY",
           items=len(b), target=">= 1x")  # fmt: skip


def bench_bars(folder: Path, n: int, with_pg: bool) -> None:
    from statarb.bars import resample
    from statarb.store.postgres import PostgresStore
    from statarb.store.sqlite import SQLiteStore

    big = make_ticks(n, seed=11)
    lite = SQLiteStore(f"sqlite:///{_fresh(folder, 'big.db')}")
    t = time.perf_counter()
    for i in range(0, n, 1_000_000):
        lite.write_ticks(big.take(slice(i, i + 1_000_000)))
    print(f"[store] stored {n:,} ticks in SQLite in {time.perf_counter() - t:.1f}s", flush=True)

    def bars_of(store: SQLiteStore | PostgresStore) -> int:
        return len(resample(store.read_ticks(big.symbol), "1m"))

    resample(big.take(slice(0, 1000)), "1m")  # compile the kernel outside the timings
    t_lite, nbars = measure(lambda: bars_of(lite), repeat=1, warmup=0)
    lite.close()
    if not with_pg:
        print(f"[store] 1m bars over {n:,} SQLite ticks: {t_lite['median']:.2f}s ({nbars} bars)")
        return
    schema = _PgSchema()
    try:
        pg = PostgresStore(schema.url)
        t = time.perf_counter()
        for i in range(0, n, 1_000_000):
            pg.write_ticks(big.take(slice(i, i + 1_000_000)))
        print(f"[store] stored {n:,} ticks in PostgreSQL in {time.perf_counter() - t:.1f}s")
        t_pg, pg_bars = measure(lambda: bars_of(pg), repeat=1, warmup=0)
        assert pg_bars == nbars
        pg.close()
    finally:
        schema.drop()
    report("store", f"1m bars over {n:,} stored ticks: PostgreSQL vs SQLite", t_pg, t_lite,
           ours_name="PostgresStore read+resample", base_name="SQLiteStore read+resample",
           items=n)  # fmt: skip


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="statarb-bench-store-"))
    try:
        b = make_ticks(N)
        bench_sqlite_write(folder, b)
        bench_sqlite_read(folder, b)
        with_pg = _pg_reachable()
        if with_pg:
            bench_pg_ingest(folder, b)
            bench_migrate(folder, b)
        bench_bars(folder, int(os.environ.get("STATARB_BENCH_TICKS", 10_000_000)), with_pg)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
