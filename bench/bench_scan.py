"""Pair scan against a plain loop over statsmodels ``coint``; growth with symbols and bars; Dask.

Synthetic 1m log prices: a fifth of the symbols load on one of five common random-walk factors
(cointegrated groups), the rest are independent random walks. Each figure is a median of
``repeat`` runs; the statsmodels loop is timed on a sample of pairs and extrapolated to all of
them (stated on its line). ``STATARB_BENCH_SCAN_FULL=1`` adds the 200-symbol x 40k-bar point.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from bench._common import measure, report

SEED = 20260201


def universe(k: int, n: int, seed: int = SEED) -> Any:
    """``k`` symbols x ``n`` 1m closes: cointegrated groups and independent random walks."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    factors = np.cumsum(rng.normal(0, 0.001, (n, 5)), axis=0)
    cols = {}
    for i in range(k):
        if i % 5 == 0:
            walk = np.cumsum(rng.normal(0, 0.001, n))
        else:
            walk = factors[:, i % 5] * rng.uniform(0.5, 1.5) + rng.normal(0, 0.0005, n)
        cols[f"S{i:03d}USDT"] = np.exp(3 + i * 0.01 + walk)
    index = pd.date_range("2026-02-01", periods=n, freq="1min", tz="UTC")
    return pd.DataFrame(cols, index=index)


def _scan(frame: Any, **kw: Any) -> Any:
    from statarb.scanning import run_scan

    return run_scan(frame, **kw)


def _statsmodels_loop(frame: Any, pairs: list[tuple[str, str]]) -> list[float]:
    """The baseline, with one BLAS thread: on this loaded 2-core machine statsmodels' OLS with
    threaded BLAS is about 15x slower (41 s against 2.5 s for one 10k-bar pair)."""
    from statsmodels.tsa.stattools import coint
    from threadpoolctl import threadpool_limits

    logp = np.log(frame)
    with threadpool_limits(1):
        return [float(coint(logp[a].to_numpy(), logp[b].to_numpy())[1]) for a, b in pairs]


def bench_headline(k: int = 100, n: int = 10_000, sample: int = 6) -> None:
    """100 symbols x 10k bars: our scan vs a statsmodels coint loop (sampled, extrapolated)."""
    frame = universe(k, n)
    _scan(universe(4, 500))  # load the compiled kernel
    ours, run = measure(lambda: _scan(frame), repeat=1, warmup=0)
    res = run.result
    rng = np.random.default_rng(SEED)
    table = res.table
    picks = rng.choice(len(table), size=sample, replace=False)
    pairs = [(table.a[i], table.b[i]) for i in picks]
    t = time.perf_counter()
    ref = _statsmodels_loop(frame, pairs)
    per_pair = (time.perf_counter() - t) / sample
    np.testing.assert_allclose(table.pvalue.to_numpy()[picks], ref, rtol=1e-6, atol=1e-12)
    base = {k2: per_pair * run.pairs for k2 in ("median", "min", "max")}
    one, _ = measure(lambda: _scan(frame, executor="inprocess"), repeat=1, warmup=0)
    report(
        "scan",
        f"{k} symbols x {n // 1000}k 1m bars ({run.pairs} pairs), one core each",
        one,
        base,
        ours_name="statarb scan in one process",
        base_name=f"statsmodels coint loop (timed on {sample} pairs, x{run.pairs})",
        target=f"({one['median'] / run.pairs * 1e3:.2f} ms vs {per_pair * 1e3:.0f} ms per pair)",
        items=run.pairs,
    )
    report(
        "scan",
        f"{k} symbols x {n // 1000}k 1m bars ({run.pairs} pairs, {run.executor})",
        ours,
        base,
        ours_name="statarb scan",
        base_name=f"statsmodels coint loop (timed on {sample} pairs, x{run.pairs})",
        target=f"(target < 60 s and >= 50x; {ours['median']:.1f} s; "
        f"{int(res.table['significant'].sum())} significant after BH)",
        items=run.pairs,
    )


def bench_growth() -> None:
    """Per-pair cost as symbols grow (10k bars) and as bars grow (50 symbols)."""
    points = [(25, 10_000), (50, 10_000), (100, 10_000), (200, 10_000), (50, 40_000)]
    if os.environ.get("STATARB_BENCH_SCAN_FULL"):
        points.append((200, 40_000))
    print("[scan] growth: symbols x bars -> pairs, seconds, ms per pair (auto executor)")
    _scan(universe(4, 500))  # load the compiled kernel
    first = None
    for k, n in points:
        frame = universe(k, n)
        took, run = measure(lambda frame=frame: _scan(frame), repeat=1, warmup=0)
        per = took["median"] / run.pairs * 1e3
        first = first or per
        print(
            f"[scan]   {k:4d} x {n // 1000:3d}k: {run.pairs:6d} pairs {took['median']:7.2f} s "
            f"{per:6.3f} ms/pair ({per / first:4.2f}x the 25-symbol cost, {run.executor})",
            flush=True,
        )


def bench_dask_workers(k: int = 100, n: int = 10_000) -> None:
    """The same chunks on a LocalCluster of 1 worker and of 2 workers."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("[scan] dask: skipped (pip install 'statarb[dask]')")
        return
    import time as _time

    frame = universe(k, n)
    times, cpu = {}, {}
    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            _scan(universe(4, 500), cluster=client)  # warm the workers
            before = sum(client.run(_time.process_time).values())
            times[workers], run = measure(
                lambda c=client: _scan(frame, cluster=c, chunk_size=64), repeat=1, warmup=0
            )
            cpu[workers] = sum(client.run(_time.process_time).values()) - before
    report(
        "scan",
        f"dask LocalCluster, {k} x {n // 1000}k ({run.pairs} pairs, {run.chunks} chunks)",
        times[2],
        times[1],
        ours_name="2 workers",
        base_name="1 worker",
        target=f"(target >= 1.6x; worker CPU {cpu[1]:.1f} s vs {cpu[2]:.1f} s for the same "
        f"chunks; CPU obtained per wall second {cpu[1] / times[1]['median']:.2f} vs "
        f"{cpu[2] / times[2]['median']:.2f} cores)",
    )


def main() -> None:
    bench_headline()
    bench_growth()
    bench_dask_workers()


if __name__ == "__main__":
    main()
