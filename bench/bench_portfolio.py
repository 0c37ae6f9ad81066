"""A book of 50 pairs over 100k bars: run_portfolio against 50 single-pair backtests."""

from __future__ import annotations

import os
import time

import numpy as np

from bench._common import measure, report

N_BARS = 100_000
N_SYMBOLS = 30
N_PAIRS = 50


def _book() -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    """30 symbols sharing a random walk with their own mean-reverting deviations; 50 pairs."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(0)
    common = np.cumsum(rng.normal(0, 1, N_BARS)) + 5000
    prices = {}
    for i in range(N_SYMBOLS):
        dev = lfilter([1.0], [1.0, -0.97], rng.normal(0, 1, N_BARS))
        prices[f"S{i:02d}USDT"] = common * (1 + 0.05 * i) + 3 * dev + 100
    names = sorted(prices)
    pairs = [(names[i], names[j]) for i in range(N_SYMBOLS) for j in range(i + 1, N_SYMBOLS)]
    return prices, pairs[:N_PAIRS]


def bench_book() -> None:
    from statarb.backtest import BacktestConfig, run_backtest
    from statarb.backtest import _book_kernel as k
    from statarb.backtest.portfolio import PortfolioConfig, run_portfolio

    prices, pairs = _book()
    cfg = PortfolioConfig(time_stop=3.0, max_open=10)
    small = {s: v[:2000] for s, v in prices.items()}
    t = time.perf_counter()
    run_portfolio(pairs, small, config=cfg)
    print(f"[portfolio] first call (compile or cache load) {time.perf_counter() - t:.2f}s")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    ours, res = measure(lambda: run_portfolio(pairs, prices, config=cfg), repeat=3)

    # the compiled loop alone, on the inputs run_portfolio prepared
    captured: dict[str, tuple[object, ...]] = {}
    real = k.book_kernel

    def spy(*args: object) -> object:
        captured["args"] = args
        return real(*args)

    k.book_kernel = spy  # type: ignore[assignment]
    try:
        run_portfolio(pairs, prices, config=cfg)
    finally:
        k.book_kernel = real
    loop, _ = measure(lambda: real(*captured["args"]), repeat=3)

    # CPU time of one run: what the process itself spent, less sensitive to a loaded machine
    c = time.process_time()
    run_portfolio(pairs, prices, config=cfg)
    cpu_whole = time.process_time() - c
    c = time.process_time()
    real(*captured["args"])
    cpu_loop = time.process_time() - c
    print(f"[portfolio] CPU time: whole run {cpu_whole:.2f}s, compiled loop {cpu_loop:.2f}s")

    single = BacktestConfig(time_stop=3.0)
    run_backtest(prices[pairs[0][0]][:2000], prices[pairs[0][1]][:2000], config=single)

    def separately() -> None:
        for a, b in pairs:
            run_backtest(prices[a], prices[b], config=single)

    base, _ = measure(separately, repeat=1)
    report(
        "portfolio",
        f"{N_PAIRS} pairs x {N_BARS // 1000}k bars, whole run_portfolio (signals + loop + metrics)",
        ours,
        base,
        ours_name="run_portfolio",
        base_name=f"{N_PAIRS} x run_backtest",
        target=f"(target < 2 s; {res.metrics['trades']} trades; load average {load:.1f})",
    )
    report(
        "portfolio",
        f"{N_PAIRS} pairs x {N_BARS // 1000}k bars, compiled book loop only",
        loop,
        base,
        ours_name="book_kernel",
        base_name=f"{N_PAIRS} x run_backtest",
        target="(target < 2 s)",
    )


def main() -> None:
    bench_book()
