"""Shutdown while the store refuses writes: bounded, nothing lost, all stored at the next start."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from statarb.config import Settings
from statarb.engine import Engine
from statarb.model import Tick
from statarb.store.sqlite import SQLiteStore

T0 = 1_723_118_400_000_000
SAFETY_S = 120  # a safety net only


def _ticks(prices: list[float]) -> list[Tick]:
    return [Tick("BTCUSDT", T0 + i * 1_000_000, p, 1.0, None, 1 + i) for i, p in enumerate(prices)]


async def test_refused_writes_are_spilled_at_stop_and_stored_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    spill = tmp_path / "kept.spill"
    cfg = Settings(store_url=url, timeframes=["1m"], flush_interval=0.02, spill_path=str(spill))
    store = SQLiteStore(url, busy_timeout=0.05)
    engine = Engine(cfg, store)
    await engine.start()
    engine.journal.grace = 0.5
    rule = engine.add_rule({"name": "hi", "cooldown_seconds": 0, "condition": {
        "metric": "price", "target": "BTCUSDT", "operator": ">", "threshold": 5}})  # fmt: skip
    while not engine.journal.reserved:  # the store reserved ids for triggers before the lock
        await asyncio.sleep(0.01)
    lock = sqlite3.connect(str(tmp_path / "db.sqlite"), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # another process holds the file until after the stop
    try:
        pushed = asyncio.create_task(engine.ingest(_ticks([1.0, 10.0, 2.0])))
        while not (engine.journal.failing and engine.store_failing):  # both refused once
            await asyncio.sleep(0.01)
        await asyncio.wait_for(engine.stop(), SAFETY_S)
        await asyncio.wait_for(pushed, SAFETY_S)  # the caller is released, not left hanging
    finally:
        lock.execute("ROLLBACK")
        lock.close()
        store.close()
    kept = [json.loads(line) for line in spill.read_text().splitlines()]
    assert sorted(k["op"] for k in kept) == ["add", "ticks"]
    assert engine.journal.counts["spilled"] == 4  # one alert event and three ticks

    store = SQLiteStore(url)
    again = Engine(cfg, store)
    await again.start()
    try:
        events = store.list_alert_events(rule_id=rule.id)
        assert [e["values"] for e in events] == [{"price:BTCUSDT:tick": 10.0}]
        # published before the store refused it: it keeps the id subscribers saw
        assert [e["id"] for e in events] == [k["event"]["id"] for k in kept if k["op"] == "add"]
        assert store.read_ticks("BTCUSDT").price.tolist() == [1.0, 10.0, 2.0]
        assert not spill.exists()
    finally:
        await again.stop()
        store.close()
