"""Live pair analytics in the engine match ``analyze_pair`` on the same bars (ground truth)."""

from __future__ import annotations

import json

import numpy as np

import statarb.analytics.pair as pair_mod
from statarb.api.ws import BroadcastHub
from statarb.bars import resample
from statarb.config import Settings
from statarb.engine import Engine
from statarb.model import Tick, TickBatch
from statarb.store import open_store

T0 = 1_723_118_400_000_000
N = 240


def _legs() -> tuple[list[Tick], dict[str, TickBatch]]:
    rng = np.random.default_rng(7)
    x = 100.0 + np.cumsum(rng.normal(0, 0.5, N))
    y = 2.0 * x + 5.0 + rng.normal(0, 0.4, N)
    ticks = []
    for i in range(N):  # one trade per leg per second, interleaved in time
        ticks.append(Tick("AAAUSDT", T0 + i * 1_000_000 + 100, float(y[i]), 1.0, None, i + 1))
        ticks.append(Tick("BBBUSDT", T0 + i * 1_000_000 + 200, float(x[i]), 1.0, None, i + 1))
    return ticks, TickBatch.from_ticks(ticks)


async def test_live_pair_analytics_equal_the_batch_analysis(sqlite_url: str) -> None:
    ticks, legs = _legs()
    store = open_store(sqlite_url)
    hub = BroadcastHub(max_queue=100_000)
    sink = hub.connect()
    hub.subscribe(sink, ["pair:AAAUSDT:BBBUSDT"])
    engine = Engine(Settings(store_url=sqlite_url, timeframes=["1s"]), store, hub=hub,
                    pairs=[("AAAUSDT", "BBBUSDT")], window_bars=200, z_window=60,
                    analytics_timeframes=["1s"])  # fmt: skip
    await engine.start()
    try:
        for k in range(0, len(ticks), 20):
            await engine.ingest(ticks[k : k + 20])
        live = engine.pair_state("AAAUSDT", "BBBUSDT")["1s"]
    finally:
        await engine.stop()
        store.close()
    # reference: the closed 1s bars of both legs (the last bar of each is still open)
    bars = {s: resample(tb, "1s") for s, tb in legs.items()}
    ya = bars["AAAUSDT"].close[:-1][-200:]
    xb = bars["BBBUSDT"].close[:-1][-200:]
    ref = pair_mod.analyze_pair(ya, xb, method="ols", bar_seconds=1.0, z_window=60).to_dict()
    for key in ("hedge_ratio", "intercept", "adf_pvalue", "correlation", "last_zscore"):
        np.testing.assert_allclose(live[key], ref[key], rtol=1e-9, err_msg=key)
    events = []
    while not sink.queue.empty():
        events.append(json.loads(sink.queue.get_nowait()))
    kinds = {e["type"] for e in events}
    assert kinds == {"analytics", "live"}
    last = [e["data"] for e in events if e["type"] == "analytics"][-1]
    assert last["timeframe"] == "1s" and last["hedge_ratio"] == live["hedge_ratio"]
    assert (last["a"], last["b"]) == (live["a"], live["b"]) == ("AAAUSDT", "BBBUSDT")
    # the per-tick z-score uses the latest hedge ratio on the latest prices of both legs
    beta, alpha = ref["hedge_ratio"], ref["intercept"]
    spreads = ya[-60:] - beta * xb[-60:] - alpha
    s_live = float(legs["AAAUSDT"].price[-1] - beta * legs["BBBUSDT"].price[-1] - alpha)
    want = (s_live - spreads.mean()) / spreads.std(ddof=1)
    got = engine.values["zscore:AAAUSDT/BBBUSDT:tick"]
    np.testing.assert_allclose(got, want, rtol=1e-9)
