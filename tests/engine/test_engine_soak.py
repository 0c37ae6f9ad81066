"""Soak: ``statarb serve`` on a looping 20x replay for minutes, with readers and a client flood.

Bounded by ``STATARB_SOAK_SECONDS`` (default 75: past the 40 s in which the server closes clients
that never read). Every few seconds the server's resident memory and its live-path latency are
sampled; at the end memory must be flat, the engine must never
have stalled or counted an error, and the store must hold every trade once, without gaps.
``STATARB_SOAK_REPORT=path.json`` keeps the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from _ports import free_port
from statarb.sample import files as sample_files

SECONDS = float(os.environ.get("STATARB_SOAK_SECONDS", "75"))
SAMPLE_EVERY = 5.0
FLOOD = int(os.environ.get("STATARB_SOAK_FLOOD", "40"))
TOKEN = "soak"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(SECONDS + 180)]


def _rss_mb(pid: int) -> dict[str, float]:
    """Resident memory in MB: all, anonymous (heaps, caches) and file-backed (code, mmap)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = round(int(rest.split()[0]) / 1024, 1)
    return {"rss_mb": out["VmRSS"], "anon_mb": out["RssAnon"], "file_mb": out["RssFile"]}


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    exe = str(Path(sys.executable).parent / "statarb")
    out, err = subprocess.DEVNULL, subprocess.PIPE
    return subprocess.Popen(
        [exe, *args], env={**os.environ, **env}, cwd=cwd, stdout=out, stderr=err, text=True
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=30)[1] or ""
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[1] or ""


async def _reader(url: str, topics: list[str], counts: dict[str, int]) -> None:
    async with connect(url) as ws:
        await ws.send(json.dumps({"action": "subscribe", "topics": topics}))
        async for raw in ws:
            msg = json.loads(raw)
            counts[msg["topic"]] = counts.get(msg["topic"], 0) + 1


async def _flood(url: str, topics: list[str]) -> list[ClientConnection]:
    """Clients that subscribe to everything and then never read."""
    out = []
    for _ in range(FLOOD):
        ws = await connect(url, max_queue=1)
        await ws.send(json.dumps({"action": "subscribe", "topics": topics}))
        out.append(ws)
    return out


def _ws_stats(metrics: str) -> dict[str, float]:
    """The ``statarb_ws_*`` gauges of a ``/metrics`` page."""
    out = {}
    for line in metrics.splitlines():
        if line.startswith("statarb_ws_"):
            key, _, value = line.partition(" ")
            out[key.removeprefix("statarb_ws_").removesuffix("_total")] = float(value)
    return out


async def _sample(http: httpx.AsyncClient, pid: int, t0: float) -> dict[str, Any]:
    eng = (await http.get("/api/v1/feeds")).json()["engine"]
    ws = _ws_stats((await http.get("/metrics")).text)
    lat = eng["latency"]
    return {"t": round(time.monotonic() - t0, 1), **_rss_mb(pid),
            "ws_clients": ws.get("clients"), "ws_dropped": ws.get("dropped_clients"),
            "ticks": eng["counts"]["ticks"], "errors": eng["counts"]["errors"],
            "alerts": eng["counts"]["alerts"], "queue": eng["queue"],
            "processed_p99_ms": lat["processed"]["p99_ms"],
            "processed_max_ms": lat["processed"]["max_ms"]}  # fmt: skip


async def test_soak_memory_flat_latency_bounded_nothing_lost(tmp_path: Path) -> None:
    rport, aport = free_port(), free_port()
    replay = _start(["replay", *map(str, sample_files()), "--port", str(rport), "--speed", "20",
                     "--loop"], {}, tmp_path)  # fmt: skip
    db = tmp_path / "soak.db"
    # a small page cache: it fills within the first minute, so later growth would be a leak
    env = {"STATARB_STORE_URL": f"sqlite:///{db}?cache_mb=8", "STATARB_API_TOKEN": TOKEN,
           "STATARB_SYMBOLS": "BTCUSDT,ETHUSDT", "STATARB_REDIS_URL": "",
           "STATARB_BINANCE_WS_URL": f"ws://127.0.0.1:{rport}",
           "STATARB_BINANCE_REST_URL": f"http://127.0.0.1:{rport}"}  # fmt: skip
    env["STATARB_WS_MAX_PER_IP"] = str(FLOOD + 8)  # every client comes from loopback
    serve = _start(["serve", "--port", str(aport)], env, tmp_path)
    base, ws_url = f"http://127.0.0.1:{aport}", f"ws://127.0.0.1:{aport}/ws"
    topics = ["ticks:BTCUSDT", "ticks:ETHUSDT", "bars:BTCUSDT:1s", "bars:ETHUSDT:1s",
              "pair:BTCUSDT:ETHUSDT", "alerts"]  # fmt: skip
    counts: dict[str, int] = {}
    samples: list[dict[str, Any]] = []
    flood: list[ClientConnection] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/health")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            mid = 61_682.3  # the sample's median BTCUSDT price
            rule = {"name": "btc crosses its median", "condition": {"op": "or", "children": [
                {"metric": "price", "target": "BTCUSDT", "operator": "crosses_above",
                 "threshold": mid}, {"metric": "price", "target": "BTCUSDT",
                 "operator": "crosses_below", "threshold": mid}]}}  # fmt: skip
            r = await http.post("/api/v1/alerts/rules", json=rule,
                                headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
            assert r.status_code == 201, r.text
            tasks = [asyncio.create_task(_reader(ws_url, topics, counts)) for _ in range(3)]
            flood = await _flood(ws_url, topics)
            t0 = time.monotonic()
            while time.monotonic() - t0 < SECONDS:
                await asyncio.sleep(SAMPLE_EVERY)
                assert serve.poll() is None, "the server died"
                samples.append(await _sample(http, serve.pid, t0))
    finally:
        for t in tasks:
            t.cancel()
        for ws in flood:
            with contextlib.suppress(Exception):
                ws.transport.abort()
        err = _stop(serve)
        _stop(replay)
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT symbol_id, COUNT(*), COUNT(DISTINCT trade_id), MIN(trade_id), "
                           "MAX(trade_id) FROM ticks GROUP BY symbol_id").fetchall()  # fmt: skip
    report = {"seconds": SECONDS, "samples": samples, "ws_received": counts,
              "stored_ticks": sum(r[1] for r in rows), "flood_clients": FLOOD}  # fmt: skip
    out = os.environ.get("STATARB_SOAK_REPORT")
    if out:
        Path(out).write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}))
    assert serve.returncode == 0, err[-2000:]
    ticks = [s["ticks"] for s in samples]
    assert all(b > a for a, b in itertools.pairwise(ticks)), f"stalled: {ticks}"
    assert samples[-1]["errors"] == 0 and samples[-1]["alerts"] > 0
    third = samples[len(samples) // 3]["rss_mb"]
    peak = max(s["rss_mb"] for s in samples[len(samples) // 3 :])
    assert peak < third * 1.10 + 15, f"memory grew from {third} MB to {peak} MB"
    assert samples[-1]["ws_clients"] == 3  # the clients that never read are gone
    assert counts.get("ticks:BTCUSDT", 0) > 0 and counts.get("bars:BTCUSDT:1s", 0) > 0
    for sym, n, distinct, lo, hi in rows:
        assert n == distinct == hi - lo + 1, f"{sym}: {n} rows, {distinct} ids in [{lo}, {hi}]"
