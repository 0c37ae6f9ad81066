"""The managed connection over a real socket: whole messages, in order, per read, bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from _live_helpers import write_recording
from _ports import free_port
from statarb.ingest.connection import ManagedConnection, OpenKind


async def _collect(send: list[str | list[str]]) -> list[bytes]:
    """Serve ``send`` (a list is one fragmented message) to a connection; what it handed over."""
    port = free_port()
    total = len(send)
    got: list[bytes] = []
    done = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        for msg in send:
            await ws.send(msg)
        await ws.wait_closed()

    async def on_frames(frames: Sequence[bytes], recv: int) -> None:
        assert recv > 0
        got.extend(frames)
        if len(got) >= total:
            done.set()

    def on_open(kind: OpenKind) -> None:
        pass

    async with serve(handler, "127.0.0.1", port):
        conn = ManagedConnection("test", lambda: f"ws://127.0.0.1:{port}", on_frames, on_open)
        task = asyncio.create_task(conn.run())
        await done.wait()
        assert conn.connected
        conn.stop()
        await task
    return got


async def test_fragmented_messages_arrive_whole_and_in_order() -> None:
    sent: list[str | list[str]] = [f'{{"n":{i}}}' for i in range(50)]
    sent[10] = ['{"frag', 'mented":', "true}"]
    got = await _collect(sent)
    want = [("".join(m) if isinstance(m, list) else m).encode() for m in sent]
    assert got == want


async def test_a_slow_consumer_pauses_the_socket_and_loses_nothing() -> None:
    port = free_port()
    sent = [f'{{"n":{i}}}' for i in range(5000)]
    got: list[bytes] = []
    gate, done = asyncio.Event(), asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        for msg in sent:
            await ws.send(msg)
        await ws.wait_closed()

    async def on_frames(frames: Sequence[bytes], recv: int) -> None:
        await gate.wait()
        got.extend(frames)
        if len(got) >= len(sent):
            done.set()

    async with serve(handler, "127.0.0.1", port):
        conn = ManagedConnection(
            "test", lambda: f"ws://127.0.0.1:{port}", on_frames, lambda kind: None, max_queue=16
        )
        task = asyncio.create_task(conn.run())
        while not (conn._sessions and conn._sessions[0].inbox._paused):  # the consumer waits
            await asyncio.sleep(0.01)
        held = len(conn._sessions[0].inbox.frames)
        assert 16 <= held < len(sent)  # reading stopped: the rest waits in the kernel buffers
        gate.set()
        await done.wait()
        conn.stop()
        await task
    assert got == [m.encode() for m in sent]


async def test_tls_verifies_the_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("cryptography", reason="the cryptography package is not installed")
    from statarb.venue._tls import self_signed
    from statarb.venue.server import ReplayServer

    cert, key = self_signed("127.0.0.1", tmp_path)
    rec = write_recording(tmp_path / "r.jsonl", ("AAAUSDT",), n=50)
    async with ReplayServer([rec], speed=None, certfile=cert, keyfile=key) as srv:
        url = f"{srv.ws_url}/market/stream?streams=aaausdt@aggTrade"
        got: list[bytes] = []
        first = asyncio.Event()

        async def on_frames(frames: Sequence[bytes], recv: int) -> None:
            got.extend(frames)
            first.set()

        opened: list[OpenKind] = []
        untrusted = ManagedConnection("tls", lambda: url, on_frames, opened.append,
                                      backoff_base=0.01, backoff_cap=0.02)  # fmt: skip
        task = asyncio.create_task(untrusted.run())
        while untrusted._attempt < 2:  # refused: not signed by a trusted authority
            await asyncio.sleep(0.01)
        untrusted.stop()
        await task
        assert not got and not opened
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now trusted, as for a real CA
        trusted = ManagedConnection("tls", lambda: url, on_frames, lambda kind: None)
        task = asyncio.create_task(trusted.run())
        await first.wait()
        trusted.stop()
        await task
    assert b'"e":"aggTrade"' in got[0]
