"""Live path: frames -> BinanceFeed.handle_frames -> queue -> TickWriter -> SQLite.

1. Sustained throughput of the whole path (parse, sequencing, batching, queue, store writes)
   against the baseline of an orjson parse loop of the same frames (parse + float conversion
   into numpy, as in /work/shared/reference/baselines.md row 57). Target: >= 100k messages/s.
2. Receipt-to-stored latency at a paced 5k messages/s (p99 target < 50 ms), frames fed into the
   same code path with their receipt time taken when they are fed.

Frames are aggTrade frames in the real combined-stream format (cryptofeed's 2021 capture),
four symbols with consecutive ids so no REST backfill is triggered.

3. Over a real socket: ``statarb replay --max --loop`` of the packaged sample in a child process
   serves ``BinanceFeed.run()`` (its managed connection, sequencer, queue) and a ``TickWriter``
   into SQLite in this process: messages stored per second of wall time and of this process's
   CPU time, against the parse-only floor of the frames the venue sends, and receipt-to-stored
   p99 with the venue paced (``--speed``) at about 5k and 50k msgs/s.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

from bench._common import report
from statarb.ingest.binance import BinanceFeed, FeedBatch
from statarb.ingest.writer import TickWriter
from statarb.sample import files
from statarb.store import open_store

N_FRAMES = int(os.environ.get("STATARB_BENCH_FEED_FRAMES", 200_000))
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT")
RATES = (5_000, 50_000)
#: frames the reader handles per socket read before the loop polls again (a 64 KiB read holds
#: about 250 frames of this size); polling releases the GIL to the store's writer thread
FRAMES_PER_READ = 256
LATENCY_SECONDS = float(os.environ.get("STATARB_BENCH_FEED_SECONDS", 3.0))


def make_frames(n: int, t0_ms: int = 1_626_992_741_421) -> list[str]:
    """Combined-stream aggTrade frames, round-robin over :data:`SYMBOLS`."""
    rng = np.random.default_rng(7)
    prices = 100 + np.cumsum(rng.normal(0, 0.01, n))
    out = []
    for i in range(n):
        sym = SYMBOLS[i % len(SYMBOLS)]
        a = 16_599_292 + i // len(SYMBOLS)
        t = t0_ms + i // 10
        maker = "true" if i % 3 == 0 else "false"
        data = (
            f'{{"e":"aggTrade","E":{t + 154},"a":{a},"s":"{sym}","p":"{prices[i]:.5f}",'
            f'"q":"{1 + i % 17}","f":{2 * a},"l":{2 * a + i % 2},"T":{t},"m":{maker}}}'
        )
        out.append(f'{{"stream":"{sym.lower()}@aggTrade","data":{data}}}')
    return out


def baseline_parse(frames: list[str]) -> int:
    """orjson parse + float conversion into numpy columns (the reference loop)."""
    loads = orjson.loads
    ps, qs, ts = [], [], []
    for raw in frames:
        d = loads(raw)["data"]
        ps.append(float(d["p"]))
        qs.append(float(d["q"]))
        ts.append(d["T"])
    np.array(ps), np.array(qs), np.array(ts, dtype=np.int64)
    return len(ps)


def _pipeline(tmp: Path, eager: bool = True) -> tuple[BinanceFeed, TickWriter, asyncio.Queue]:
    store = open_store(f"sqlite:///{tmp / f'feed-{time.perf_counter_ns()}.db'}")
    queue: asyncio.Queue[FeedBatch] = asyncio.Queue(maxsize=2000)
    feed = BinanceFeed(SYMBOLS, out=queue, ws_url="ws://unused", rest_url="http://unused")
    writer = TickWriter(store, eager=eager)
    return feed, writer, queue


async def _throughput(frames: list[str], tmp: Path) -> int:
    from statarb.ingest.warm import warm_bar_kernels

    feed, writer, queue = _pipeline(tmp)
    await asyncio.to_thread(warm_bar_kernels)  # as the engine and `statarb stream` do
    task = asyncio.create_task(writer.run(queue))
    handle, clock = feed.handle_frames, time.time_ns
    for i in range(0, len(frames), FRAMES_PER_READ):  # one socket read at a time, as the reader
        await handle(frames[i : i + FRAMES_PER_READ], clock() // 1000)
        await asyncio.sleep(0)  # back to epoll, as the reader does between socket reads
    await feed._flush()
    await writer.close()
    await task
    writer.store.close()
    assert writer.stats.written == len(frames), writer.stats
    return writer.stats.written


async def _paced(frames: list[str], tmp: Path, rate: int, seconds: float) -> dict[str, float]:
    from statarb.ingest.warm import warm_bar_kernels

    feed, writer, queue = _pipeline(tmp)
    await asyncio.to_thread(warm_bar_kernels)
    task = asyncio.create_task(writer.run(queue))
    flusher = asyncio.create_task(feed._flush_loop())
    n = int(rate * seconds)
    sent, t0 = 0, time.perf_counter()
    while sent < n:
        due = min(n, int((time.perf_counter() - t0) * rate))
        if due > sent:  # what arrived since the last poll: one read
            await feed.handle_frames(frames[sent:due], time.time_ns() // 1000)
            sent = due
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.2)
    flusher.cancel()
    await writer.close()
    await task
    writer.store.close()
    st = writer.stats
    assert st.written == n, st
    return {"p50": st.store_latency_p50_ms or 0.0, "p99": st.store_latency_p99_ms or 0.0,
            "flushes": st.batches}  # fmt: skip


#: aggTrade messages per second of the packaged sample (both symbols' aggregates) at speed 1
SAMPLE_RATE = (10_447 + 6_209) / 344.4
SOCKET_MESSAGES = int(os.environ.get("STATARB_BENCH_FEED_SOCKET", 300_000))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Venue:
    """``statarb replay`` of the packaged sample in a child process (``speed=None``: ``--max``)."""

    def __init__(self, speed: float | None) -> None:
        self.port = _free_port()
        pace = ["--max"] if speed is None else ["--speed", str(speed)]
        exe = Path(sys.executable).with_name("statarb")
        self.proc = subprocess.Popen(
            [str(exe), "replay", *map(str, files()), "--port", str(self.port), "--loop", *pace],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:  # listening once a connection is accepted
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("statarb replay did not start") from None
                time.sleep(0.05)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


async def _socket_run(tmp: Path, port: int, n: int, seconds: float | None) -> dict[str, float]:
    """Feed + writer from the venue until ``n`` more trades are stored (or ``seconds`` pass)."""
    from statarb.ingest.warm import warm_bar_kernels

    store = open_store(f"sqlite:///{tmp / f'sock-{time.perf_counter_ns()}.db'}")
    queue: asyncio.Queue[FeedBatch] = asyncio.Queue(maxsize=2000)
    url = f"127.0.0.1:{port}"
    feed = BinanceFeed(["BTCUSDT", "ETHUSDT"], out=queue, ws_url=f"ws://{url}",
                       rest_url=f"http://{url}")  # fmt: skip
    writer = TickWriter(store)
    await asyncio.to_thread(warm_bar_kernels)
    wtask = asyncio.create_task(writer.run(queue))
    ftask = asyncio.create_task(feed.run())
    c = writer._c  # the counters, read without building a stats snapshot per poll
    start = time.monotonic()
    while c["written"] < 2000:  # connected and flowing
        if time.monotonic() - start > 120 or ftask.done():
            feed.stop()
            raise RuntimeError(f"no trades stored from the venue on port {port}")
        await asyncio.sleep(0.01)
    w0, t0, cpu0 = c["written"], time.perf_counter(), time.process_time()
    end = None if seconds is None else t0 + seconds
    while c["written"] < w0 + n and (end is None or time.perf_counter() < end):
        await asyncio.sleep(0.01)
    t1, cpu1, w1 = time.perf_counter(), time.process_time(), c["written"]
    feed.stop()
    await ftask
    await writer.close()
    await wtask
    st, fs = writer.stats, feed.stats
    store.close()
    assert fs.lost == 0 and st.dropped == 0, (fs, st)
    p50, p99 = st.store_latency_p50_ms or 0.0, st.store_latency_p99_ms or 0.0
    return {"wall": t1 - t0, "cpu": cpu1 - cpu0, "n": w1 - w0, "p50": p50, "p99": p99}


def _sample_frames(n: int) -> list[str]:
    """Combined-stream aggTrade frames as the venue sends them (the floor's input)."""
    from statarb.venue._clock import Clock
    from statarb.venue._data import load_recording
    from statarb.venue._market import Market

    rec = load_recording(files())
    market = Market(rec, Clock("original", int(rec.ts[0]), None))
    one = [f'{{"stream":"{s.lower()}@aggTrade","data":{d}}}'
           for s in rec.trades for d in market.trades(s, 0).agg_json]  # fmt: skip
    return (one * (n // len(one) + 1))[:n]


def socket_bench(tmp: Path) -> None:
    """Over a real socket from the venue: throughput against the floor, then paced p99."""
    venue = _Venue(None)
    try:
        res = asyncio.run(_socket_run(tmp, venue.port, SOCKET_MESSAGES, None))
    finally:
        venue.close()
    frames = _sample_frames(int(res["n"]))
    c = time.process_time()
    baseline_parse(frames)
    floor_cpu = time.process_time() - c
    for name, secs in (("wall", res["wall"]), ("CPU", res["cpu"])):
        rate, ratio = res["n"] / secs, floor_cpu / secs
        print(f"[feed] socket {name}: {res['n']:,.0f} msgs from statarb replay --max stored at "
              f"{rate:,.0f} msgs/s = {ratio:.2f}x the parse-only floor "
              f"({len(frames) / floor_cpu:,.0f}/s CPU) "
              f"({'meets' if rate >= 100_000 else 'MISSES'} 100k/s, "
              f"{'meets' if ratio >= 0.5 else 'MISSES'} 0.5x)")  # fmt: skip
    for rate, target in zip(RATES, (50, 100), strict=True):
        venue = _Venue(rate / SAMPLE_RATE)
        try:
            lat = asyncio.run(_socket_run(tmp, venue.port, 10**9, LATENCY_SECONDS))
        finally:
            venue.close()
        print(f"[feed] socket receipt-to-stored at {rate:,} msgs/s (venue --speed "
              f"{rate / SAMPLE_RATE:.0f}; {lat['n'] / lat['wall']:,.0f} msgs/s arrived): "
              f"p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms "
              f"({'meets' if lat['p99'] < target else 'MISSES'} p99 < {target} ms)")  # fmt: skip


def main() -> None:
    """Throughput (wall and CPU) against the parse-only floor, then paced latency."""
    from bench._common import paired

    frames = make_frames(N_FRAMES)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, clock in (("wall", time.perf_counter), ("CPU", time.process_time)):
            ours, base, _ = paired(
                lambda: asyncio.run(_throughput(frames, tmp)),
                lambda: baseline_parse(frames),
                repeat=2,
                clock=clock,
            )
            ratio = report(
                "feed", f"{N_FRAMES:,} aggTrade frames parse+sequence+queue+SQLite ({name})",
                ours, base, ours_name="BinanceFeed+TickWriter", base_name="orjson parse loop",
                target="target >= 100k msgs/s and >= 0.5x the parse floor", items=N_FRAMES,
            )  # fmt: skip
            rate = N_FRAMES / ours["median"]
            print(f"[feed] {name}: end-to-end {rate:,.0f} msgs/s = {ratio:.2f}x the parse-only "
                  f"floor ({'meets' if rate >= 100_000 else 'MISSES'} 100k/s, "
                  f"{'meets' if ratio >= 0.5 else 'MISSES'} 0.5x)")  # fmt: skip
        paced = make_frames(int(max(RATES) * LATENCY_SECONDS) + 1)
        for rate, target in zip(RATES, (50, 100), strict=True):
            lat = asyncio.run(_paced(paced, tmp, rate, LATENCY_SECONDS))
            print(f"[feed] receipt-to-stored latency at {rate:,} msgs/s for "
                  f"{LATENCY_SECONDS:.0f} s: p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms "
                  f"over {lat['flushes']:.0f} transactions "
                  f"({'meets' if lat['p99'] < target else 'MISSES'} p99 < {target} ms)"
                  )  # fmt: skip
        socket_bench(tmp)


if __name__ == "__main__":
    main()
