"""The engine's paper trader on a real store: decide at close, fill on quotes, persist, resume."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from _live_helpers import served_trades
from statarb.engine._book import PairBook
from statarb.engine._events import NullHub
from statarb.engine._paper import PaperTrader
from statarb.model import BarBatch
from statarb.protocol.binance import MarkPrice
from statarb.store import open_store

T0 = 1_723_000_000_000_000 // 60_000_000 * 60_000_000
M = 60_000_000
A, B = "AAAUSDT", "BBBUSDT"


def _bar(symbol: str, i: int, close: float) -> BarBatch:
    one = np.array([close])
    return BarBatch(symbol, "1m", np.array([T0 + i * M]), one, one, one, one, np.ones(1), one,
                    np.ones(1, np.int64), np.full(1, 0.5))  # fmt: skip


def _now() -> int:
    return time.time_ns() // 1000


class _Rig:
    def __init__(self, store: Any) -> None:
        self.metrics: list[dict[str, float]] = []
        self.latency: list[int] = []
        self.book = PairBook(store, NullHub, timeframes=["1m"], on_metrics=lambda *a: None,
                             on_latency=lambda us: None, clock=_now,
                             on_update=lambda *a: self.paper.on_update(*a))  # fmt: skip
        self.paper = PaperTrader(store, self.book, NullHub,
                                 on_metrics=lambda v, ts, r: self.metrics.append(v),
                                 on_latency=self.latency.append, clock=_now)  # fmt: skip

    async def load(self) -> None:
        await self.book.load()
        await self.paper.load()


async def test_a_position_opens_on_quotes_after_the_close_and_survives_a_restart(
    sqlite_url: str,
) -> None:
    rng = np.random.default_rng(3)
    x = 100 + np.cumsum(rng.normal(0, 0.2, 200))
    y = x + 5 + rng.normal(0, 0.05, 200)
    store = open_store(sqlite_url)
    try:
        rig = _Rig(store)
        await rig.load()
        settings = {"window": 20, "z_window": 20, "coint_window": 1000, "coint_every": 5,
                    "drift_bars": 1}  # fmt: skip
        entry = await rig.book.add(A, B, "1m", settings)
        with pytest.raises(LookupError):
            await rig.paper.start(99, {})
        await rig.paper.start(entry.id, {"entry": 3.5, "notional": 1000.0, "fee_bps": 4.0})
        st = rig.paper.desk.strategies[entry.id]
        spike = None
        for i in range(200):
            yi = y[i] + (2.0 if i == 120 else 0.0)
            rig.book.on_bars(A, "1m", _bar(A, i, yi), _now())
            rig.book.on_bars(B, "1m", _bar(B, i, x[i]), _now())
            if st.position.status != "flat":
                spike = i
                break
        assert spike == 120 and st.position.target == -1  # short the spread
        assert len(st.working) == 2 and rig.latency
        end = T0 + (spike + 1) * M
        rig.paper.on_quotes(
            [
                (A, end + 5, yi - 0.01, 1.0, yi + 0.01, 1.0, 1, 0),
                (B, end - 5, x[spike] - 0.01, 1.0, x[spike] + 0.01, 1.0, 2, 0),
            ]
        )
        assert st.position.status == "entering"  # B's quote came before the close
        rig.paper.on_quotes([(B, end + 9, x[spike] - 0.02, 1.0, x[spike] + 0.02, 1.0, 3, 0)])
        assert st.position.status == "open"
        await rig.paper.flush()
        assert any(m.get(f"paper_fill:{A}/{B}:1m") == 1.0 for m in rig.metrics)
        assert any(f"paper_pnl:{A}/{B}:1m" in m for m in rig.metrics)
        fills = store.paper.fills(pair_id=entry.id)
        assert sorted(f["price"] for f in fills) == pytest.approx(
            sorted([(yi - 0.01) * (1 - 1e-4), (x[spike] + 0.02) * (1 + 1e-4)])
        )
        fund = end + 3600 * 1_000_000
        rig.paper.on_marks([MarkPrice(A, end + 10, 101.0, 101.0, 1e-4, fund),
                            MarkPrice(A, fund + 1, 101.5, 101.5, 2e-4, fund * 2)])  # fmt: skip
        assert st.position.funding == pytest.approx(-st.position.qty_y * 101.0 * 1e-4)
        await rig.paper.flush()
        before = rig.paper.positions()
        assert before[0]["funding"] > 0  # the short leg received funding
        await rig.paper.close()

        again = _Rig(store)  # a restart on the same store
        await again.load()
        assert again.paper.positions() == before
        st2 = again.paper.desk.strategies[entry.id]
        assert st2.position == st.position and st2.working == {}
        stopped = await again.paper.stop(entry.id, flatten=True)
        assert stopped["active"] is True and stopped["stopping"] is True
        assert st2.position.status == "exiting"
        now = st2.working["y"].sent
        again.paper.on_quotes([(A, now + 1, 100.0, 1.0, 100.1, 1.0, 4, 0),
                               (B, now + 1, 100.0, 1.0, 100.1, 1.0, 5, 0)])  # fmt: skip
        await again.paper.flush()
        assert entry.id not in again.paper.desk.strategies
        assert store.paper.strategies()[0]["active"] is False
        assert st2.position.status == "flat" and st2.position.trades == 1
        assert len(store.paper.fills(pair_id=entry.id)) == 4
        await again.paper.close()
    finally:
        store.close()


def _recording(path: Path, n: int = 1500, step_ms: int = 20) -> Path:
    """A cointegrated pair as combined-stream aggTrade and bookTicker frames (one trade and one
    quote of each leg per step, the quote a few ms after the trade)."""
    rng = np.random.default_rng(11)
    x = 100 + np.cumsum(rng.normal(0, 0.05, n))
    u = np.zeros(n)
    for t in range(1, n):
        u[t] = 0.8 * u[t - 1] + rng.normal(0, 0.05)
    legs = {A: 1.5 * x + 20 + u, B: x}
    lines = []
    for i in range(n):
        for k, (sym, p) in enumerate(legs.items()):
            t = T0 // 1000 + i * step_ms + k
            d = {"e": "aggTrade", "E": t, "a": 1000 + i, "s": sym, "p": f"{p[i]:.3f}",
                 "q": "1.0", "f": i, "l": i, "T": t, "m": i % 2 == 0}  # fmt: skip
            lines.append(orjson.dumps({"stream": f"{sym.lower()}@aggTrade", "data": d}))
            half = 0.005 + 0.005 * (i % 3)
            q = {
                "e": "bookTicker",
                "u": 10_000 + i,
                "s": sym,
                "b": f"{p[i] - half:.3f}",
                "B": "1.0",
                "a": f"{p[i] + half:.3f}",
                "A": "1.0",
                "T": t + 3,
                "E": t + 3,
            }
            lines.append(orjson.dumps({"stream": f"{sym.lower()}@bookTicker", "data": q}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


async def test_replayed_session_with_quotes_fills_on_the_first_quote_after_each_order(
    sqlite_url: str, tmp_path: Path
) -> None:
    from statarb.config import Settings
    from statarb.engine import Engine
    from statarb.venue.server import ReplayServer

    files = [_recording(tmp_path / "pair.ndjson")]
    served = sum(len(t) for t in served_trades(files).values())
    store = open_store(sqlite_url)
    engine = Engine(Settings(store_url=sqlite_url, timeframes=["250ms"], flush_interval=0.02,
                             feed_quotes=True), store)  # fmt: skip
    await engine.start()
    try:
        settings = {"window": 20, "z_window": 20, "coint_window": 1000}  # no EG test here
        entry = await engine.book.add(A, B, "250ms", settings)
        await engine.paper.start(entry.id, {"entry": 1.5, "slippage_bps": 1.0, "fee_bps": 4.0})
        async with ReplayServer(files, clock="original", speed=None) as server:
            await engine.start_feed([A, B], ws_url=server.ws_url, rest_url=server.rest_url)
            await asyncio.wait_for(server.done.wait(), 120)
            while engine.counts["ticks"] < served:  # wait until every served trade is processed
                await asyncio.sleep(0.05)
            await engine.stop_feed([A, B])
        await engine.flush()
        fills = store.paper.fills(limit=10_000)
        orders = {o["client_id"]: o for o in store.paper.orders(limit=10_000)}
        assert len(fills) >= 8 and all(f["source"] == "quote" for f in fills)
        for f in fills:  # ground truth: the stored quotes of the symbol
            o = orders[f["client_id"]]
            q = store.read_quotes(f["symbol"], o["sent"], None)
            first = int(np.argmax(q.ts >= o["sent"]))
            base = q.ask[first] if f["side"] > 0 else q.bid[first]
            assert f["ts"] == q.ts[first] and f["base"] == base
            assert f["price"] == pytest.approx(base * (1 + f["side"] * 1e-4), rel=1e-12)
        assert engine.status()["latency"]["paper"]["count"] > 0
    finally:
        await engine.stop()
        store.close()
