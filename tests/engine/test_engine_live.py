"""The engine end to end on a real SQLite store: a replayed Binance session, webhooks, shutdown."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _live_helpers import served_trades
from statarb.api.ws import BroadcastHub
from statarb.bars import resample
from statarb.config import Settings
from statarb.engine import Engine
from statarb.model import Tick, TickBatch
from statarb.sample import files as sample_files
from statarb.store import open_store

T0 = 1_723_118_400_000_000  # µs


def _settings(url: str, **kw: Any) -> Settings:
    return Settings(store_url=url, timeframes=["1s", "1m"], flush_interval=0.02, **kw)


def _sample() -> dict[str, TickBatch]:
    return served_trades(sample_files())  # the venue serves raw trades aggregated, like Binance


def _drain(client: Any) -> list[dict[str, Any]]:
    msgs = []
    while not client.queue.empty():
        msgs.append(json.loads(client.queue.get_nowait()))
    return msgs


async def test_replayed_session_stores_builds_bars_and_fires_alerts(sqlite_url: str) -> None:
    from statarb.venue.server import ReplayServer

    source = _sample()
    btc = source["BTCUSDT"]
    ref = resample(btc, "1s")
    closed = ref.take(slice(0, len(ref) - 1))  # the last bar is still open at the end
    thr = float(np.median(closed.close))
    c = closed.close
    crosses = int(np.sum((c[:-1] < thr) & (thr <= c[1:])))
    assert crosses >= 2  # the session crosses its median more than once

    store = open_store(sqlite_url)
    hub = BroadcastHub(max_queue=1_000_000)
    listener = hub.connect()
    hub.subscribe(listener, ["bars:BTCUSDT:1s", "alerts"])
    engine = Engine(_settings(sqlite_url), store, hub=hub)
    await engine.start()
    try:
        rule = engine.add_rule({"name": "median", "condition": {
            "metric": "price", "target": "BTCUSDT", "timeframe": "1s",
            "operator": "crosses_above", "threshold": thr}})  # fmt: skip
        async with ReplayServer(sample_files(), clock="original", speed=None) as server:
            await engine.start_feed(["BTCUSDT", "ETHUSDT"], ws_url=server.ws_url,
                                    rest_url=server.rest_url)  # fmt: skip
            await asyncio.wait_for(server.done.wait(), 60)
            for _ in range(400):
                if engine.counts["ticks"] >= sum(len(t) for t in source.values()):
                    break
                await asyncio.sleep(0.05)
            await engine.stop_feed(["BTCUSDT", "ETHUSDT"])
        await engine.flush()
        for sym, tb in source.items():
            assert len(store.read_ticks(sym)) == len(tb)
        events = _drain(listener)
        bars = [m["data"] for m in events if m["topic"] == "bars:BTCUSDT:1s" and m["type"] == "bar"]
        assert [b["open_time"] for b in bars] == closed.open_time.tolist()
        np.testing.assert_allclose([b["close"] for b in bars], closed.close)
        np.testing.assert_allclose([b["volume"] for b in bars], closed.volume)
        alerts = [m["data"] for m in events if m["topic"] == "alerts"]
        hist = store.list_alert_events(rule_id=rule.id)
        assert len(alerts) == len(hist) == crosses
        assert sorted(h["id"] for h in hist) == sorted(a["id"] for a in alerts)
        status = engine.status()
        assert status["latency"]["receipt"]["count"] > 0
        assert status["latency"]["alert"]["count"] == crosses
    finally:
        await engine.stop()
        store.close()


class _Receiver:
    def __init__(self, codes: list[int]) -> None:
        self.codes, self.bodies = codes, []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.bodies.append((dict(self.headers), body))
                self.send_response(outer.codes.pop(0) if outer.codes else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a: object) -> None:
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/hook"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver([500])
    yield r
    r.srv.shutdown()
    r.srv.server_close()


def _ticks(sym: str, prices: list[float], start_id: int = 1) -> list[Tick]:
    return [Tick(sym, T0 + i * 1_000_000, p, 1.0, None, start_id + i)
            for i, p in enumerate(prices)]  # fmt: skip


async def test_trigger_recorded_first_then_delivered_with_retry(
    sqlite_url: str, receiver: _Receiver
) -> None:
    from statarb.alerts.notify import Notifier

    store = open_store(sqlite_url)
    engine = Engine(
        _settings(sqlite_url), store, notifier=Notifier(backoff=0.01, allow=("127.0.0.1/32",))
    )
    await engine.start()
    try:
        rule = engine.add_rule({"name": "hi", "condition": {"metric": "price",
                                "target": "ETHUSDT", "operator": ">=", "threshold": 10},
                                "webhooks": [{"kind": "custom", "url": receiver.url,
                                              "secret": "k"}]})  # fmt: skip
        await engine.ingest(_ticks("ETHUSDT", [9.0, 10.0, 11.0, 9.5, 12.0]))
        (first, second) = sorted(store.list_alert_events(rule_id=rule.id), key=lambda e: e["ts"])
        assert first["values"] == {"price:ETHUSDT:tick": 10.0} and first["ts"] == T0 + 1_000_000
        assert second["values"] == {"price:ETHUSDT:tick": 12.0}
        await engine.notifier.drain(5)
        await engine.journal.flush()  # the delivery results are recorded through the journal
        for ev in store.list_alert_events(rule_id=rule.id):
            assert ev["delivery"] == "delivered"
        attempts = sorted(d["attempts"] for e in store.list_alert_events() for d in e["deliveries"])
        assert attempts == [1, 2]  # the first POST got a 500 and was retried
        headers, body = receiver.bodies[-1]
        signed = headers["X-Statarb-Timestamp"].encode() + b"." + body
        sig = "sha256=" + hmac.new(b"k", signed, hashlib.sha256).hexdigest()
        assert headers["X-Statarb-Signature"] == sig and json.loads(body)["rule_id"] == rule.id
    finally:
        await engine.stop()
        store.close()


async def test_dead_webhook_leaves_the_engine_responsive(sqlite_url: str) -> None:
    from statarb.alerts.notify import Notifier

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
    store = open_store(sqlite_url)
    engine = Engine(_settings(sqlite_url), store,
                    notifier=Notifier(timeout=1.0, retries=3, backoff=0.5,
                                      allow=("127.0.0.1/32",)))  # fmt: skip
    await engine.start()
    try:
        engine.add_rule({"name": "x", "condition": {"metric": "price", "target": "BTCUSDT",
                         "operator": ">", "threshold": 1.5},
                         "webhooks": [{"kind": "slack", "url": url}]})  # fmt: skip
        prices = [1.0, 2.0] * 50
        await engine.ingest(_ticks("BTCUSDT", prices), wait=True)
        hist = store.list_alert_events(limit=1000)
        assert len(hist) == 50 and engine.notifier.pending > 0
        assert all(h["delivery"] == "pending" for h in hist)
        # every tick is processed and stored while each delivery still hangs on its first try
        assert engine.notifier.counts["failed"] == 0 and engine.counts["ticks"] == 100
        assert len(store.read_ticks("BTCUSDT")) == 100
    finally:
        await engine.stop()
        store.close()
        silent.close()


async def test_stop_flushes_everything_queued(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    engine = Engine(Settings(store_url=sqlite_url, timeframes=["1m"], flush_interval=30.0),
                    store)  # fmt: skip
    await engine.start()
    await engine.ingest(_ticks("BTCUSDT", [float(i) for i in range(1, 181)]))
    assert len(store.read_ticks("BTCUSDT")) == 0  # still in the writer's buffer
    await engine.stop()
    assert len(store.read_ticks("BTCUSDT")) == 180
    assert len(store.read_bars("BTCUSDT", "1m")) >= 2
    store.close()


def test_sample_is_where_the_engine_test_expects_it() -> None:
    assert all(Path(p).is_file() for p in sample_files())


async def test_quiet_symbol_bar_closes_on_other_symbols_time(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    hub = BroadcastHub()
    sink = hub.connect()
    hub.subscribe(sink, ["bars:QUIETUSDT:1s"])
    engine = Engine(Settings(store_url=sqlite_url, timeframes=["1s"]), store, hub=hub)
    await engine.start()
    try:
        await engine.ingest([Tick("QUIETUSDT", T0 + 500_000, 5.0, 2.0, None, 1)])
        busy = [Tick("BUSYUSDT", T0 + k * 250_000, 1.0, 1.0, None, k + 1) for k in range(20)]
        await engine.ingest(busy[:11])  # up to 2.5 s: within the 2 s grace of the 1 s bar end
        assert [m for m in _drain(sink) if m["type"] == "bar"] == []
        await engine.ingest(busy[11:])  # 2.75 s .. 4.75 s: past 1 s + 2 s grace
        bars = [m["data"] for m in _drain(sink) if m["type"] == "bar"]
        assert [(b["open_time"], b["close"], b["volume"]) for b in bars] == [(T0, 5.0, 2.0)]
    finally:
        await engine.stop()
        store.close()


async def test_a_dead_writer_is_restarted_and_counted(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    engine = Engine(Settings(store_url=sqlite_url, timeframes=["1m"]), store)
    await engine.start()
    try:
        assert engine._writer_task is not None
        engine._writer_task.cancel()  # what a writer killed by an unexpected error looks like
        await asyncio.gather(engine._writer_task, return_exceptions=True)
        await engine.ingest(_ticks("BTCUSDT", [1.0, 2.0]), wait=True)
        assert engine.counts["writer_restarts"] == 1
        assert len(store.read_ticks("BTCUSDT")) == 2
    finally:
        await engine.stop()
        store.close()
