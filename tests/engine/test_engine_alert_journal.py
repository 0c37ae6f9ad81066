"""Alert triggers are published at once under a reserved store id, then recorded in order."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from statarb.config import Settings
from statarb.engine import Engine
from statarb.model import Tick
from statarb.store.sqlite import SQLiteStore

T0 = 1_723_118_400_000_000
SAFETY_S = 60  # a safety net only
RULE = {"name": "hi", "cooldown_seconds": 0, "condition": {
    "metric": "price", "target": "BTCUSDT", "operator": ">", "threshold": 5}}  # fmt: skip


class _Hub:
    """Records the alerts published."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []

    def publish(self, topic: str, type: str, data: Any) -> None:
        if topic == "alerts":
            self.alerts.append(dict(data))

    def wants(self, topic: str) -> bool:
        return topic == "alerts"


def _ticks(prices: list[float]) -> list[Tick]:
    return [Tick("BTCUSDT", T0 + i * 1_000_000, p, 1.0, None, 1 + i) for i, p in enumerate(prices)]


def _gate(store: SQLiteStore, name: str, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Hold every call of ``store.name`` (in its worker thread) until the returned event is set."""
    gate, real = threading.Event(), getattr(store, name)

    def held(*a: Any, **kw: Any) -> Any:
        gate.wait(SAFETY_S)
        return real(*a, **kw)

    monkeypatch.setattr(store, name, held)
    return gate


async def _until(cond: Any) -> None:
    async with asyncio.timeout(SAFETY_S):
        while not cond():
            await asyncio.sleep(0.005)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = SQLiteStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    s.close()


def _engine(store: SQLiteStore, tmp_path: Path, hub: _Hub) -> Engine:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    return Engine(Settings(store_url=url, timeframes=["1m"], flush_interval=0.02), store, hub=hub)


async def test_alert_is_published_while_the_store_refuses_it_and_stored_under_that_id(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path / 'db.sqlite'}", busy_timeout=0.05)
    hub = _Hub()
    engine = _engine(store, tmp_path, hub)
    await engine.start()
    lock = sqlite3.connect(str(tmp_path / "db.sqlite"), isolation_level=None)
    try:
        rule = engine.add_rule(RULE)
        await _until(lambda: engine.journal.reserved)  # the pool was reserved at start
        lock.execute("BEGIN EXCLUSIVE")  # another process holds the file: every write waits
        pushed = asyncio.create_task(engine.ingest(_ticks([1.0, 10.0, 2.0, 11.0])))
        await _until(lambda: len(hub.alerts) == 2 and engine.journal.failing)
        assert lock.execute("SELECT count(*) FROM alert_events").fetchone() == (0,)
        assert not pushed.done()  # ingest returns once its alerts are recorded
        lock.execute("ROLLBACK")
        await asyncio.wait_for(pushed, SAFETY_S)
        hist = store.list_alert_events(rule_id=rule.id)
        assert [h["id"] for h in hist[::-1]] == [a["id"] for a in hub.alerts]
        assert [a["values"] for a in hub.alerts] == [{"price:BTCUSDT:tick": 10.0},
                                                     {"price:BTCUSDT:tick": 11.0}]  # fmt: skip
        assert hub.alerts[0]["id"] < hub.alerts[1]["id"]
        assert engine.journal.counts["waited_for_id"] == 0
        assert engine.status()["latency"]["alert"]["count"] == 2
    finally:
        lock.close()
        await engine.stop()
        store.close()


async def test_triggers_wait_for_ids_in_firing_order_while_the_store_reserves_none(
    store: SQLiteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _gate(store, "reserve_alert_event_ids", monkeypatch)
    hub = _Hub()
    engine = _engine(store, tmp_path, hub)
    rule = engine.add_rule(RULE)
    await engine.start()
    try:
        pushed = asyncio.create_task(engine.ingest(_ticks([1.0, 10.0, 2.0, 11.0, 3.0, 12.0])))
        await _until(lambda: engine.journal.counts["waited_for_id"] == 3)
        assert hub.alerts == [] and not pushed.done()  # nothing goes out without its id
        held.set()
        await asyncio.wait_for(pushed, SAFETY_S)
        prices = [a["values"]["price:BTCUSDT:tick"] for a in hub.alerts]
        assert prices == [10.0, 11.0, 12.0]  # in firing order
        ids = [a["id"] for a in hub.alerts]
        assert ids == sorted(ids) and len(set(ids)) == 3
        hist = store.list_alert_events(rule_id=rule.id)
        assert sorted(h["id"] for h in hist) == ids
    finally:
        held.set()
        await engine.stop()


async def test_a_burst_larger_than_the_id_pool_goes_out_whole_and_in_order(
    store: SQLiteStore, tmp_path: Path
) -> None:
    hub = _Hub()
    engine = _engine(store, tmp_path, hub)
    await engine.start()
    try:
        rule = engine.add_rule({**RULE, "condition": {**RULE["condition"],  # type: ignore[dict-item]
                                "operator": "crosses_above"}})  # fmt: skip
        await _until(lambda: engine.journal.reserved)
        n = 1200  # 600 crosses in one batch: more than the pool holds
        await engine.ingest(_ticks([1.0 if i % 2 == 0 else 10.0 for i in range(n)]))
        assert engine.journal.counts["waited_for_id"] > 0
        ids = [a["id"] for a in hub.alerts]
        assert len(ids) == n // 2 and ids == sorted(ids) and len(set(ids)) == n // 2
        assert [a["ts"] for a in hub.alerts] == sorted(a["ts"] for a in hub.alerts)
        hist = store.list_alert_events(rule_id=rule.id, limit=n)
        assert sorted(h["id"] for h in hist) == ids
    finally:
        await engine.stop()
