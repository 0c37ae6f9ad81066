"""Resampling 10M ticks to OHLCV bars: statarb.bars vs pandas and a numpy floor; BarBuilder.

Targets: ``resample`` >= 5x pandas ``resample().ohlc()`` + sum + count, and within 1.5x of the
numpy floor (searchsorted on bin edges + ``reduceat``) computing the same columns.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench._common import measure, report

N = 10_000_000
T0_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z
SEED = 20240601
B = "resample"


def synthetic_ticks(n: int, mean_gap_ms: float = 50.0, seed: int = SEED):  # type: ignore[no-untyped-def]
    """Poisson arrivals (mean gap 50 ms, µs clock), random-walk price, exponential sizes."""
    from statarb.model import TickBatch

    rng = np.random.default_rng(seed)
    gaps = np.maximum(rng.exponential(mean_gap_ms * 1e3, n).astype(np.int64), 1)
    ts = T0_US + np.cumsum(gaps)
    price = 45_000.0 + np.cumsum(rng.normal(0.0, 0.5, n))
    size = np.round(rng.exponential(0.01, n), 6) + 1e-6
    side = rng.integers(0, 2, n).astype(np.int8)
    return TickBatch("BTCUSDT", ts, price, size, side=side)


def numpy_floor(ts, price, size, side, step: int, full: bool):  # type: ignore[no-untyped-def]
    """Non-empty bins by searchsorted on the bin edges and ``reduceat`` (sorted input)."""
    b0 = ts[0] - ts[0] % step
    edges = np.arange(b0, ts[-1] + step, step, dtype=np.int64)
    idx = np.searchsorted(ts, edges)
    counts = np.diff(idx)
    nonempty = counts > 0
    starts = idx[:-1][nonempty]
    counts = counts[nonempty]
    out = [
        edges[:-1][nonempty],
        price[starts],
        np.maximum.reduceat(price, starts),
        np.minimum.reduceat(price, starts),
        price[starts + counts - 1],
        np.add.reduceat(size, starts),
        counts,
    ]
    if full:
        out.append(np.add.reduceat(price * size, starts))
        out.append(np.add.reduceat(np.where(side == 0, size, 0.0), starts))
    return out


def compile_seconds() -> float:
    """First-call time of the kernel in a fresh process with an empty numba cache (pure JIT)."""
    code = (
        "import time, numpy as np\n"
        "from statarb.bars import resample\n"
        "from statarb.model import TickBatch\n"
        "t = TickBatch('X', np.arange(10), np.ones(10), np.ones(10))\n"
        "s = time.perf_counter(); resample(t, '1s'); print(time.perf_counter() - s)\n"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
    return float(out.stdout.strip())


def bench_resample(ticks, tf: str, pdf) -> None:  # type: ignore[no-untyped-def]
    from statarb.bars import resample
    from statarb.model import Timeframe

    step = Timeframe.parse(tf).us
    rule = Timeframe.parse(tf).pandas_freq

    def pandas_ohlc():  # type: ignore[no-untyped-def]
        r = pdf.resample(rule)
        out = r["price"].ohlc()
        out["volume"] = r["size"].sum()
        out["trades"] = r["size"].count()
        return out

    ours, bars = measure(lambda: resample(ticks, tf), repeat=5)
    base, ref = measure(pandas_ohlc, repeat=3)
    args = (ticks.ts, ticks.price, ticks.size, ticks.side, step)
    floor_full, fl = measure(lambda: numpy_floor(*args, full=True), repeat=5)
    floor_min, _ = measure(lambda: numpy_floor(*args, full=False), repeat=5)
    # the outputs agree before any figure is reported
    ref = ref[ref["trades"] > 0]
    assert len(ref) == len(bars) == len(fl[0])
    assert np.array_equal(bars.open_time, fl[0]) and np.array_equal(bars.trades, fl[6])
    for i, c in enumerate(("open", "high", "low", "close"), start=1):
        assert np.array_equal(getattr(bars, c), fl[i]) and np.array_equal(getattr(bars, c), ref[c])
    assert np.allclose(bars.volume, ref["volume"]) and np.allclose(bars.notional, fl[7])
    assert np.allclose(bars.taker_buy_volume, fl[8])
    task = f"10M ticks -> {tf} ({len(bars):,} bars)"
    report(B, task, ours, base, ours_name="statarb resample", base_name="pandas ohlc+sum+count",
           target="target >= 5x", items=len(ticks))  # fmt: skip
    report(B, task, ours, floor_full, ours_name="statarb resample",
           base_name="numpy floor (same 9 cols)",
           target="target >= 0.67x (within 1.5x)", items=len(ticks))  # fmt: skip
    report(B, task, ours, floor_min, ours_name="statarb resample",
           base_name="numpy floor (ohlcv+count)",
           target="(info: floor without notional/taker columns)", items=len(ticks))  # fmt: skip


def bench_builder(ticks) -> None:  # type: ignore[no-untyped-def]
    from statarb.bars import BarBuilder, resample

    n, size = 1_000_000, 1000
    sub = ticks.take(slice(0, n))
    batches = [sub.take(slice(i, i + size)) for i in range(0, n, size)]

    def build():  # type: ignore[no-untyped-def]
        b = BarBuilder("BTCUSDT", "1s")
        parts = [b.update(x) for x in batches]
        parts.append(b.close_until(int(sub.ts[-1]) + 1_000_000))
        return parts

    ours, parts = measure(build, repeat=3)
    base, whole = measure(lambda: resample(sub, "1s"), repeat=5)
    assert sum(len(p) for p in parts) == len(whole)
    assert np.array_equal(np.concatenate([p.close for p in parts]), whole.close)
    report(B, "1M ticks -> 1s, BarBuilder in 1000-tick batches", ours, base,
           ours_name="BarBuilder.update", base_name="resample (one batch)",
           target="(info: live-path overhead; ratio < 1 expected)", items=n)  # fmt: skip


def main() -> None:
    import pandas as pd

    t = time.perf_counter()
    ticks = synthetic_ticks(N)
    print(f"generated {N:,} ticks in {time.perf_counter() - t:.2f}s", flush=True)
    print(f"numba compile (first call, empty cache): {compile_seconds():.2f}s", flush=True)
    pdf = pd.DataFrame(
        {"price": ticks.price, "size": ticks.size},
        index=pd.DatetimeIndex(ticks.ts.astype("datetime64[us]")),
    )
    for tf in ("1m", "1s"):
        bench_resample(ticks, tf, pdf)
    bench_builder(ticks)


if __name__ == "__main__":
    main()
