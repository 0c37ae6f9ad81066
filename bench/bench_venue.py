"""Serving rate of the venue (``statarb replay --max``) against a plain websockets send loop.

Both serve the packaged sample's frames to one reader on the same event loop: the venue plays the
recording (trades, quotes, marks; the per-pass encoding included) as fast as the client takes it;
the baseline sends the venue's own frames, already encoded, from a list with
``await ws.send(frame)``. Each is timed from the end of the opening handshake to the last byte,
in wall time and in this process's CPU time (server and reader share it). Target: the venue serves
at least 250k msgs/s so that it never caps a live-path benchmark.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from bench._common import paired, report
from statarb.sample import files
from statarb.venue.server import ReplayServer

STREAMS = "btcusdt@trade/ethusdt@trade/btcusdt@bookTicker/ethusdt@bookTicker"


async def _drain(port: int, path: str) -> tuple[float, float, int]:
    """A minimal reader: the opening handshake, then count bytes (no frame parsing).

    Returns (wall seconds, CPU seconds from the handshake to the last byte, bytes); it stops
    after 1 s of silence.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n".encode())  # fmt: skip
    await reader.readuntil(b"\r\n\r\n")
    got, first, cpu0 = 0, time.perf_counter(), time.process_time()
    last, cpu = first, cpu0
    while True:
        try:
            chunk = await asyncio.wait_for(reader.read(1 << 20), 1.0)
        except TimeoutError:
            break
        if not chunk:
            break
        last, cpu = time.perf_counter(), time.process_time()
        got += len(chunk)
    writer.close()
    return last - first, cpu - cpu0, got


async def _venue() -> tuple[float, float, int]:
    async with ReplayServer(files(), speed=None, clock="original") as srv:
        wall, cpu, nbytes = await _drain(srv.port, f"/public/ws/{STREAMS}")
        assert srv.frames_sent, "the venue sent nothing"
        return wall, cpu, nbytes


async def _frames() -> list[str]:
    async with ReplayServer(files(), speed=None, clock="original") as srv:
        out: list[str] = []
        async with connect(f"{srv.ws_url}/public/ws/{STREAMS}", max_queue=None) as ws:
            while True:
                try:
                    out.append(str(await asyncio.wait_for(ws.recv(), 0.5)))
                except TimeoutError:
                    if srv.done.is_set():
                        return out


async def _baseline(frames: list[str]) -> tuple[float, float, int]:
    async def handler(ws: ServerConnection) -> None:
        for f in frames:
            await ws.send(f)
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        return await _drain(server.sockets[0].getsockname()[1], "/")


def main() -> None:
    frames = asyncio.run(_frames())
    n = len(frames)
    runs: list[tuple[float, float, int]] = []
    base_runs: list[tuple[float, float, int]] = []
    paired(
        lambda: runs.append(asyncio.run(_venue())),
        lambda: base_runs.append(asyncio.run(_baseline(frames))),
        repeat=3,
    )
    assert {r[2] for r in runs} == {r[2] for r in base_runs}, "the venue sent other bytes"
    for i, name in ((0, "wall"), (1, "CPU")):
        ours = _stats([r[i] for r in runs[1:]])
        base = _stats([r[i] for r in base_runs[1:]])
        ratio = report(
            "venue", f"{n:,} sample frames to one reader ({name})", ours, base,
            ours_name="statarb replay --max", base_name="plain websockets send loop",
            target="target >= 250k msgs/s", items=n,
        )  # fmt: skip
        rate = n / ours["median"]
        print(f"[venue] {name}: serves {rate:,.0f} msgs/s = {ratio:.2f}x a plain send loop "
              f"({'meets' if rate >= 250_000 else 'MISSES'} the 250k/s target)")  # fmt: skip


def _stats(ts: list[float]) -> dict[str, float]:
    ts = sorted(ts)
    return {"median": ts[len(ts) // 2], "min": ts[0], "max": ts[-1]}


if __name__ == "__main__":
    main()
