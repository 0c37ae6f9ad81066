"""The engine's paper trader on a real store: decide at close, fill on quotes, persist, resume."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from statarb.engine._book import PairBook
from statarb.engine._events import NullHub
from statarb.engine._paper import PaperTrader
from statarb.model import BarBatch
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
        settings = {"window": 20, "z_window": 20, "coint_window": 40, "coint_every": 5,
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
        before = rig.paper.positions()
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
