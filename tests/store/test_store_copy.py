"""Copying a whole store into another: SQLite and PostgreSQL both ways, exact, idempotent."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from statarb import sample
from statarb.bars import resample
from statarb.errors import InputError
from statarb.ingest.files import import_files
from statarb.store import TickStore, open_store
from statarb.store.copy import copy_store, verify_copy

RULE = {"name": "wide", "condition": {"metric": "zscore", "target": "BTCUSDT/ETHUSDT",
        "timeframe": "1m", "operator": ">=", "threshold": 2}}  # fmt: skip


def _fill(store: TickStore) -> None:
    """The demo sample (ticks and quotes of two symbols), 1s and 1m bars, rules and events."""
    import_files(sample.files(), store)
    for sym in ("BTCUSDT", "ETHUSDT"):
        ticks = store.read_ticks(sym)
        for tf in ("1s", "1m"):
            store.write_bars(resample(ticks, tf))
    store.save_alert_rule(RULE)
    store.save_alert_rule({**RULE, "name": "explicit", "id": 41})
    store.delete_alert_rule(1)  # a gap in the ids: copies keep them as they are
    for i in range(7):
        store.add_alert_event({"rule_id": 41, "ts": 1_723_161_300_000_000 + i * 10**6, "v": i})


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TickStore]:
    url = f"sqlite:///{tmp_path_factory.mktemp('copy') / 'source.db'}"
    st = open_store(url)
    _fill(st)
    st.close()
    ro = open_store(url, read_only=True)
    yield ro
    ro.close()


def _same(a: TickStore, b: TickStore) -> None:
    """Every row of ``a`` is in ``b`` with the same values, and nothing else."""
    assert [s.to_dict() for s in a.symbols()] == [s.to_dict() for s in b.symbols()]
    for info in a.symbols():
        ta, tb = a.read_ticks(info.symbol), b.read_ticks(info.symbol)
        for col in ("ts", "trade_id", "price", "size", "side"):
            np.testing.assert_array_equal(getattr(ta, col), getattr(tb, col), err_msg=col)
        qa, qb = a.read_quotes(info.symbol), b.read_quotes(info.symbol)
        for col in ("ts", "update_id", "bid", "bid_size", "ask", "ask_size"):
            np.testing.assert_array_equal(getattr(qa, col), getattr(qb, col), err_msg=col)
        for tf in info.bars:
            ba, bb = a.read_bars(info.symbol, tf), b.read_bars(info.symbol, tf)
            for f in dataclasses.fields(ba):
                va, vb = getattr(ba, f.name), getattr(bb, f.name)
                if isinstance(va, np.ndarray):
                    np.testing.assert_array_equal(va, vb, err_msg=f"{tf} {f.name}")
    assert a.list_alert_rules() == b.list_alert_rules()
    assert a.list_alert_events(limit=100) == b.list_alert_events(limit=100)


def test_copy_is_exact_and_a_rerun_adds_nothing(sqlite_source: TickStore, store: TickStore) -> None:
    seen: list[tuple[str, int, int]] = []
    report = copy_store(sqlite_source, store, chunk=5_000,
                        progress=lambda t, d, n: seen.append((t, d, n)))  # fmt: skip
    assert report.ok, report.summary()
    _same(sqlite_source, store)
    assert report.rows == report.new
    by = {c.label: c for c in report.copied}
    assert by["ticks BTCUSDT"].rows == 21_313 and by["ticks ETHUSDT"].rows == 14_076
    assert by["quotes BTCUSDT"].rows == 13_218 and by["alert events"].rows == 7
    assert by["alert rules"].rows == 1 and by["bars BTCUSDT 1m"].rows == 6
    # progress: a start and a chunk at a time, ending at the total
    ticks = [(d, n) for t, d, n in seen if t == "ticks BTCUSDT"]
    assert ticks[0] == (0, 21_313) and ticks[-1] == (21_313, 21_313) and len(ticks) >= 5
    quotes = [d for t, d, _ in seen if t == "quotes BTCUSDT"]
    assert quotes[-1] == 13_218 and len(quotes) >= 3
    # the target's own id sequence continues after the copied ids
    assert store.save_alert_rule({**RULE, "name": "after"}) == 42
    store.delete_alert_rule(42)
    assert store.add_alert_event({"rule_id": 41, "ts": 1}) == 8
    store.update_alert_event(8, {"rule_id": 41})
    again = copy_store(sqlite_source, store, chunk=5_000)
    assert again.new == 0 and again.rows == report.rows
    assert not again.ok  # the extra event of the target is reported
    bad = [c for c in again.checks if not c.ok]
    assert [c.label for c in bad] == ["alert events"]
    assert "1 rows more" in bad[0].describe()


@pytest.mark.postgres
def test_postgres_back_to_sqlite(sqlite_source: TickStore, pg_url: str, tmp_path: Path) -> None:
    pg = open_store(pg_url)
    try:
        assert copy_store(sqlite_source, pg).ok
        back = open_store(f"sqlite:///{tmp_path / 'back.db'}")
        report = copy_store(pg, back, chunk=3_000)
        assert report.ok, report.summary()
        _same(sqlite_source, back)
        back.close()
    finally:
        pg.close()


def test_an_interrupted_copy_is_completed_by_a_rerun(
    sqlite_source: TickStore, store: TickStore
) -> None:
    calls = 0

    def stop_midway(task: str, done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if task == "ticks ETHUSDT" and done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_store(sqlite_source, store, chunk=4_000, progress=stop_midway)
    partial = verify_copy(sqlite_source, store, symbols=["BTCUSDT", "ETHUSDT"])
    missing = {c.label for c in partial if not c.ok}
    assert "ticks ETHUSDT" in missing and "ticks BTCUSDT" not in missing
    eth = store.read_ticks("ETHUSDT")
    assert 0 < len(eth) < 14_076  # whole chunks were kept
    report = copy_store(sqlite_source, store, chunk=4_000)
    assert report.ok, report.summary()
    assert report.new == sum(c.source.rows - c.target.rows for c in partial)
    _same(sqlite_source, store)


def test_lost_rows_are_reported(sqlite_source: TickStore, store: TickStore) -> None:
    assert copy_store(sqlite_source, store).ok
    store._execute(  # type: ignore[attr-defined]
        "DELETE FROM ticks WHERE symbol_id = (SELECT id FROM symbols WHERE name = ?) "
        "AND trade_id > 0 AND mod(trade_id, 100) = 0",
        ("ETHUSDT",),
    )
    checks = verify_copy(sqlite_source, store, symbols=["BTCUSDT", "ETHUSDT"], alerts=False)
    bad = [c for c in checks if not c.ok]
    assert [c.label for c in bad] == ["ticks ETHUSDT"]
    assert bad[0].target.rows < bad[0].source.rows
    assert "MISSING" in bad[0].describe()


def test_symbols_and_time_range(sqlite_source: TickStore, store: TickStore) -> None:
    lo, hi = 1_723_161_400_000_000, 1_723_161_500_000_000
    report = copy_store(sqlite_source, store, symbols=["ethusdt"], start=lo, end=hi)
    assert report.ok, report.summary()
    assert [s.symbol for s in store.symbols()] == ["ETHUSDT"]
    np.testing.assert_array_equal(
        store.read_ticks("ETHUSDT").ts, sqlite_source.read_ticks("ETHUSDT", lo, hi).ts
    )
    bars = store.read_bars("ETHUSDT", "1s")
    np.testing.assert_array_equal(
        bars.open_time, sqlite_source.read_bars("ETHUSDT", "1s", lo, hi).open_time
    )
    assert 90 <= len(bars) <= 100
    assert store.list_alert_events(limit=100) == []  # the events are later


def test_bad_requests_are_refused(sqlite_source: TickStore, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="same store"):
        copy_store(sqlite_source, sqlite_source)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    a, b = open_store(url), open_store(url)
    with pytest.raises(InputError, match="same store"):
        copy_store(a, b)
    a.close()
    b.close()
    dst = open_store("sqlite:///:memory:")
    with pytest.raises(InputError, match="BTCUSDT"):
        copy_store(sqlite_source, dst, symbols=["BTCUSTD"])
    with pytest.raises(InputError, match="chunk"):
        copy_store(sqlite_source, dst, chunk=0)
    with pytest.raises(InputError, match="before"):
        copy_store(sqlite_source, dst, start=5, end=5)
    assert dst.symbols() == []
