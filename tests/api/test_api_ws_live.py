"""/ws over a real socket: a live uvicorn server and a ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from api_helpers import AUTH, TOKEN, make_settings, ticks
from websockets.asyncio.client import connect

from statarb.api import create_app


@pytest.fixture
def live(tmp_path: Path) -> Iterator[str]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


async def test_two_clients_one_pushes_the_other_receives(live: str) -> None:
    rule = {"name": "hi", "condition": {"metric": "price", "target": "ETHUSDT",
            "operator": "crosses_above", "threshold": 10.5}}  # fmt: skip
    async with httpx.AsyncClient(base_url=f"http://{live}") as http:
        assert (await http.post("/api/v1/alerts/rules", json=rule, headers=AUTH)).status_code == 201
    async with connect(f"ws://{live}/ws") as reader, connect(f"ws://{live}/ws") as writer:
        await reader.send(json.dumps({"action": "subscribe", "topics": ["ticks:ETHUSDT",
                                                                         "alerts"]}))  # fmt: skip
        assert json.loads(await reader.recv())["type"] == "subscribed"
        rows = ticks("ETHUSDT", [10.0, 11.0, 10.2, 12.0])
        await writer.send(json.dumps({"action": "ticks", "token": TOKEN, "id": 7, "data": rows}))
        ack = json.loads(await asyncio.wait_for(writer.recv(), 10))
        assert ack == {"topic": "control", "type": "ack",
                       "data": {"id": 7, "accepted": 4, "errors": []}}  # fmt: skip
        got = [json.loads(await asyncio.wait_for(reader.recv(), 10)) for _ in range(3)]
    # the alerts go out first (they do not wait for the ticks payload), then the ticks
    assert [m["topic"] for m in got] == ["alerts", "alerts", "ticks:ETHUSDT"]
    assert [t["price"] for t in got[2]["data"]] == [10.0, 11.0, 10.2, 12.0]
    assert [m["data"]["values"]["price:ETHUSDT:tick"] for m in got[:2]] == [11.0, 12.0]
