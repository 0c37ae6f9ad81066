"""Store faults: a locked file, a full disk, read-only media, a lost PostgreSQL connection.

Each fault is made for real (a second process holding SQLite's write lock, a 2 MiB tmpfs filled to
the last byte, a read-only mount, ``pg_terminate_backend``). After each: a clear
:class:`StoreError` naming the file, every committed tick still there, ``PRAGMA integrity_check``
clean, and writes working again once the fault clears. The tick writer keeps its rows through
the fault instead of dropping them.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from statarb.errors import StoreError
from statarb.ingest.binance import FeedBatch
from statarb.ingest.writer import TickWriter
from statarb.model import Tick, TickBatch
from statarb.store._schema import SQLITE_MIGRATIONS
from statarb.store.sqlite import SQLiteStore

T0 = 1_700_000_000_000_000
_HOLD_LOCK = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
con.execute("ROLLBACK")
"""


def batch(n: int, start_id: int = 0, symbol: str = "BTCUSDT") -> TickBatch:
    """``n`` ticks with trade ids from ``start_id``."""
    ids = np.arange(start_id, start_id + n)
    return TickBatch(symbol, T0 + ids * 1000, 100.0 + ids % 7, np.full(n, 0.5), ids % 2, ids)


def ticks(n: int, start_id: int) -> list[Tick]:
    """``n`` :class:`Tick` objects with trade ids from ``start_id``."""
    return batch(n, start_id).to_ticks()


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of the file, from a fresh connection."""
    con = sqlite3.connect(path)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


@contextmanager
def locked(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holds ``BEGIN EXCLUSIVE`` on ``path`` until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted for this test (skips when mounting is not permitted)."""
    mnt = tmp_path / "fs"
    mnt.mkdir()
    res = _run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt))
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): {res.stderr.strip()}")
    try:
        yield mnt
    finally:
        _run("umount", "-l", str(mnt))


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill ``folder``'s file system but for ``leave`` bytes with one file; return its path."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as fh:
        try:
            while fh.write(b"\0" * 4096):
                pass
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    assert shutil.disk_usage(folder).free == 0
    if leave:
        os.truncate(filler, filler.stat().st_size - leave)
    return filler


# -- (a) the database locked by another process --------------------------------------------------
def test_locked_file_write_fails_clearly_then_succeeds(sqlite_url: str) -> None:
    store = SQLiteStore(sqlite_url, busy_timeout=0.3)
    path = Path(store._path)
    assert store.write_ticks(batch(100)) == 100
    with locked(path):
        t0 = time.monotonic()
        with pytest.raises(StoreError, match="database is locked") as err:
            store.write_ticks(batch(50, start_id=100))
        assert time.monotonic() - t0 >= 0.25  # it waited the busy timeout first
        assert str(path) in str(err.value) and "busy timeout" in str(err.value)
        assert len(store.read_ticks("BTCUSDT")) == 100  # WAL: reads go on
        assert store.symbols()[0].ticks == 100
    assert store.write_ticks(batch(50, start_id=100)) == 50
    assert np.array_equal(store.read_ticks("BTCUSDT").trade_id, np.arange(150))
    store.close()
    assert integrity(path) == "ok"


def test_a_short_lock_is_waited_for(sqlite_url: str) -> None:
    store = SQLiteStore(sqlite_url, busy_timeout=10)
    path = Path(store._path)
    store.write_ticks(batch(10))
    with locked(path) as proc:
        assert proc.stdin is not None
        threading.Timer(0.5, proc.stdin.close).start()  # the holder lets go in 0.5 s
        t0 = time.monotonic()
        assert store.write_ticks(batch(10, start_id=10)) == 10
        assert time.monotonic() - t0 >= 0.4
    assert len(store.read_ticks("BTCUSDT")) == 20
    store.close()


def test_pending_migration_on_a_locked_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")  # readers pass the lock, the migration cannot
    con.close()
    with locked(path), pytest.raises(StoreError, match=r"migrating .* failed: database is locked"):
        SQLiteStore(f"sqlite:///{path}", busy_timeout=0.2)
    with SQLiteStore(f"sqlite:///{path}") as store:  # the lock is gone: the migration runs
        assert store.schema_version == len(SQLITE_MIGRATIONS)


async def test_writer_keeps_its_rows_while_the_file_is_locked(sqlite_url: str) -> None:
    store = SQLiteStore(sqlite_url, busy_timeout=0.2)
    path = Path(store._path)
    store.write_ticks(batch(1))
    writer = TickWriter(store, batch_size=50, flush_interval=0.02, max_retries=2)
    queue: asyncio.Queue[FeedBatch] = asyncio.Queue(maxsize=10)
    task = asyncio.create_task(writer.run(queue))
    backlog = 0
    with locked(path) as proc:
        assert proc.stdin is not None
        threading.Timer(1.2, proc.stdin.close).start()  # no write can commit for 1.2 s
        for i in range(0, 600, 20):
            await queue.put(FeedBatch.of(ticks(20, i)))  # blocks while the queue is full
            backlog = max(backlog, queue.qsize())
            await asyncio.sleep(0.01)
    await writer.close()
    await task
    stats = writer.stats
    assert stats.store_errors >= 2 and stats.dropped == 0, stats
    assert backlog >= 5  # the writer stopped taking rows: backpressure reached the queue
    assert np.array_equal(store.read_ticks("BTCUSDT").trade_id, np.arange(600))
    store.close()
    assert integrity(path) == "ok"


# -- (b) the disk full -----------------------------------------------------------------------------
def test_full_disk_write_fails_clearly_and_keeps_committed_ticks(small_fs: Path) -> None:
    path = small_fs / "ticks.db"
    store = SQLiteStore(f"sqlite:///{path}")
    assert store.write_ticks(batch(2000)) == 2000
    before = store.read_ticks("BTCUSDT")
    filler = fill(small_fs)
    for k in range(3):
        with pytest.raises(StoreError, match="disk is full") as err:
            store.write_ticks(batch(20_000, start_id=2000 + k * 20_000))
        assert str(path) in str(err.value) and "no space left" in str(err.value)
    after = store.read_ticks("BTCUSDT")
    for col in ("ts", "price", "size", "side", "trade_id"):
        assert np.array_equal(getattr(after, col), getattr(before, col)), col
    assert store.symbols()[0].ticks == 2000
    assert integrity(path) == "ok"
    filler.unlink()
    assert store.write_ticks(batch(5000, start_id=2000)) == 5000
    store.close()
    with SQLiteStore(f"sqlite:///{path}", read_only=True) as again:
        assert np.array_equal(again.read_ticks("BTCUSDT").trade_id, np.arange(7000))
    assert integrity(path) == "ok"


async def test_writer_keeps_its_rows_while_the_disk_is_full(small_fs: Path) -> None:
    path = small_fs / "ticks.db"
    store = SQLiteStore(f"sqlite:///{path}")
    store.write_ticks(batch(10))
    filler = fill(small_fs)
    writer = TickWriter(store, batch_size=5000, flush_interval=0.02, max_retries=2)
    queue: asyncio.Queue[FeedBatch] = asyncio.Queue()
    task = asyncio.create_task(writer.run(queue))
    await queue.put(FeedBatch.of(ticks(8000, 10)))
    deadline = time.monotonic() + 5
    while writer.stats.store_errors < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert writer.stats.store_errors >= 2
    filler.unlink()
    await writer.close()
    await task
    assert writer.stats.dropped == 0 and writer.stats.written == 8000
    assert np.array_equal(store.read_ticks("BTCUSDT").trade_id, np.arange(8010))
    store.close()
    assert integrity(path) == "ok"


def _csv(path: Path, n: int) -> Path:
    lines = [f"{i},{100 + i % 7}.5,0.{i % 9 + 1},{i},{i},{1704067200000 + i * 10},{i % 2 == 1}"
             for i in range(n)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("leave", "says"),
    [(128 * 1024, "database or disk is full"), (0, "no space left on the file system")],
    ids=["fills-while-importing", "full-before-opening"],
)
def test_cli_import_onto_a_full_disk(small_fs: Path, tmp_path: Path, leave: int, says: str) -> None:
    path = small_fs / "ticks.db"
    with SQLiteStore(f"sqlite:///{path}") as store:
        store.write_ticks(batch(500))
    src = _csv(tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv", 8000)
    filler = fill(small_fs, leave)
    cmd = [sys.executable, "-m", "statarb.cli.main", "import", str(src),
           "--store", f"sqlite:///{path}"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert res.stderr.startswith("error: ") and str(path) in res.stderr and says in res.stderr
    filler.unlink()  # (a WAL file needs room for its -shm file even to be read)
    with SQLiteStore(f"sqlite:///{path}", read_only=True) as store:
        assert np.array_equal(store.read_ticks("BTCUSDT").trade_id, np.arange(500))
    assert integrity(path) == "ok"
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    with SQLiteStore(f"sqlite:///{path}", read_only=True) as store:
        assert np.array_equal(store.read_ticks("BTCUSDT").trade_id, np.arange(8000))
    assert integrity(path) == "ok"


# -- (c) read-only media -------------------------------------------------------------------------
def test_read_only_file_system(small_fs: Path) -> None:
    path = small_fs / "ticks.db"
    with SQLiteStore(f"sqlite:///{path}") as store:
        store.write_ticks(batch(300))
    assert not Path(f"{path}-wal").exists()
    res = _run("mount", "-o", "remount,ro", str(small_fs))
    assert res.returncode == 0, res.stderr
    with pytest.raises(StoreError, match=r"cannot be opened for writing.*read-only file system"):
        SQLiteStore(f"sqlite:///{path}")
    with pytest.raises(
        StoreError, match=re.escape(f"cannot open SQLite store {small_fs / 'new.db'}")
    ):
        SQLiteStore(f"sqlite:///{small_fs / 'new.db'}")
    with SQLiteStore(f"sqlite:///{path}", read_only=True) as store:
        assert np.array_equal(store.read_ticks("BTCUSDT").trade_id, np.arange(300))
        assert store.symbols()[0].ticks == 300 and store.last_trade_id("BTCUSDT") == 299
        with pytest.raises(StoreError, match="read-only"):
            store.write_ticks(batch(1, start_id=300))


def test_read_only_file(small_fs: Path) -> None:
    path = small_fs / "ticks.db"
    with SQLiteStore(f"sqlite:///{path}") as store:
        store.write_ticks(batch(300))
    assert _run("mount", "--bind", str(path), str(path)).returncode == 0
    try:
        res = _run("mount", "-o", "remount,bind,ro", str(path))
        assert res.returncode == 0, res.stderr
        with pytest.raises(StoreError, match=re.escape(f"{path} cannot be opened for writing")):
            SQLiteStore(f"sqlite:///{path}")
        with SQLiteStore(f"sqlite:///{path}", read_only=True) as store:
            assert len(store.read_ticks("BTCUSDT")) == 300
    finally:
        _run("umount", str(path))
    with SQLiteStore(f"sqlite:///{path}") as store:  # writable again
        assert store.write_ticks(batch(10, start_id=300)) == 10
    assert integrity(path) == "ok"


# -- (d) PostgreSQL unreachable or its connection dropped ----------------------------------------
def test_unreachable_postgres_is_a_store_error() -> None:
    from statarb.store.postgres import PostgresStore

    t0 = time.monotonic()
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL store") as err:
        PostgresStore("postgresql://statarb:s3cret@127.0.0.1:1/nowhere")
    assert "s3cret" not in str(err.value) and time.monotonic() - t0 < 10


def _terminate(dsn: str, pid: int) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as admin:
        row = admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
        assert row is not None and row[0] is True


@pytest.mark.postgres
def test_postgres_connection_killed_fails_clearly_then_reconnects(
    pg_url: str, postgres_dsn: str
) -> None:
    from statarb.store.postgres import PostgresStore

    store = PostgresStore(pg_url)
    assert store.write_ticks(batch(100)) == 100
    _terminate(postgres_dsn, store._con.info.backend_pid)
    with pytest.raises(StoreError, match="connection lost"):
        store.symbols()
    assert store.symbols()[0].ticks == 100  # reconnected
    _terminate(postgres_dsn, store._con.info.backend_pid)
    with pytest.raises(StoreError, match="PostgreSQL transaction failed"):
        store.write_ticks(batch(50, start_id=100))
    assert store.write_ticks(batch(50, start_id=100)) == 50
    _terminate(postgres_dsn, store._con.info.backend_pid)
    with pytest.raises(StoreError):
        store.last_trade_id("BTCUSDT")
    assert store.last_trade_id("BTCUSDT") == 149
    assert np.array_equal(store.read_ticks("BTCUSDT").trade_id, np.arange(150))
    store.close()


@pytest.mark.postgres
async def test_writer_survives_a_killed_postgres_connection(pg_url: str, postgres_dsn: str) -> None:
    from statarb.store.postgres import PostgresStore

    store = PostgresStore(pg_url)
    writer = TickWriter(store, batch_size=100, flush_interval=0.02, max_retries=2)
    queue: asyncio.Queue[FeedBatch] = asyncio.Queue()
    task = asyncio.create_task(writer.run(queue))
    for i in range(0, 1000, 100):
        if i in (300, 600):  # once all before is stored, kill the connection under the writer
            deadline = time.monotonic() + 10
            while writer.stats.written < i and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            _terminate(postgres_dsn, store._con.info.backend_pid)
        await queue.put(FeedBatch.of(ticks(100, i)))
        await asyncio.sleep(0.02)
    await writer.close()
    await task
    assert writer.stats.dropped == 0 and writer.stats.store_errors >= 2, writer.stats
    assert np.array_equal(store.read_ticks("BTCUSDT").trade_id, np.arange(1000))
    store.close()
