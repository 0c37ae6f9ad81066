"""Tick-to-alert latency counts from the tick that crossed the threshold or closed the bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from statarb.config import Settings
from statarb.engine import Engine
from statarb.engine._core import closing_recv
from statarb.model import Tick, TickBatch
from statarb.store.sqlite import SQLiteStore

T0 = 1_723_118_400_000_000
NOW = T0 + 3_600_000_000  # the engine's (fixed) clock


def test_closing_recv_is_the_receipt_of_the_first_tick_at_or_after_each_end() -> None:
    tb = TickBatch("X", np.array([5, 12, 9, 25, 31]), np.ones(5), np.ones(5),
                   recv_ts=np.array([100, 101, 102, 103, 104]))  # fmt: skip
    assert closing_recv(tb, np.array([10, 20, 25, 30])) == [101, 103, 103, 104]
    # out of order: 9 arrives after 12, yet 12 already closed the bar ending at 10
    assert closing_recv(tb, np.array([9])) == [101]
    assert closing_recv(tb, np.array([40])) == [104]  # none reached it: the latest receipt


async def _latency_of(tmp_path: Path, rule: dict[str, object], ticks: list[Tick]) -> list[int]:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = SQLiteStore(url)
    engine = Engine(Settings(store_url=url, timeframes=["1s"], flush_interval=0.02), store,
                    clock=lambda: NOW)  # fmt: skip
    await engine.start()
    try:
        engine.add_rule(rule)
        await engine.ingest(ticks)
        return [NOW - us for us in engine.latency._data["alert"]]
    finally:
        await engine.stop()
        store.close()


def _tick(i: int, ts: int, price: float, recv: int) -> Tick:
    return Tick("BTCUSDT", ts, price, 1.0, None, i + 1, "", recv)


async def test_a_per_tick_rule_counts_from_the_crossing_tick(tmp_path: Path) -> None:
    ticks = [_tick(i, T0 + i * 1000, p, T0 + 10 * i) for i, p in enumerate([1.0, 2.0, 9.0, 3.0])]
    rule = {"name": "up", "condition": {"metric": "price", "target": "BTCUSDT",
            "operator": "crosses_above", "threshold": 5}}  # fmt: skip
    assert await _latency_of(tmp_path, rule, ticks) == [T0 + 20]  # the third tick's receipt


async def test_a_bar_close_rule_counts_from_the_tick_that_closed_the_bar(tmp_path: Path) -> None:
    s = 1_000_000
    prices_ts = [(1.0, T0), (9.0, T0 + s // 2), (2.0, T0 + s + 1), (3.0, T0 + s + 2)]
    ticks = [_tick(i, ts, p, T0 + 10 * i) for i, (p, ts) in enumerate(prices_ts)]
    rule = {"name": "bar", "condition": {"metric": "price", "target": "BTCUSDT",
            "timeframe": "1s", "operator": ">", "threshold": 5}}  # fmt: skip
    assert await _latency_of(tmp_path, rule, ticks) == [T0 + 20]  # the first tick of the next bar


async def test_the_pair_analytics_load_only_once_there_is_a_pair(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = SQLiteStore(url)
    engine = Engine(Settings(store_url=url, timeframes=["1m"]), store)
    await engine.start()
    try:
        assert engine._preload is None  # no thread contends with the live path for the GIL
        engine.watch_pair("ETHUSDT", "BTCUSDT")
        assert engine._preload is not None
        await engine._preload
    finally:
        await engine.stop()
        store.close()
