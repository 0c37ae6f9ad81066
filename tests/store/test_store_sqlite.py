"""What only the SQLite store does: URL forms, file settings, schema versions, concurrent access."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from statarb.errors import StoreError
from statarb.model import TickBatch
from statarb.store import open_store
from statarb.store._schema import SQLITE_MIGRATIONS
from statarb.store.sqlite import SQLiteStore, sqlite_path

T0 = 1_700_000_000_000_000


def batch(n: int, start_id: int = 0, symbol: str = "BTCUSDT") -> TickBatch:
    ids = np.arange(start_id, start_id + n)
    return TickBatch(symbol, T0 + ids * 1000, 100.0 + ids % 7, np.full(n, 0.5), ids % 2, ids)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/ticks.db", "data/ticks.db"),
        ("sqlite:////abs/ticks.db", "/abs/ticks.db"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_url_forms(url: str, path: str) -> None:
    assert sqlite_path(url) == path


@pytest.mark.parametrize("url", ["sqlite://ticks.db", "sqlite:///", "postgresql://x/y"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(StoreError, match="sqlite"):
        sqlite_path(url)


def test_cache_size_option(sqlite_url: str) -> None:
    with SQLiteStore(sqlite_url) as store:
        assert store._con.execute("PRAGMA cache_size").fetchone()[0] == -128 * 1024
    with SQLiteStore(f"{sqlite_url}?cache_mb=8") as store:
        assert store._con.execute("PRAGMA cache_size").fetchone()[0] == -8 * 1024
        assert store.write_ticks(batch(3)) == 3
    with SQLiteStore(f"{sqlite_url}?cache_mb=8", read_only=True) as store:
        assert len(store.read_ticks("BTCUSDT")) == 3
    for bad in ("?cache_mb=0", "?cache_mb=lots", "?cache=8"):
        with pytest.raises(StoreError, match="cache_mb"):
            SQLiteStore(f"{sqlite_url}{bad}")


def test_mmap_option(sqlite_url: str) -> None:
    with SQLiteStore(sqlite_url) as store:
        assert store._con.execute("PRAGMA mmap_size").fetchone()[0] == 256 * 1024 * 1024
    with SQLiteStore(f"{sqlite_url}?cache_mb=16&mmap_mb=0") as store:
        assert store._con.execute("PRAGMA mmap_size").fetchone()[0] == 0
        assert store._con.execute("PRAGMA cache_size").fetchone()[0] == -16 * 1024
        assert store.write_ticks(batch(3)) == 3
    with pytest.raises(StoreError, match="mmap_mb must be a whole number of MB >= 0"):
        SQLiteStore(f"{sqlite_url}?mmap_mb=-1")


def test_relative_path_creates_parent_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with SQLiteStore("sqlite:///a/b/ticks.db") as store:
        assert store.write_ticks(batch(3)) == 3
    assert (tmp_path / "a" / "b" / "ticks.db").is_file()


def test_unusable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open"):
        SQLiteStore(f"sqlite:///{tmp_path / 'file' / 'ticks.db'}")
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        SQLiteStore(f"sqlite:///{tmp_path / 'junk.db'}")


def test_memory_store_works_but_cannot_be_read_only() -> None:
    with SQLiteStore("sqlite:///:memory:") as store:
        assert store.write_ticks(batch(5)) == 5
        assert len(store.read_ticks("BTCUSDT")) == 5
    with pytest.raises(StoreError, match="memory"):
        SQLiteStore("sqlite:///:memory:", read_only=True)


def test_file_settings(sqlite_url: str) -> None:
    store = SQLiteStore(sqlite_url)
    con = store._con
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert con.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert con.execute("PRAGMA page_size").fetchone()[0] == 8192
    assert store.schema_version == len(SQLITE_MIGRATIONS)
    store.close()


def test_newer_schema_is_refused(sqlite_url: str) -> None:
    SQLiteStore(sqlite_url).close()
    con = sqlite3.connect(sqlite_path(sqlite_url))
    con.execute(f"PRAGMA user_version = {len(SQLITE_MIGRATIONS) + 1}")
    con.close()
    with pytest.raises(StoreError, match="newer than this statarb knows"):
        SQLiteStore(sqlite_url)
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(sqlite_url, read_only=True)


def test_read_only_needs_an_existing_migrated_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        SQLiteStore(f"sqlite:///{tmp_path / 'missing.db'}", read_only=True)
    sqlite3.connect(tmp_path / "old.db").close()
    with pytest.raises(StoreError, match="open it once read-write"):
        SQLiteStore(f"sqlite:///{tmp_path / 'old.db'}", read_only=True)


def test_failed_migration_leaves_the_file_untouched(sqlite_url: str) -> None:
    path = sqlite_path(sqlite_url)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE ticks (x)")  # clashes with migration 1
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="version 1 failed"):
        SQLiteStore(sqlite_url)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 0
    assert (
        con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'symbols'").fetchone()[0] == 0
    )
    con.close()


def test_reader_sees_only_committed_data(sqlite_url: str) -> None:
    writer = open_store(sqlite_url)
    writer.write_ticks(batch(10))
    reader = open_store(sqlite_url, read_only=True)
    with writer.transaction():
        writer.write_ticks(batch(10, start_id=10))
        assert len(reader.read_ticks("BTCUSDT")) == 10  # WAL: readers do not wait
    assert len(reader.read_ticks("BTCUSDT")) == 20
    reader.close()
    writer.close()


def test_two_writers_on_one_file(sqlite_url: str) -> None:
    SQLiteStore(sqlite_url).close()
    results: list[int] = []

    def write(offset: int) -> None:
        with SQLiteStore(sqlite_url) as store:
            for i in range(0, 2000, 200):
                results.append(store.write_ticks(batch(300, start_id=offset + i)))

    threads = [threading.Thread(target=write, args=(k * 1000,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with SQLiteStore(sqlite_url) as store:
        info = store.symbols()[0]
        assert info.ticks == sum(results) == 3100
        assert np.array_equal(store.read_ticks("BTCUSDT").trade_id, np.arange(3100))


def test_large_batch_round_trip_is_exact(sqlite_url: str) -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    b = TickBatch(
        "ETHUSDT",
        T0 + np.sort(rng.integers(0, 10**9, n)),
        rng.random(n) * 3000,
        rng.exponential(1.0, n),
        rng.integers(-1, 2, n),
        np.arange(n) * 3,
        np.where(rng.random(n) < 0.5, T0 + 10**10, 0),
    )
    with SQLiteStore(sqlite_url) as store:
        assert store.write_ticks(b) == n
        got = store.read_ticks("ETHUSDT")
    for col in ("ts", "price", "size", "side", "trade_id", "recv_ts"):
        assert np.array_equal(getattr(got, col), getattr(b, col)), col


def _version_1_file(path: str) -> None:
    """A store as statarb wrote it at schema version 1 (two B-trees per tick), with ticks."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN")
    for stmt in SQLITE_MIGRATIONS[0]:
        con.execute(stmt)
    con.execute("INSERT INTO symbols VALUES (1, 'BTCUSDT'), (2, 'ETHUSDT')")
    con.execute(
        "INSERT INTO symbol_stats (symbol_id, ticks, first_ts, last_ts) VALUES "
        "(1, 3, 1000, 3000), (2, 1, 5000, 5000)"
    )
    con.executemany(
        "INSERT INTO ticks VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(1, 1000, 7, 10.0, 1.0, 0, 0), (1, 2000, 9, 11.0, 2.0, 1, 0),
         (1, 3000, -1, 12.0, 3.0, -1, 0), (2, 5000, -1, 50.0, 1.0, -1, 0)],
    )  # fmt: skip
    con.execute("PRAGMA user_version = 1")
    con.execute("COMMIT")
    con.close()


def test_version_1_file_migrates_to_one_key_per_tick(sqlite_url: str) -> None:
    path = sqlite_path(sqlite_url)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _version_1_file(path)
    with pytest.raises(StoreError, match="open it once read-write"):
        SQLiteStore(sqlite_url, read_only=True)
    store = SQLiteStore(sqlite_url)
    assert store.schema_version == len(SQLITE_MIGRATIONS)
    names = {r[0] for r in store._con.execute("SELECT name FROM sqlite_master")}
    assert "ticks_trade_id" not in names
    stats = store._con.execute(
        "SELECT symbol_id, min_trade_id, max_trade_id FROM symbol_stats ORDER BY symbol_id"
    ).fetchall()
    assert stats == [(1, 7, 9), (2, None, None)]
    assert store.last_trade_id("BTCUSDT") == 9 and store.last_trade_id("ETHUSDT") is None
    before = store.read_ticks("BTCUSDT")
    assert before.trade_id.tolist() == [7, 9, -1]
    # the trade-id rule still holds: id 9 at another time and price is a duplicate, 8 is new
    clash = TickBatch("BTCUSDT", np.array([2500, 2600]), np.array([99.0, 11.5]),
                      np.array([1.0, 1.0]), np.array([0, 0]), np.array([9, 8]))  # fmt: skip
    assert store.write_ticks(clash) == 1
    assert store.read_ticks("BTCUSDT").trade_id.tolist() == [7, 9, 8, -1]
    assert store.symbols()[0].ticks == 4
    store.close()
    # reopening (read-only too) needs no further migration
    SQLiteStore(sqlite_url, read_only=True).close()
