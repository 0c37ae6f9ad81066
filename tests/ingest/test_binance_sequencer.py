"""Property: in whatever order, with gaps and repeats, live trades come in, each id goes out once.

The exchange's REST side is an ``httpx.MockTransport`` holding every trade; the sequencer, the
backfill client and the event loop are the real ones.
"""

from __future__ import annotations

import asyncio

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from statarb.ingest._sequencer import TradeSequencer
from statarb.ingest.backfill import AggTradeClient
from statarb.protocol.binance import TradeRow

N = 120


def _exchange(n: int, calls: list[int]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        frm, limit = int(request.url.params["fromId"]), int(request.url.params["limit"])
        calls.append(frm)
        rows = [{"a": i, "p": f"{100 + i}", "q": "1", "f": i, "l": i, "T": 1_000 + i, "m": True}
                for i in range(max(frm, 1), min(n + 1, frm + limit))]  # fmt: skip
        return httpx.Response(200, json=rows)

    return httpx.MockTransport(handler)


def _row(i: int) -> TradeRow:
    return ("XUSDT", (1_000 + i) * 1000, float(100 + i), 1.0, True, i, "binance", 5)


def _run(arrivals: list[int], yields: list[bool], last_id: int | None) -> tuple[list[int], object]:
    async def main() -> tuple[list[int], object]:
        calls: list[int] = []
        client = AggTradeClient("http://exchange", transport=_exchange(N, calls))
        out: list[TradeRow] = []

        async def flush() -> None:
            await asyncio.sleep(0)

        seq = TradeSequencer(client, out.append, flush, catch_up_pause=0.0)
        seq.add("XUSDT", last_id)
        for i, a in enumerate(arrivals):
            seq.on_tick(_row(a))
            if i < len(yields) and yields[i]:
                await asyncio.sleep(0)
        async with asyncio.timeout(10):
            while any(s.task is not None for s in seq.states.values()):
                await asyncio.sleep(0)
        await client.close()
        return [r[5] for r in out], seq  # type: ignore[misc]

    return asyncio.run(main())


arrivals = st.lists(st.integers(1, N), min_size=1, max_size=80)


@settings(max_examples=150, deadline=None)
@given(arrivals, st.lists(st.booleans(), max_size=80))
def test_resumed_stream_is_exactly_once_and_gap_free(ids: list[int], yields: list[bool]) -> None:
    out, seq = _run(ids, yields, last_id=0)
    assert out == list(range(1, max(ids) + 1))
    assert seq.lost == 0  # type: ignore[attr-defined]


@settings(max_examples=150, deadline=None)
@given(arrivals, st.lists(st.booleans(), max_size=80))
def test_fresh_stream_starts_at_the_first_live_trade(ids: list[int], yields: list[bool]) -> None:
    out, _ = _run(ids, yields, last_id=None)
    assert out == list(range(ids[0], max(ids) + 1))


def test_values_come_from_rest_for_the_gap() -> None:
    out, seq = _run([1, 2, 3, 10, 11, 11, 4, 12], [True] * 8, last_id=0)
    assert out == list(range(1, 13))
    assert seq.gaps == 1 and seq.backfilled == 6 and seq.duplicates == 2  # type: ignore[attr-defined]


def test_shutdown_cancels_backfills_without_starting_new_ones() -> None:
    async def main() -> None:
        calls: list[int] = []
        hang = asyncio.Event()

        async def slow(request: httpx.Request) -> httpx.Response:
            calls.append(int(request.url.params["fromId"]))
            await hang.wait()  # an exchange that does not answer before shutdown
            return httpx.Response(200, json=[])

        async def flush() -> None:
            pass

        client = AggTradeClient("http://exchange", transport=httpx.MockTransport(slow))
        seq = TradeSequencer(client, lambda r: None, flush, catch_up_pause=0.0)
        seq.add("XUSDT", 10)
        seq.on_tick(_row(15))  # a gap: backfill 11..14, holding 15
        seq.on_tick(_row(20))
        await asyncio.sleep(0.01)
        await seq.cancel_all()
        await asyncio.sleep(0.01)
        assert seq.states["XUSDT"].task is None and calls == [11]
        assert [r[5] for r in seq.states["XUSDT"].held] == [15, 20]  # for the next catch-up
        await client.close()

    asyncio.run(main())
