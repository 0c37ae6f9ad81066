"""The live engine and its API: tick-in to alert-out latency and REST batch ingest throughput.

1. End to end at 5,000 ticks/s for ``SECONDS``: batches of 50 ticks every 10 ms enter the engine
   through :meth:`Engine.ingest` (the path of API and feed ticks), each tick stamped with its
   receipt time as it is made, like a feed frame read off the socket. The producer does not
   wait for the engine (a feed does not), so a slow engine shows as latency, not as a slower
   stream. A per-tick price rule crosses its threshold every 50 ticks, so alerts fire at 100/s.
   Tick-to-alert = alert published on the hub - receipt of the tick that crossed the threshold
   (the engine's ``alert`` stage; for a rule on closed bars, the tick that closed the bar).
   Every alert must reach the subscriber and the store, in order. Baseline, same stream in the
   same process: the seed-style consumer that inserts and commits each tick into SQLite and
   then compares it with the threshold. Target: p99 < 20 ms at 5k ticks/s. The CPU seconds
   of this process over each stream are reported too (the wall-clock latency of a loaded
   machine says as much about the neighbours as about the code).
2. REST ``POST /api/v1/ticks/batch?wait=true`` of 10,000-tick JSON and NDJSON bodies to a live
   uvicorn server (parsing, validation, engine, store commit) vs ``TickStore.write_ticks`` of the
   same rows as one numpy batch (the floor: storage alone, no HTTP/JSON/engine). Reported as
   ticks/s; target over 100k ticks/s. Also the validation alone: column-wise
   :func:`validate_rows` vs one pydantic ``TickIn`` per row (the previous path).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import orjson

from bench._common import report
from statarb.model import Tick, TickBatch

RATE = 5_000
BATCH = 50
SECONDS = 6
T0 = 1_723_118_400_000_000
REST_ROWS = int(os.environ.get("STATARB_BENCH_REST_ROWS", 10_000))
REST_CALLS = int(os.environ.get("STATARB_BENCH_REST_CALLS", 6))


def _now() -> int:
    return time.time_ns() // 1000


def _stream(n: int, start: int) -> list[Tick]:
    return [Tick("BTCUSDT", T0 + (start + i) * 200, 100.0 + ((start + i) // 25) % 2, 1.0, None,
                 start + i + 1) for i in range(n)]  # fmt: skip


async def _engine_latency(folder: Path) -> tuple[np.ndarray, int, float, float]:
    from statarb.api.ws import BroadcastHub
    from statarb.config import Settings
    from statarb.engine import Engine
    from statarb.store import open_store

    url = f"sqlite:///{folder / 'engine.db'}"
    store = open_store(url)
    hub = BroadcastHub(max_queue=10_000_000, max_bytes=2**40)
    sink = hub.connect()
    hub.subscribe(sink, ["alerts", "ticks:BTCUSDT"])
    engine = Engine(Settings(store_url=url, timeframes=["1s", "1m"]), store, hub=hub)
    await engine.start()
    rule = engine.add_rule({"name": "flip", "condition": {"metric": "price", "target": "BTCUSDT",
                            "operator": "crosses_above", "threshold": 100.5}})  # fmt: skip
    sent = 0
    pushed: list[asyncio.Task[int]] = []
    woke: list[float] = []  # how late the producer's own timer fires: the machine's floor
    cpu = time.process_time()
    t_start = time.perf_counter()
    while sent < RATE * SECONDS:
        ticks = [Tick(t.symbol, t.ts, t.price, t.size, None, t.trade_id, "", _now())
                 for t in _stream(BATCH, sent)]  # fmt: skip
        pushed.append(asyncio.create_task(engine.ingest(ticks)))  # a feed does not wait
        sent += BATCH
        due = t_start + sent / RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        woke.append(max(0.0, time.perf_counter() - due))
    await asyncio.gather(*pushed)
    await engine.flush()
    cpu = time.process_time() - cpu
    lat = np.array(list(engine.latency._data["alert"]), dtype=np.int64)
    fired = engine.counts["alerts"]
    await engine.stop()
    published = []
    while not sink.queue.empty():
        msg = orjson.loads(sink.queue.get_nowait())
        if msg["topic"] == "alerts":
            published.append(msg["data"]["id"])
    stored = sorted(e["id"] for e in store.list_alert_events(rule_id=rule.id, limit=10**6))
    store.close()
    expected = RATE * SECONDS // (2 * 25)
    # nothing dropped, nothing twice, in order: every alert reached the subscriber and the store
    assert fired == len(lat) == expected and published == stored and len(set(stored)) == fired, (
        fired, len(lat), expected, len(published), len(stored))  # fmt: skip
    return lat, fired, cpu, float(np.percentile(woke, 99))


async def _seed_latency(folder: Path) -> tuple[np.ndarray, float]:
    con = sqlite3.connect(folder / "seed.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE ticks (symbol TEXT, ts INTEGER, price REAL, size REAL, "
                "trade_id INTEGER, UNIQUE(symbol, trade_id))")  # fmt: skip
    queue: asyncio.Queue[list[tuple[Tick, int]] | None] = asyncio.Queue()
    lat: list[int] = []

    async def consume() -> None:
        prev = None
        while (batch := await queue.get()) is not None:
            for t, recv in batch:
                con.execute("BEGIN")
                con.execute("INSERT OR IGNORE INTO ticks VALUES (?, ?, ?, ?, ?)",
                            (t.symbol, t.ts, t.price, t.size, t.trade_id))  # fmt: skip
                con.execute("COMMIT")
                if prev is not None and prev < 100.5 <= t.price:
                    lat.append(_now() - recv)
                prev = t.price
            await asyncio.sleep(0)

    task = asyncio.create_task(consume())
    sent = 0
    cpu = time.process_time()
    t_start = time.perf_counter()
    while sent < RATE * SECONDS:
        queue.put_nowait([(t, _now()) for t in _stream(BATCH, sent)])
        sent += BATCH
        due = t_start + sent / RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
    queue.put_nowait(None)
    await task
    cpu = time.process_time() - cpu
    con.close()
    return np.array(lat, dtype=np.int64), cpu


def _q(lat: np.ndarray, q: float) -> float:
    return float(np.percentile(lat, q)) / 1e6 if len(lat) else float("nan")


def _latency() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours, fired, cpu_ours, woke = asyncio.run(_engine_latency(Path(tmp)))
        base, cpu_base = asyncio.run(_seed_latency(Path(tmp)))
    load = os.getloadavg()[0]
    floor = f"timer wake-up p99 {woke * 1e3:.1f} ms"
    for name, q in (("p50", 50), ("p99", 99), ("max", 100)):
        o, b = _q(ours, q), _q(base, q)
        task = (f"tick->alert {name} latency at {RATE} ticks/s ({fired} alerts, load {load:.1f}, "
                f"{floor})")  # fmt: skip
        report("engine", task,
               {"median": o, "min": o, "max": o}, {"median": b, "min": b, "max": b},
               ours_name="engine", base_name="seed (commit per tick)",
               target="target: p99 < 20 ms" if name == "p99" else "")  # fmt: skip
    n = int(RATE * SECONDS)
    report("engine", f"CPU of the {n:,}-tick stream at {RATE} ticks/s (this process)",
           {"median": cpu_ours, "min": cpu_ours, "max": cpu_ours},
           {"median": cpu_base, "min": cpu_base, "max": cpu_base},
           ours_name="engine (store, 1s+1m bars, ticks topic, alerts)",
           base_name="seed (commit per tick)", items=n)  # fmt: skip


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def _rest_bodies() -> list[list[dict[str, object]]]:
    return [
        [{"symbol": "BTCUSDT", "ts": (T0 // 1000) + (k * REST_ROWS + i),
          "price": 60_000.0 + i % 100, "size": 0.001 * (1 + i % 7),
          "is_buyer_maker": bool(i % 2), "trade_id": k * REST_ROWS + i + 1}
         for i in range(REST_ROWS)]
        for k in range(2 * REST_CALLS + 1)
    ]  # fmt: skip


def _validation(rows: list[dict[str, object]]) -> None:
    """Column-wise validation vs one pydantic model per row (the previous path), in process."""
    from bench._common import measure
    from statarb.api.routers._tick_batch import validate_rows
    from statarb.api.schemas import parse_tick_rows

    t_ours, _ = measure(lambda: validate_rows(rows, recv_ts=T0), repeat=5)
    t_base, _ = measure(lambda: parse_tick_rows(rows, recv_ts=T0), repeat=3)
    report("engine", f"validate a {len(rows):,}-tick batch", t_ours, t_base,
           ours_name="column-wise validate_rows", base_name="TickIn per row (pydantic)",
           items=len(rows))  # fmt: skip


def _rest() -> None:
    import httpx
    import orjson
    import uvicorn

    from statarb.api import create_app
    from statarb.config import Settings
    from statarb.store import open_store

    rows = _rest_bodies()
    _validation(rows[0])
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'rest.db'}"
        app = create_app(Settings(store_url=url, api_token="bench", timeframes=["1m"]))
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base_url = f"http://127.0.0.1:{port}"
        while True:
            try:
                httpx.get(base_url + "/health").raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        kinds = {
            "JSON": ("application/json", [orjson.dumps(r) for r in rows]),
            "NDJSON": ("application/x-ndjson",
                       [b"\n".join(orjson.dumps(x) for x in r) for r in rows]),
        }  # fmt: skip
        results: dict[str, list[float]] = {}
        # CPU seconds of this process (server, engine, writer and the client too): on a loaded
        # machine the wall time says more about the neighbours than about the code
        cpu: dict[str, list[float]] = {}
        with httpx.Client(base_url=base_url, timeout=60) as client:
            for i, (kind, (ctype, bodies)) in enumerate(kinds.items()):
                headers = {"Authorization": "Bearer bench", "Content-Type": ctype}
                if i == 0:
                    client.post("/api/v1/ticks/batch?wait=true", content=bodies[0],
                                headers=headers)  # fmt: skip
                part = bodies[1 + i * REST_CALLS : 1 + (i + 1) * REST_CALLS]
                results[kind], cpu[kind] = [], []
                for body in part:
                    t, c = time.perf_counter(), time.process_time()
                    r = client.post("/api/v1/ticks/batch?wait=true", content=body,
                                    headers=headers)  # fmt: skip
                    results[kind].append(time.perf_counter() - t)
                    cpu[kind].append(time.process_time() - c)
                    assert r.json()["accepted"] == REST_ROWS, r.text
        server.should_exit = True
        thread.join(10)
        store = open_store(f"sqlite:///{Path(tmp) / 'floor.db'}")
        floor, floor_cpu = [], []
        for k in range(REST_CALLS + 1):
            ids = np.arange(k * REST_ROWS, (k + 1) * REST_ROWS, dtype=np.int64)
            tb = TickBatch("BTCUSDT", T0 + ids * 1000, 60_000.0 + ids % 100,
                           0.001 * (1 + ids % 7), trade_id=ids + 1)  # fmt: skip
            t, c = time.perf_counter(), time.process_time()
            store.write_ticks(tb)
            if k:
                floor.append(time.perf_counter() - t)
                floor_cpu.append(time.process_time() - c)
        store.close()

    def stats(ts: list[float]) -> dict[str, float]:
        return {"median": float(np.median(ts)), "min": min(ts), "max": max(ts)}

    for kind in results:
        for clock, ours, base in (("wall", results[kind], floor), ("CPU", cpu[kind], floor_cpu)):
            report("engine", f"REST batch ingest ({kind}, {clock}), {REST_ROWS:,} ticks/request",
                   stats(ours), stats(base), ours_name="POST /ticks/batch (HTTP+engine+store)",
                   base_name="write_ticks only", target="target: > 100k ticks/s",
                   items=REST_ROWS)  # fmt: skip


def main() -> None:
    """Run both measurements and print/record them."""
    _latency()
    _rest()


if __name__ == "__main__":
    main()
