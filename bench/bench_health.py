"""``/health`` latency while the API serves its largest reads, from a 1.5M-tick SQLite store,
imports an upload, and waits on a database locked by another process.

The server (``create_app`` under uvicorn) runs in a process of its own, as ``statarb serve``
does. A probe thread asks for ``/health`` back to back while a child process makes the large
request (a read streamed and discarded, or an upload), so neither the client's parsing nor the
probe competes with the server for its GIL. Ours: ``/health`` during each request. Baseline,
same run and server: ``/health`` at rest for as many samples. Reported: median, max and the
count of samples over 200 ms (``/health`` answers 503 while the store refuses writes: timed too),
and the server's peak RSS during each request.

Size: ``STATARB_BENCH_HEALTH_TICKS`` (default 1.5M). Target: the slowest ``/health`` under 200 ms.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
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
_CLIENT = """
import sys, time, httpx
method, url, token, upload = sys.argv[1:5]
auth = {"Authorization": "Bearer " + token}
n, t = 0, time.perf_counter()
if method == "GET":
    with httpx.stream("GET", url, timeout=600) as r:
        r.raise_for_status()
        for part in r.iter_raw(1 << 20):
            n += len(part)
else:
    with open(upload, "rb") as fh:
        files = {"file": (upload.rsplit("/", 1)[-1], fh)} if upload.endswith(".csv") else None
        body = None if files else fh.read()
        kind = {} if files else {"Content-Type": "application/json"}
        r = httpx.post(url, files=files, content=body, headers=auth | kind, timeout=600)
    r.raise_for_status()
    n = len(r.content)
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
def server(db: Path) -> Iterator[tuple[str, int]]:
    """The API on ``db`` in a child process; yields its base URL and process id."""
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
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def probe(base: str, done: threading.Event, out: list[float]) -> None:
    """``/health`` back to back (2 ms apart) until ``done``; latencies into ``out``."""
    with httpx.Client(base_url=base, timeout=60) as c:
        while not done.is_set():
            t = time.perf_counter()
            r = c.get("/health")
            out.append(time.perf_counter() - t)
            if r.status_code not in (200, 503):  # 503: degraded (a locked store), still an answer
                r.raise_for_status()
            done.wait(0.002)


def during(base: str, method: str, path: str, upload: str = "") -> tuple[list[float], int, float]:
    """``/health`` latencies while a child process makes the request; its byte count, seconds."""
    lat: list[float] = []
    done = threading.Event()
    th = threading.Thread(target=probe, args=(base, done, lat))
    th.start()
    try:
        out = subprocess.run([sys.executable, "-c", _CLIENT, method, base + path, TOKEN, upload],
                             check=True, capture_output=True, text=True,
                             timeout=600).stdout  # fmt: skip
    finally:
        done.set()
        th.join()
    size, secs = out.split()
    return lat, int(size), float(secs)


def upload_file(folder: Path, n: int) -> Path:
    """A CSV of ``n`` ETHUSDT trades in Binance's dump layout, for ``POST /ticks/file``."""
    tb = make_ticks(n, seed=5)
    path = folder / "ETHUSDT-trades.csv"
    lines = ["id,price,qty,quote_qty,time,is_buyer_maker"]
    lines += [f"{i},{p},{q},{p * q:.4f},{ts // 1000},{'true' if sd else 'false'}"
              for i, p, q, ts, sd in zip(tb.trade_id.tolist(), tb.price.tolist(),
                                         tb.size.tolist(), tb.ts.tolist(), tb.side.tolist(),
                                         strict=True)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def locked(base: str, db: Path, folder: Path, hold_s: float) -> tuple[list[float], int, float]:
    """``/health`` while another process holds the SQLite file (``BEGIN EXCLUSIVE``) for
    ``hold_s`` and an alert-rule write waits on it."""
    rule = folder / "rule.json"
    rule.write_text('{"name": "locked", "condition": {"metric": "price", "target": "BTCUSDT", '
                    '"operator": ">", "threshold": 1e9}}')  # fmt: skip
    lock = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")
    timer = threading.Timer(hold_s, lambda: lock.execute("ROLLBACK"))
    timer.start()
    try:
        return during(base, "POST", "/api/v1/alerts/rules", str(rule))
    finally:
        timer.join()
        lock.close()


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


def peak_rss_mb(pid: int, *, reset: bool = False) -> float:
    """The process's peak RSS (VmHWM) in MB; ``reset`` starts a new peak (Linux clear_refs)."""
    status = Path(f"/proc/{pid}/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    if reset:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    return peak / 1024


def show(base: str, pid: int, task: str, lat: list[float], size: int, secs: float) -> None:
    peak = peak_rss_mb(pid, reset=True)
    base_lat = at_rest(base, max(len(lat), 20))
    slow = sum(x > SLOW_S for x in lat)
    report("health", f"/health during {task} ({size / 1e6:.0f} MB, {secs:.1f}s)", stats(lat),
           stats(base_lat), ours_name="during it", base_name="at rest",
           target="max < 200 ms")  # fmt: skip
    p99 = statistics.quantiles(lat, n=100)[98] if len(lat) > 1 else lat[0]
    print(f"[health] {task}: {len(lat)} samples, median {statistics.median(lat) * 1e3:.0f} ms, "
          f"p99 {p99 * 1e3:.0f} ms, max {max(lat) * 1e3:.0f} ms, {slow} over 200 ms; at rest max "
          f"{max(base_lat) * 1e3:.0f} ms; server peak RSS {peak:,.0f} MB", flush=True)  # fmt: skip


def main() -> None:
    n = int(os.environ.get("STATARB_BENCH_HEALTH_TICKS", 1_500_000))
    folder = Path(tempfile.mkdtemp(prefix="statarb-bench-health-"))
    try:
        db = folder / "health.db"
        t = time.perf_counter()
        fill(db, n)
        print(f"[health] stored {n:,} ticks in {time.perf_counter() - t:.1f}s", flush=True)
        upload = upload_file(folder, n // 3)
        with server(db) as (base, pid):
            for task, path in READS:
                during(base, "GET", path)  # warm: numba kernels, page cache
                peak_rss_mb(pid, reset=True)
                show(base, pid, task, *during(base, "GET", path))
            task = f"an upload of {n // 3:,} trades (CSV)"
            show(base, pid, task, *during(base, "POST", "/api/v1/ticks/file", str(upload)))
            show(base, pid, "an alert-rule write on a locked database (3 s)",
                 *locked(base, db, folder, 3.0))  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
