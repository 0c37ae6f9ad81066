"""The book of pairs: bar close to every pair's analytics published, against refitting windows.

30 symbols; 50 pairs on 1m bars and 20 on 1s bars (the issue's scale). Bars are closed on a real
asyncio loop through :class:`statarb.engine._book.PairBook` with rows published as JSON, the rolling
Engle-Granger test running in worker threads, and a probe task measuring event-loop stalls. The
baseline refits each pair's window with the batch functions (rolling OLS, z-score, half-life,
correlation) at each close, as an engine without incremental state would.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from typing import Any

import numpy as np
import orjson

from bench._common import report

N_SYMBOLS = 30
MINUTES = int(os.environ.get("STATARB_BENCH_BOOK_MINUTES", "30"))


class _Hub:
    """Wants the ``book`` topic and serialises every row, as the WebSocket hub does."""

    def __init__(self) -> None:
        self.bytes = 0

    def wants(self, topic: str) -> bool:
        return topic == "book"

    def publish(self, topic: str, type: str, data: Any) -> None:
        self.bytes += len(orjson.dumps({"topic": topic, "type": type, "data": data}))


class _Store:
    """The book's persistence, in memory (the store is not what this measures)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def save_book_pair(self, a: str, b: str, tf: str, settings: dict[str, Any]) -> int:
        self.rows.append({"id": len(self.rows) + 1, "a": a, "b": b, "timeframe": tf,
                          "settings": settings})  # fmt: skip
        return len(self.rows)

    def list_book_pairs(self) -> list[dict[str, Any]]:
        return self.rows

    def symbols(self) -> list[Any]:
        return []  # no stored history: the trackers are warmed below


def _prices(n: int, seed: int = 0) -> np.ndarray:
    """``N_SYMBOLS`` cointegrated random walks (a common factor plus OU idiosyncratic parts)."""
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 1e-3, n))
    out = np.empty((N_SYMBOLS, n))
    for i in range(N_SYMBOLS):
        u = np.zeros(n)
        e = rng.normal(0, 5e-4, n)
        for t in range(1, n):
            u[t] = 0.98 * u[t - 1] + e[t]
        out[i] = (10.0 + 5 * i) * np.exp((0.5 + i / N_SYMBOLS) * common + u)
    return out


def _refit(y: np.ndarray, x: np.ndarray, window: int, z_window: int) -> None:
    from statarb.analytics.meanreversion import half_life
    from statarb.analytics.regression import hedge_ratio
    from statarb.analytics.rolling import rolling_correlation
    from statarb.analytics.spread import zscore

    fit = hedge_ratio(y[-window:], x[-window:])
    s = y[-window:] - fit.beta * x[-window:] - fit.intercept
    zscore(s, window=z_window)
    half_life(s)
    rolling_correlation(y[-window - 1 :], x[-window - 1 :], window=window)


async def _run(book: Any, closes: dict[str, np.ndarray], symbols: list[str]) -> dict[str, Any]:
    from statarb.model import BarBatch

    stalls: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - t - 0.005)

    probe_task = asyncio.create_task(probe())
    lat: dict[str, list[float]] = {"1m": [], "1s": []}
    cpu: dict[str, list[float]] = {"1m": [], "1s": []}
    n1s = closes["1s"].shape[1]
    per_min = 60
    t0 = 1_700_000_000_000_000
    for k in range(n1s):
        tfs = ["1s"] + (["1m"] if (k + 1) % per_min == 0 else [])
        for tf in tfs:
            idx = k if tf == "1s" else k // per_min
            step = 1_000_000 if tf == "1s" else 60_000_000
            start, c0 = time.perf_counter(), time.thread_time()
            recv = book.clock()
            for i, sym in enumerate(symbols):
                c = float(closes[tf][i, idx])
                bars = BarBatch(sym, tf, np.array([t0 + idx * step]), np.array([c]),
                                np.array([c]), np.array([c]), np.array([c]), np.array([1.0]),
                                np.array([c]), np.array([1]), np.array([0.5]))  # fmt: skip
                book.on_bars(sym, tf, bars, recv)
            lat[tf].append(time.perf_counter() - start)
            cpu[tf].append(time.thread_time() - c0)
        await asyncio.sleep(0)  # the next second's ticks arrive
    done.set()
    await probe_task
    return {"lat": lat, "cpu": cpu, "stalls": stalls}


def main() -> None:
    from statarb.engine._book import PairBook

    symbols = [f"S{i:02d}USDT" for i in range(N_SYMBOLS)]
    pairs = list(itertools.combinations(symbols, 2))
    rng = np.random.default_rng(1)
    pick = rng.permutation(len(pairs))
    pairs_1m = [pairs[i] for i in pick[:50]]
    pairs_1s = [pairs[i] for i in pick[50:70]]
    warm_min = 600  # enough 1m bars for every indicator (coint window 480)
    n1s = MINUTES * 60
    p1m = _prices(warm_min + MINUTES, seed=2)
    p1s = _prices(warm_min + n1s, seed=3)
    hub, store = _Hub(), _Store()
    clock = time.time_ns

    async def go() -> dict[str, Any]:
        book = PairBook(store, lambda: hub, timeframes=["1s", "1m"], on_metrics=lambda *a: None,
                        on_latency=lambda us: None, clock=lambda: clock() // 1000)  # fmt: skip
        for tf, group in (("1m", pairs_1m), ("1s", pairs_1s)):
            for a, b in group:
                await book.add(a, b, tf, {})
        # warm every tracker with history, synchronously as the engine's warm-up does
        for lv in book._live.values():
            src = p1m if lv.entry.timeframe == "1m" else p1s
            ia, ib = symbols.index(lv.entry.a), symbols.index(lv.entry.b)
            for t in range(warm_min):
                lv.tracker.update(t, src[ia, t], src[ib, t])
            lv.last_time = -1
        live = {"1m": p1m[:, warm_min:], "1s": p1s[:, warm_min:]}
        return await _run(book, live, symbols)

    res = asyncio.run(go())
    lat_1m = np.array(res["lat"]["1m"])
    lat_1s = np.array(res["lat"]["1s"])
    stalls = np.array(res["stalls"])
    cpu_1m = np.array(res["cpu"]["1m"])
    print(f"[book] 1m close -> 50 pairs published: p50 {np.median(lat_1m) * 1e3:.2f} ms, "
          f"p99 {np.quantile(lat_1m, 0.99) * 1e3:.2f} ms (target < 200 ms); 1s close -> 20 pairs: "
          f"p99 {np.quantile(lat_1s, 0.99) * 1e3:.2f} ms; worst event-loop stall "
          f"{stalls.max() * 1e3:.1f} ms (target < 50 ms); CPU of the loop thread per 1m close: "
          f"p50 {np.median(cpu_1m) * 1e3:.2f} ms, p99 {np.quantile(cpu_1m, 0.99) * 1e3:.2f} ms",
          flush=True)  # fmt: skip
    # baseline: refit each window at a 1m close for the 50 pairs
    y_all = p1m
    t = time.perf_counter()
    for a, b in pairs_1m:
        _refit(y_all[symbols.index(a)], y_all[symbols.index(b)], 120, 60)
    refit = time.perf_counter() - t
    ours = float(np.median(lat_1m))
    report("book", "1m bar close, 50 pairs", {"median": ours, "min": ours, "max": ours},
           {"median": refit, "min": refit, "max": refit}, ours_name="incremental",
           base_name="batch refit of each window", target="(O(1) per bar per pair)")  # fmt: skip


if __name__ == "__main__":
    main()
