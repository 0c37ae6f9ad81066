"""/ws limits: binary frames, frame size, topic length and count, connections, reply bytes.

The flood test runs a real ``statarb serve`` and measures its resident memory while clients
send frames far over the limit: before the limits, 30 clients sending one 15 MiB frame each took
the server from 445 MB to 2,082 MB.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from _ports import free_port
from statarb.api.ws import MAX_TOPIC_LEN, MAX_TOPICS_PER_CLIENT, BroadcastHub

#: RSS growth allowed while the flood is refused, bytes (the flood itself is 20 x 8 MiB)
FLOOD_RSS_LIMIT = 48 * 1024 * 1024


def test_binary_frame_closes_with_1003(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_bytes(b"\x00\x01binary")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
    assert info.value.code == 1003


def test_frames_over_the_limit_close_with_1009(app_factory: Callable[..., TestClient]) -> None:
    client = app_factory(ws_max_frame=4096)
    with client.websocket_connect("/ws") as ws:
        ws.send_text(orjson.dumps({"action": "subscribe", "topics": ["x" * 5000]}).decode())
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
    assert info.value.code == 1009


def test_topic_length_and_count_are_bounded(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"action": "subscribe", "topics": ["t" * (MAX_TOPIC_LEN + 1)]})
        reply = ws.receive_json()
        assert reply["type"] == "error" and str(MAX_TOPIC_LEN) in reply["data"]["message"]
        many = [f"ticks:S{i}" for i in range(MAX_TOPICS_PER_CLIENT + 1)]
        ws.send_json({"action": "subscribe", "topics": many})
        reply = ws.receive_json()
        assert reply["type"] == "error" and str(MAX_TOPICS_PER_CLIENT) in reply["data"]["message"]
        ws.send_json({"action": "subscribe", "topics": many[:MAX_TOPICS_PER_CLIENT]})
        assert len(ws.receive_json()["data"]) == MAX_TOPICS_PER_CLIENT
        ws.send_json({"action": "subscribe", "topics": ["one:more"]})
        assert ws.receive_json()["type"] == "error"  # the bound holds across messages


def test_connections_are_bounded_per_address_and_in_total(
    app_factory: Callable[..., TestClient],
) -> None:
    client = app_factory(ws_max_per_ip=2, ws_max_connections=3)
    with client.websocket_connect("/ws"), client.websocket_connect("/ws"):
        with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws"):
            pass  # refused before the handshake completes
        assert client.app.state.hub.counts["refused_clients"] == 1  # type: ignore[attr-defined]
    with client.websocket_connect("/ws"):  # the slots came back when those two left
        pass
    hub = BroadcastHub(max_connections=3, max_per_ip=5)
    clients = [hub.admit(f"10.0.0.{i}") for i in range(3)]
    assert all(clients) and hub.admit("10.0.0.9") is None


def test_replies_count_in_the_byte_bound() -> None:
    hub = BroadcastHub(max_queue=1000, max_bytes=1000)
    client = hub.admit("a")
    assert client is not None
    assert hub.offer(client, b"x" * 600)
    assert not hub.offer(client, b"x" * 600)  # a client that never reads is dropped
    assert client.slow.is_set() and client not in hub.clients


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _settled_rss(pid: int) -> int:
    """RSS once it stops moving (the engine warms its analytics up in a thread after start)."""
    import time

    seen = [_rss(pid)]
    for _ in range(240):
        time.sleep(0.5)
        seen.append(_rss(pid))
        if len(seen) >= 5 and max(seen[-5:]) - min(seen[-5:]) < 2 * 1024 * 1024:
            break
    return seen[-1]


async def _flood(url: str, clients: int, frame_bytes: int) -> list[int | None]:
    import websockets

    frame = orjson.dumps({"action": "subscribe", "topics": ["x" * frame_bytes]}).decode()

    async def one() -> int | None:
        try:
            async with websockets.connect(url, max_size=2**20, open_timeout=60) as ws:
                await ws.send(frame)
                await asyncio.wait_for(ws.recv(), timeout=60)
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        except OSError:
            return None
        return 0

    return await asyncio.gather(*(one() for _ in range(clients)))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for RSS")
def test_flood_of_big_frames_leaves_memory_flat(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "STATARB_STORE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    env.pop("STATARB_API_TOKEN", None)
    exe = Path(sys.executable).parent / "statarb"
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.communicate()[1]
            asyncio.run(asyncio.sleep(0.1))
        asyncio.run(_flood(f"ws://127.0.0.1:{port}/ws", 1, 100))  # first use of the endpoint
        before = _settled_rss(proc.pid)
        codes = asyncio.run(_flood(f"ws://127.0.0.1:{port}/ws", 20, 8 * 1024 * 1024))
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code == 200
        after = _settled_rss(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert 0 not in codes  # no oversized frame was processed
    assert after - before < FLOOD_RSS_LIMIT, (before, after)
    assert "Traceback" not in err
