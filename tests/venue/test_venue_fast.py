"""The ``--max`` fast path (runs of pre-encoded frames) against the per-event player.

A kline subscription makes the venue play event by event; without one, ``--max`` hands out runs
of events from a per-pass plan. Both must put the same frames on the wire, and the lazily kept
books must answer REST ``depth`` as the per-event player's books do.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import orjson
import pytest
from websockets.asyncio.client import connect

from _live_helpers import write_recording
from statarb.sample import files
from statarb.venue._data import KIND_DEPTH
from statarb.venue._plan import mark_triggers
from statarb.venue._wire import text_frame
from statarb.venue.server import ReplayServer

MARKET = "/market/stream?streams=aaausdt@aggTrade/aaausdt@markPrice@1s/bbbusdt@markPrice"
PUBLIC = "/public/stream?streams=ethusdt@trade/ethusdt@bookTicker"


async def _read(
    path: str, n: int, extra: bytes | None = None, rec: list[Path] | None = None,
    speed: float | None = None,
) -> tuple[list[bytes], bool]:  # fmt: skip
    """The first ``n`` frames of ``path`` from a looping replay (of the sample; ``--max``).

    Frames of the stream ``extra`` (subscribed only to make the venue play event by event) are
    left out. Also returns whether the fast path was open at the end.
    """
    async with ReplayServer(rec or files(), speed=speed, clock="original", loop=True) as srv:
        out: list[bytes] = []
        async with (
            connect(f"{srv.ws_url}{path}", max_queue=None, max_size=None) as ws,
            asyncio.timeout(60),
        ):
            while len(out) < n:
                f = await ws.recv(decode=False)
                if extra is None or b'"stream":"%s"' % extra not in f:
                    out.append(f)
        return out, srv._fast_ok()


@pytest.mark.parametrize("speed", [None, 100.0])
async def test_fast_path_frames_equal_the_per_event_player(
    tmp_path: Path, speed: float | None
) -> None:
    rec = [write_recording(tmp_path / "rec.jsonl", n=1500, step_ms=10)]
    n = 5_000  # three passes of aggregates and marks: crosses two seams
    fast, was_fast = await _read(MARKET, n, rec=rec, speed=speed)
    slow, was_slow = await _read(f"{MARKET}/aaausdt@kline_1m", n, b"aaausdt@kline_1m", rec,
                                 speed)  # fmt: skip
    assert was_fast and not was_slow
    assert fast == slow
    kinds = {orjson.loads(f)["data"]["e"] for f in fast}
    assert kinds == {"aggTrade", "markPriceUpdate"}
    ids = [orjson.loads(f)["data"]["a"] for f in fast if b'"e":"aggTrade"' in f]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # the seam is inside: ids keep going


async def test_fast_path_public_frames_equal_the_per_event_player() -> None:
    n = 26_000  # more than one pass of ETH trades and quotes
    fast, was_fast = await _read(PUBLIC, n)
    slow, was_slow = await _read(f"{PUBLIC}/ethusdt@depth5", n, b"ethusdt@depth5")
    assert was_fast and not was_slow
    assert fast == slow
    assert {orjson.loads(f)["data"]["e"] for f in fast} == {"trade", "bookTicker"}


async def test_books_caught_up_lazily_answer_as_the_per_event_player() -> None:
    async with ReplayServer(files(), speed=None, clock="original", loop=True) as srv:
        ref = ReplayServer(files(), speed=None, clock="original", loop=True)
        await ref.start()
        try:
            async with connect(f"{srv.ws_url}/public/ws/btcusdt@trade", max_queue=None) as ws:
                async with asyncio.timeout(60):
                    while min(srv._depth_next["BTCUSDT"]) < 1:  # into the second pass
                        await ws.recv(decode=False)
                assert srv._fast_ok()
                # no await from here on: the player stands still while both books are read
                target = srv._depth_next["BTCUSDT"]
                got = srv.depth_snapshot("BTCUSDT", 1000)
            rec = ref.rec
            assert rec is not None
            rows = rec.row[(rec.kind == KIND_DEPTH) & (rec.sym == 0)].tolist()
            ref._depth_watched = {"btcusdt"}  # apply every diff as it is played (no clients)
            last, upto = target
            for rnd in range(last + 1):
                for j in rows if rnd < last else rows[: max(0, upto)]:
                    ref._deliver_depth("BTCUSDT", "btcusdt", j, rnd)
            assert ref._depth_next["BTCUSDT"] == target
            assert got == ref.depth_snapshot("BTCUSDT", 1000)
            assert len(got["bids"]) >= 1 and len(got["asks"]) >= 1
        finally:
            await ref.stop()


def test_mark_triggers_follow_the_per_event_rule() -> None:
    rng = np.random.default_rng(3)
    now = np.cumsum(rng.integers(0, 700, 2000)) - rng.integers(0, 900, 2000)  # steps back too
    for start in (0, 1000, 12_345_000):
        expect, nxt = [], start
        for i, t in enumerate(now.tolist()):
            if t >= nxt:
                expect.append(i)
                nxt = (t // 1000 + 1) * 1000
        assert mark_triggers(now, start).tolist() == expect


def test_text_frames_carry_every_length() -> None:
    for n in (0, 125, 126, 65_535, 65_536):
        f = text_frame(b"x" * n)
        assert f[0] == 0x81 and f.endswith(b"x" * n)
        head = len(f) - n
        assert head == (2 if n < 126 else 4 if n < 65_536 else 10)
        assert int.from_bytes(f[2:head] or f[1:2], "big") == n
