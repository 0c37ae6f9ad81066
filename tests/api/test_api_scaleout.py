"""Scale-out as real processes: two engine + API replicas sharing PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import AUTH, TOKEN, ticks
from websockets.asyncio.client import connect

from _ports import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def _wait_health(base: str, proc: subprocess.Popen[str]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise AssertionError(f"replica exited: {proc.communicate()[1]}")
        try:
            if httpx.get(base + "/health", timeout=2).json().get("status") == "ok":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} never became healthy")


@pytest.fixture
def replicas(postgres_dsn: str, redis_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two ``statarb serve`` processes on free ports, one PostgreSQL schema, one Redis prefix."""
    import psycopg

    schema = f"statarb_scale_{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "STATARB_STORE_URL": f"{postgres_dsn}?schema={schema}",
           "STATARB_REDIS_URL": redis_url, "STATARB_REDIS_PREFIX": schema,
           "STATARB_API_TOKEN": TOKEN, "STATARB_TIMEFRAMES": "1s,1m",
           "STATARB_FLUSH_INTERVAL": "0.05", "STATARB_SYMBOLS": ""}  # fmt: skip
    exe = str(Path(sys.executable).parent / "statarb")
    procs, bases = [], []
    try:
        for _ in range(2):
            port = free_port()
            cmd = [exe, "serve", "--port", str(port)]
            procs.append(
                subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
            )
            bases.append(f"http://127.0.0.1:{port}")
            _wait_health(bases[-1], procs[-1])  # the first creates the schema before the second
        yield bases
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
        with psycopg.connect(postgres_dsn, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def _recv_until(ws: Any, want: int, topic: str, seconds: float = 10.0) -> list[dict]:
    got: list[dict] = []
    deadline = time.monotonic() + seconds
    while sum(len(m["data"]) if topic.startswith("ticks") else 1 for m in got) < want:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            msg = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
        if msg["topic"] == topic:
            got.append(msg)
    return got


async def test_two_replicas_act_as_one_system(replicas: list[str]) -> None:
    one, two = replicas
    ws_two = two.replace("http://", "ws://") + "/ws"
    rule = {"name": "over 150", "condition": {"metric": "price", "target": "AAAUSDT",
            "operator": "crosses_above", "threshold": 150.0}}  # fmt: skip
    prices = [100.0 + i for i in range(100)]  # crosses 150 once
    rows = ticks("AAAUSDT", prices)
    async with httpx.AsyncClient(timeout=10) as http, connect(ws_two) as reader:
        await reader.send(json.dumps({"action": "subscribe",
                                      "topics": ["ticks:AAAUSDT", "alerts"]}))  # fmt: skip
        assert json.loads(await reader.recv())["type"] == "subscribed"
        # a rule saved through replica one is evaluated by replica two as well
        r = await http.post(one + "/api/v1/alerts/rules", json=rule, headers=AUTH)
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        for _ in range(100):
            listed = (await http.get(two + "/api/v1/alerts/rules")).json()
            if any(x["id"] == rid for x in listed):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the rule never reached replica two")
        await asyncio.sleep(0.5)  # replica one learns that replica two's client wants the topic
        # ticks posted to replica one reach the WebSocket client of replica two
        r = await http.post(one + "/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH)
        assert r.json()["accepted"] == 100, r.text
        got = await _recv_until(reader, 100, "ticks:AAAUSDT")
        assert [t["price"] for m in got for t in m["data"]] == prices
        # the same trades through replica two as well (redundant feeds): stored once, fire once
        r = await http.post(two + "/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH)
        assert r.json()["accepted"] == 100, r.text
        alerts = await _recv_until(reader, 2, "alerts", seconds=3.0)
        assert [a["data"]["rule_id"] for a in alerts] == [rid]
        for base in (one, two):
            hist = (await http.get(base + "/api/v1/alerts/history", params={"rule_id": rid})).json()
            assert len(hist) == 1 and hist[0]["values"]["price:AAAUSDT:tick"] == 150.0
            stored = (await http.get(base + "/api/v1/ticks/AAAUSDT", params={"limit": 1000})).json()
            assert [t["price"] for t in stored] == prices
        buses = []
        for base in (one, two):
            assert (await http.get(base + "/health")).json()["bus"] == "redis"
            buses.append((await http.get(base + "/api/v1/feeds")).json()["engine"]["bus"])
    assert sum(b["claims_won"] for b in buses) == 1 and sum(b["claims_lost"] for b in buses) == 1
    assert all(b["dropped"] == 0 and b["connected"] for b in buses)
