"""``/health`` latency while the API serves its largest reads, from a 1.5M-tick SQLite store.

The server (``create_app`` under uvicorn) runs in a process of its own, as ``statarb serve``
does, so the probe's own threads do not compete with it for the GIL. A probe thread asks for
``/health`` back to back while the main thread reads one large response (streamed, the body
discarded). Ours: ``/health`` during each large read. Baseline, same run and server: ``/health``
at rest for as many samples. Reported: median, max and the count of samples over 200 ms.

Size: ``STATARB_BENCH_HEALTH_TICKS`` (default 1.5M). Target: the slowest ``/health`` under 200 ms.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from bench._common import report
from statarb.model import TickBatch

T0 = 1_704_067_200_000_000
TOKEN = "bench-token"
SLOW_S = 0.2
_SERVER = """
import sys, uvicorn
from statarb.api import create_app
from statarb.config import Settings
cfg = Settings(store_url=sys.argv[1], api_token=sys.argv[3], timeframes=["1m"])
uvicorn.run(create_app(cfg), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
_READER = """
import sys, time, httpx
n, t = 0, time.perf_counter()
with httpx.stream("GET", sys.argv[1], timeout=600) as r:
    r.raise_for_status()
    for part in r.iter_raw(1 << 20):
        n += len(part)
print(n, time.perf_counter() - t)
"""


def make_ticks(n: int, seed: int = 11) -> TickBatch:
    """``n`` ticks about 1 ms apart (so ``tf=1ms`` bars are nearly one per tick)."""
    rng = np.random.default_rng(seed)
    ts = T0 + np.cumsum(rng.integers(1, 2_000, n)).astype(np.int64)
    price = np.round(42_000 + np.cumsum(rng.normal(0, 0.5, n)), 1)
    size = np.round(rng.exponential(0.05, n), 3) + 0.001
    side = (rng.random(n) < 0.5).astype(np.int8)
    return TickBatch("BTCUSDT", ts, price, size, side, np.arange(10**9, 10**9 + n))


def fill(path: Path, n: int) -> None:
    """A SQLite store at ``path`` holding ``n`` ticks of BTCUSDT."""
    from statarb.store.sqlite import SQLiteStore

    store = SQLiteStore(f"sqlite:///{path}")
    ticks = make_ticks(n)
    with store.transaction():
        for i in range(0, n, 500_000):
            store.write_ticks(ticks.take(slice(i, i + 500_000)))
    store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(db: Path) -> Iterator[str]:
    """The API on ``db`` in a child process; yields its base URL."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, f"sqlite:///{db}", str(port), TOKEN])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(base + "/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the API did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


def probe(base: str, done: threading.Event, out: list[float]) -> None:
    """``/health`` back to back (2 ms apart) until ``done``; latencies into ``out``."""
    with httpx.Client(base_url=base, timeout=60) as c:
        while not done.is_set():
            t = time.perf_counter()
            c.get("/health").raise_for_status()
            out.append(time.perf_counter() - t)
            done.wait(0.002)


def during(base: str, path: str) -> tuple[list[float], int, float]:
    """``/health`` latencies while ``GET path`` is read; its byte count and seconds.

    The large read runs in a child process, so that reading it does not hold up the probe.
    """
    lat: list[float] = []
    done = threading.Event()
    th = threading.Thread(target=probe, args=(base, done, lat))
    th.start()
    try:
        out = subprocess.run([sys.executable, "-c", _READER, base + path], check=True,
                             capture_output=True, text=True, timeout=600).stdout  # fmt: skip
    finally:
        done.set()
        th.join()
    size, secs = out.split()
    return lat, int(size), float(secs)


def at_rest(base: str, samples: int) -> list[float]:
    lat: list[float] = []
    with httpx.Client(base_url=base, timeout=60) as c:
        for _ in range(samples):
            t = time.perf_counter()
            c.get("/health").raise_for_status()
            lat.append(time.perf_counter() - t)
            time.sleep(0.002)
    return lat


def stats(ts: list[float]) -> dict[str, float]:
    return {"median": statistics.median(ts), "min": min(ts), "max": max(ts)}


READS = (
    ("ticks JSON, limit=1,000,000", "/api/v1/ticks/BTCUSDT?limit=1000000"),
    ("bars tf=1ms JSON, limit=500,000", "/api/v1/bars/BTCUSDT?tf=1ms&limit=500000"),
    ("ticks CSV, limit=1,000,000", "/api/v1/ticks/BTCUSDT?limit=1000000&format=csv"),
    ("ticks Arrow, limit=1,000,000", "/api/v1/ticks/BTCUSDT?limit=1000000&format=arrow"),
)


def main() -> None:
    n = int(os.environ.get("STATARB_BENCH_HEALTH_TICKS", 1_500_000))
    folder = Path(tempfile.mkdtemp(prefix="statarb-bench-health-"))
    try:
        db = folder / "health.db"
        t = time.perf_counter()
        fill(db, n)
        print(f"[health] stored {n:,} ticks in {time.perf_counter() - t:.1f}s", flush=True)
        with server(db) as base:
            for task, path in READS:
                during(base, path)  # warm: numba kernels, page cache
                lat, size, secs = during(base, path)
                base_lat = at_rest(base, max(len(lat), 20))
                slow = sum(x > SLOW_S for x in lat)
                report("health", f"/health during {task} ({size / 1e6:.0f} MB, {secs:.1f}s)",
                       stats(lat), stats(base_lat), ours_name="during the read",
                       base_name="at rest", target="max < 200 ms")  # fmt: skip
                print(f"[health] {task}: {len(lat)} samples, median "
                      f"{statistics.median(lat) * 1e3:.0f} ms, max {max(lat) * 1e3:.0f} ms, "
                      f"{slow} over 200 ms; at rest max {max(base_lat) * 1e3:.0f} ms",
                      flush=True)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
