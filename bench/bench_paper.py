"""Paper trading's cost on the book: bar close -> 50 pairs updated, with and without paper trading.

30 symbols, 50 pairs of the book on 1m bars (as bench_book). Two books on one SQLite store, warmed
alike; one has a paper strategy on every pair (entry 1.0, so the strategies trade: orders, fills on
the quotes that follow each close, positions, every change set written by the paper trader's
worker thread). Each 1m close is timed, for the book alone and then for the book with paper
trading, alternately, so that load from other processes falls on both alike. Reported: p50/p99 of
the wall time from the first symbol's bar to the last pair's update (book rows published, paper
decided) and of the event-loop thread's CPU time. Target: paper trading adds under 20 % to the p99.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._common import report
from bench.bench_book import N_SYMBOLS, _Hub, _prices

MINUTES = int(os.environ.get("STATARB_BENCH_PAPER_MINUTES", "600"))
WARM = 600  # 1m bars: every indicator defined (coint window 480)


class _Rig:
    """A book of the 50 pairs, with or without a paper trader attached to all of them."""

    def __init__(self, store: Any, paper: bool) -> None:
        from statarb.engine._book import PairBook
        from statarb.engine._paper import PaperTrader

        self.hub = _Hub()
        clock = time.time_ns
        self.paper = None
        hook = None
        if paper:

            def hook(*a: Any) -> None:
                assert self.paper is not None
                self.paper.on_update(*a)

        self.book = PairBook(
            store,
            lambda: self.hub,
            timeframes=["1m"],
            on_metrics=lambda *a: None,
            on_latency=lambda us: None,
            clock=lambda: clock() // 1000,
            on_update=hook,
        )
        if paper:
            self.paper = PaperTrader(
                store,
                self.book,
                lambda: self.hub,
                on_metrics=lambda *a: None,
                on_latency=lambda us: None,
                clock=lambda: clock() // 1000,
            )


async def _setup(
    rig: _Rig, pairs: list[tuple[str, str]], prices: np.ndarray, symbols: list[str]
) -> None:
    await rig.book.load()
    for a, b in pairs:
        await rig.book.add(a, b, "1m", {})
    for lv in rig.book._live.values():  # warm every tracker, as the engine's warm-up does
        ia, ib = symbols.index(lv.entry.a), symbols.index(lv.entry.b)
        for t in range(WARM):
            lv.tracker.update(t, prices[ia, t], prices[ib, t])
        lv.last_time = -1
    if rig.paper is not None:
        await rig.paper.load()
        for e in rig.book.entries:
            await rig.paper.start(e.id, {"entry": 1.0, "exit": 0.0, "notional": 1000.0})


def _close(rig: _Rig, symbols: list[str], closes: np.ndarray, ot: int) -> tuple[float, float]:
    """One 1m close of every symbol; (wall, loop-thread CPU) seconds."""
    from statarb.model import BarBatch

    start, c0 = time.perf_counter(), time.thread_time()
    recv = time.time_ns() // 1000
    for i, sym in enumerate(symbols):
        c = np.array([closes[i]])
        bars = BarBatch(
            sym,
            "1m",
            np.array([ot]),
            c,
            c,
            c,
            c,
            np.ones(1),
            c,
            np.ones(1, np.int64),
            np.full(1, 0.5),
        )
        rig.book.on_bars(sym, "1m", bars, recv)
    return time.perf_counter() - start, time.thread_time() - c0


def _quotes(rig: _Rig, symbols: list[str], closes: np.ndarray, ts: int) -> None:
    """The quotes after the close (the paper orders sent at it fill on them)."""
    if rig.paper is None:
        return
    rows = [
        (s, ts, c * (1 - 1e-5), 1.0, c * (1 + 1e-5), 1.0, None, None)
        for s, c in zip(symbols, closes.tolist(), strict=True)
    ]
    rig.paper.on_quotes(rows)  # type: ignore[arg-type]


async def _run(
    symbols: list[str],
    pairs: list[tuple[str, str]],
    prices: np.ndarray,
    url_book: str,
    url_paper: str,
) -> dict[str, Any]:
    from statarb.store import open_store

    stores = [open_store(url_book), open_store(url_paper)]
    base, paper = _Rig(stores[0], False), _Rig(stores[1], True)
    await _setup(base, pairs, prices, symbols)
    await _setup(paper, pairs, prices, symbols)
    step, t0 = 60_000_000, 1_700_000_000_000_000
    out: dict[str, list[float]] = {"base": [], "paper": [], "base_cpu": [], "paper_cpu": []}
    for k in range(MINUTES):
        ot = t0 + k * step
        col = prices[:, WARM + k]
        for name, rig in (
            (("base", base), ("paper", paper)) if k % 2 else (("paper", paper), ("base", base))
        ):
            wall, cpu = _close(rig, symbols, col, ot)
            out[name].append(wall)
            out[f"{name}_cpu"].append(cpu)
            _quotes(rig, symbols, col, ot + step + 1000)
        await asyncio.sleep(0)  # the paper trader's writer runs between closes
    assert paper.paper is not None
    await paper.paper.flush()
    counts = dict(paper.paper.counts)
    await paper.paper.close()
    for s in stores:
        s.close()
    return {**out, "counts": counts}


def main() -> None:
    symbols = [f"S{i:02d}USDT" for i in range(N_SYMBOLS)]
    pick = np.random.default_rng(1).permutation(435)[:50]
    pairs = [list(itertools.combinations(symbols, 2))[i] for i in pick]
    prices = _prices(WARM + MINUTES, seed=2)
    with tempfile.TemporaryDirectory(prefix="bench-paper-") as tmp:
        res = asyncio.run(
            _run(
                symbols,
                pairs,
                prices,
                f"sqlite:///{Path(tmp) / 'b.db'}",
                f"sqlite:///{Path(tmp) / 'p.db'}",
            )
        )
    q = {k: np.array(res[k]) for k in ("base", "paper", "base_cpu", "paper_cpu")}
    p99 = {k: float(np.quantile(v, 0.99)) for k, v in q.items()}
    p50 = {k: float(np.median(v)) for k, v in q.items()}
    mean = {k: float(np.mean(v)) for k, v in q.items()}
    c = res["counts"]
    print(
        f"[paper] 1m close -> 50 pairs (book rows + paper decisions), {MINUTES} closes: wall "
        f"p50 {p50['paper'] * 1e3:.2f} ms vs {p50['base'] * 1e3:.2f} ms without paper, p99 "
        f"{p99['paper'] * 1e3:.2f} ms vs {p99['base'] * 1e3:.2f} ms "
        f"({(p99['paper'] / p99['base'] - 1) * 100:+.1f} %); loop-thread CPU p50 "
        f"{p50['paper_cpu'] * 1e3:.2f} vs {p50['base_cpu'] * 1e3:.2f} ms, p99 "
        f"{p99['paper_cpu'] * 1e3:.2f} vs {p99['base_cpu'] * 1e3:.2f} ms "
        f"({(p99['paper_cpu'] / p99['base_cpu'] - 1) * 100:+.1f} %; target < +20 %), mean "
        f"{mean['paper_cpu'] * 1e3:.2f} vs {mean['base_cpu'] * 1e3:.2f} ms "
        f"({(mean['paper_cpu'] / mean['base_cpu'] - 1) * 100:+.1f} %); "
        f"paper decisions {c['decisions']}, orders {c['orders']}, fills {c['fills']}, "
        f"writes {c['writes']}",
        flush=True,
    )
    ours = {"median": p99["paper_cpu"], "min": p99["paper_cpu"], "max": p99["paper_cpu"]}
    base = {"median": p99["base_cpu"], "min": p99["base_cpu"], "max": p99["base_cpu"]}
    report(
        "paper",
        "1m close p99 CPU, 50 pairs",
        ours,
        base,
        ours_name="book + paper on 50",
        base_name="book alone",
        target="(paper adds < 20 %)",
    )


if __name__ == "__main__":
    main()
