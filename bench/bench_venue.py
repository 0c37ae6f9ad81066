"""Serving rate of the venue (``statarb replay --max``) against a plain websockets send loop.

Both serve the packaged sample's frames to one reader on the same event loop: the venue plays the
recording (trades, aggregates, quotes, marks) as fast as the client takes it; the baseline sends
the venue's own pre-encoded frames from a list with ``await ws.send(frame)``. Target: the venue
serves at least 250k msgs/s so that it never caps a live-path benchmark.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from bench._common import measure, report
from statarb.sample import files
from statarb.venue.server import ReplayServer

STREAMS = "btcusdt@trade/ethusdt@trade/btcusdt@bookTicker/ethusdt@bookTicker"


async def _drain(port: int, path: str) -> tuple[float, int]:
    """A minimal reader: the opening handshake, then count bytes (no frame parsing).

    Returns (seconds from the first to the last byte, bytes); it stops after 1 s of silence.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n".encode())  # fmt: skip
    await reader.readuntil(b"\r\n\r\n")
    got, first, last = 0, 0.0, 0.0
    while True:
        try:
            chunk = await asyncio.wait_for(reader.read(1 << 20), 1.0)
        except TimeoutError:
            break
        if not chunk:
            break
        last = time.perf_counter()
        first = first or last
        got += len(chunk)
    writer.close()
    return last - first, got


async def _venue() -> tuple[float, int, int]:
    async with ReplayServer(files(), speed=None, clock="original") as srv:
        secs, nbytes = await _drain(srv.port, f"/public/ws/{STREAMS}")
        return secs, nbytes, srv.frames_sent


async def _frames() -> list[str]:
    async with ReplayServer(files(), speed=None, clock="original") as srv:
        out: list[str] = []
        async with connect(f"{srv.ws_url}/public/ws/{STREAMS}", max_queue=None) as ws:
            while not srv.done.is_set() or True:
                try:
                    out.append(str(await asyncio.wait_for(ws.recv(), 0.5)))
                except TimeoutError:
                    if srv.done.is_set():
                        return out


async def _baseline(frames: list[str]) -> tuple[float, int]:
    async def handler(ws: ServerConnection) -> None:
        for f in frames:
            await ws.send(f)
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        return await _drain(server.sockets[0].getsockname()[1], "/")


def main() -> None:
    frames = asyncio.run(_frames())
    n = len(frames)
    runs: list[tuple[float, int, int]] = []
    ours, _ = measure(lambda: runs.append(asyncio.run(_venue())) or runs[-1][0], repeat=3)
    served = runs[-1][2]
    base, _ = measure(lambda: asyncio.run(_baseline(frames))[0], repeat=3)
    ours = {k: v * n / served for k, v in ours.items()}  # per the same number of frames
    ratio = report(
        "venue", f"{n:,} sample frames to one reader", ours, base,
        ours_name="statarb replay --max", base_name="plain websockets send loop",
        target="target >= 250k msgs/s", items=n,
    )  # fmt: skip
    rate = n / ours["median"]
    print(f"[venue] serves {rate:,.0f} msgs/s = {ratio:.2f}x a plain send loop "
          f"({'meets' if rate >= 250_000 else 'MISSES'} the 250k/s target)")  # fmt: skip


if __name__ == "__main__":
    main()
