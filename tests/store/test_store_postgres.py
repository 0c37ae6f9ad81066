"""What only the PostgreSQL store does: URL and schema handling, versions, concurrent writers."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from statarb.errors import StoreError
from statarb.model import NO_ID, TickBatch
from statarb.store import _pgcopy
from statarb.store._schema import POSTGRES_MIGRATIONS
from statarb.store.postgres import PostgresStore, redact, split_url

pytestmark = pytest.mark.postgres
T0 = 1_700_000_000_000_000


def batch(n: int, start_id: int = 0, symbol: str = "BTCUSDT") -> TickBatch:
    ids = np.arange(start_id, start_id + n)
    return TickBatch(symbol, T0 + ids * 1000, 100.0 + ids % 7, np.full(n, 0.5), ids % 2, ids)


def test_split_url_keeps_libpq_parameters() -> None:
    conninfo, schema = split_url("postgresql://u@h:5/db?schema=s_1&connect_timeout=3")
    assert (conninfo, schema) == ("postgresql://u@h:5/db?connect_timeout=3", "s_1")
    assert split_url("postgres://h/db") == ("postgres://h/db", None)
    with pytest.raises(StoreError, match="schema"):
        split_url("postgresql://h/db?schema=bad;drop")
    with pytest.raises(StoreError):
        split_url("mysql://h/db")


def test_unreachable_server_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError, match="cannot connect") as info:
        PostgresStore("postgresql://postgres:s3cret@127.0.0.1:1/none?connect_timeout=1")
    assert "s3cret" not in str(info.value) and ":***@" in str(info.value)
    assert redact("postgresql://h/db") == "postgresql://h/db"


def test_schema_isolation_and_versions(pg_url: str, postgres_dsn: str) -> None:
    import psycopg

    with PostgresStore(pg_url) as store:
        assert store.schema_version == len(POSTGRES_MIGRATIONS)
        store.write_ticks(batch(10))
        store.write_ticks(batch(5, symbol="ETHUSDT"))
    schema = split_url(pg_url)[1]
    with psycopg.connect(postgres_dsn, autocommit=True) as con:
        parts = con.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
            "WHERE p.relname = 'ticks' AND n.nspname = %s ORDER BY 1",
            (schema,),
        ).fetchall()
        assert [r[0] for r in parts] == ["ticks_s1", "ticks_s2"]
        con.execute(f'INSERT INTO "{schema}".schema_version VALUES (%s, 0)', (99,))
    with pytest.raises(StoreError, match="newer than this statarb knows"):
        PostgresStore(pg_url)


def test_read_only_store_of_an_empty_schema_is_refused(pg_url: str) -> None:
    with pytest.raises(StoreError, match="open it once read-write"):
        PostgresStore(pg_url, read_only=True)


def test_concurrent_writers_of_one_symbol_add_each_tick_once(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    results: list[int] = []

    def write(offset: int) -> None:
        with PostgresStore(pg_url) as store:
            for i in range(0, 2000, 200):
                results.append(store.write_ticks(batch(300, start_id=offset + i)))

    threads = [threading.Thread(target=write, args=(k * 500,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with PostgresStore(pg_url) as store:
        assert store.symbols()[0].ticks == sum(results) == 3100
        assert np.array_equal(store.read_ticks("BTCUSDT").trade_id, np.arange(3100))
        assert store.last_trade_id("BTCUSDT") == 3099


def test_content_keys_against_stored_rows(pg_url: str) -> None:
    n = 1000
    rng = np.random.default_rng(2)
    ts = T0 + np.sort(rng.integers(0, 50, n)) * 1000
    b = TickBatch(
        "X", ts, rng.integers(1, 4, n) * 1.0, np.full(n, 0.5), np.zeros(n), np.full(n, NO_ID)
    )
    keys = {(t, p) for t, p in zip(ts.tolist(), b.price.tolist(), strict=True)}
    with PostgresStore(pg_url) as store:
        first = store.write_ticks(b.take(slice(0, 600)))
        second = store.write_ticks(b)
        assert first + second == len(keys) == store.symbols()[0].ticks
        assert len(store.read_ticks("X")) == len(keys)


def test_packed_rows_round_trip_exactly() -> None:
    vals = [np.array([-(2**63), -1, 0, 2**63 - 1]), np.array([-0.0, 1e-300, np.pi, -1e300])]
    buf = b"".join(
        int(a).to_bytes(8, "big", signed=True) + np.array(f, ">f8").tobytes()
        for a, f in zip(*vals, strict=True)
    )
    got = _pgcopy.unpack(buf, ["i8", "f8"])
    assert np.array_equal(got[0], vals[0])
    assert np.array_equal(got[1].view(np.int64), vals[1].view(np.int64))
    assert [len(c) for c in _pgcopy.unpack(None, ["i8", "f8"])] == [0, 0]
    with pytest.raises(StoreError):
        _pgcopy.unpack(buf[:-1], ["i8", "f8"])


def test_large_batch_round_trip_is_exact(pg_url: str) -> None:
    rng = np.random.default_rng(9)
    n = 250_001  # above the size that streams the COPY in parts from a writer thread
    ids = np.where(rng.random(n) < 0.1, NO_ID, np.arange(n) * 2)
    b = TickBatch(
        "ETHUSDT",
        T0 + np.sort(rng.integers(0, 10**10, n)),
        rng.random(n) * 3000 + 1,
        rng.exponential(1.0, n) + 1e-9,
        rng.integers(-1, 2, n),
        ids,
        np.where(rng.random(n) < 0.5, T0 + 10**11, 0),
    )
    with PostgresStore(pg_url) as store:
        assert store.write_ticks(b) == n
        got = store.read_ticks("ETHUSDT")
        parts = list(store.iter_ticks("ETHUSDT", chunk=60_000))
    assert max(len(p) for p in parts) <= 60_000
    order = np.lexsort((b.size, b.price, b.trade_id, b.ts))
    for col in ("ts", "price", "size", "side", "trade_id", "recv_ts"):
        want = getattr(b, col)[order]
        assert np.array_equal(getattr(got, col), want), col
        assert np.array_equal(np.concatenate([getattr(p, col) for p in parts]), want), col
