"""Memory of a long-running ``statarb serve``: resident size after N ticks, by SQLite settings.

Each configuration runs its own ``statarb serve`` process (random port, fresh SQLite store),
takes ``STATARB_BENCH_MEMORY_TICKS`` ticks (default 300k) through ``POST /api/v1/ticks/batch``
in 10k-tick bodies, and reports its resident set (VmRSS, peak VmHWM) at start and at the end.
The default store URL (128 MB page cache, 256 MB memory map) is the baseline; the small-machine
settings of docs/deployment.md (``?cache_mb=16&mmap_mb=0``) are measured beside it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TICKS = int(os.environ.get("STATARB_BENCH_MEMORY_TICKS", 300_000))
BODY = 10_000
T0_MS = 1_723_118_400_000
STATARB = Path(sys.executable).with_name("statarb")
CONFIGS = {"default": "", "small machine": "?cache_mb=16&mmap_mb=0"}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def _run(query: str, folder: Path) -> dict[str, float]:
    import httpx
    import orjson

    port = _free_port()
    env = {**os.environ, "STATARB_STORE_URL": f"sqlite:///{folder / 'mem.db'}{query}",
           "STATARB_API_TOKEN": "bench", "STATARB_SYMBOLS": "",
           "STATARB_LOG_LEVEL": "WARNING"}  # fmt: skip
    proc = subprocess.Popen([str(STATARB), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(url + "/health", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("statarb serve did not start") from None
                time.sleep(0.2)
        start = _rss_mb(proc.pid)[0]
        headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
        with httpx.Client(base_url=url, timeout=120) as client:
            for k in range(0, TICKS, BODY):
                rows = [{"symbol": ("BTCUSDT", "ETHUSDT")[i % 2], "ts": T0_MS + k + i,
                         "price": 60_000.0 + i % 100, "size": 0.001, "trade_id": k + i}
                        for i in range(min(BODY, TICKS - k))]  # fmt: skip
                r = client.post("/api/v1/ticks/batch?wait=true", content=orjson.dumps(rows),
                                headers=headers)  # fmt: skip
                r.raise_for_status()
            # read back over a long range, as the dashboard does
            client.get("/api/v1/ticks/BTCUSDT", params={"limit": 100_000}).raise_for_status()
        rss, peak = _rss_mb(proc.pid)
        return {"start": start, "end": rss, "peak": peak}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    """Measure each configuration and print its resident size."""
    out = {}
    for name, query in CONFIGS.items():
        with tempfile.TemporaryDirectory() as d:
            out[name] = _run(query, Path(d))
        m = out[name]
        print(f"[memory] statarb serve, {name} ({query or 'cache_mb=128, mmap_mb=256'}): "
              f"RSS {m['start']:.0f} MB at start, {m['end']:.0f} MB after {TICKS:,} ticks "
              f"(peak {m['peak']:.0f} MB)", flush=True)  # fmt: skip
    d, s = out["default"], out["small machine"]
    print(f"[memory] small-machine settings: {s['end'] / d['end']:.2f}x the default's RSS "
          f"after {TICKS:,} ticks", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
