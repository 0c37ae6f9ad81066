"""History reads: 1-minute bars for 30 days of one symbol from a store of 10M ticks.

The store is filled the way ``statarb import`` fills it: ticks written in 1M-row batches with
the closed bars of the live timeframes kept beside them (:class:`ImportBars`). Ours:
:func:`statarb.history.load_bars` (stored closed bars). Baseline, same store, same run: read the
ticks of the range and resample them (what history did before bars were kept). Both results are
checked equal. SQLite always; PostgreSQL too when ``STATARB_BENCH_POSTGRES`` is reachable.

Size: ``STATARB_BENCH_HISTORY_TICKS`` (default 10M). Target: under 0.5 s.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal

from bench._common import measure, report
from statarb.model import BAR_COLUMNS, TickBatch

DAYS = 30
T0 = 1_704_067_200_000_000
TFS = ("1s", "1m", "5m", "15m", "1h")


def make_ticks(n: int, seed: int = 7) -> TickBatch:
    """``n`` ticks spread over 30 days: Poisson arrivals, random-walk prices."""
    rng = np.random.default_rng(seed)
    gap = DAYS * 86_400e6 / n
    ts = T0 + np.cumsum(rng.exponential(gap, n)).astype(np.int64)
    price = np.round(42_000 + np.cumsum(rng.normal(0, 0.5, n)), 1)
    size = np.round(rng.exponential(0.05, n), 3) + 0.001
    side = (rng.random(n) < 0.5).astype(np.int8)
    return TickBatch("BTCUSDT", ts, price, size, side, np.arange(10**9, 10**9 + n))


def fill(store: object, ticks: TickBatch) -> float:
    """Write ``ticks`` as an import does (bars kept); return seconds."""
    from statarb.ingest._import_bars import ImportBars

    t = time.perf_counter()
    with store.transaction():  # type: ignore[attr-defined]
        bars = ImportBars(store, TFS)  # type: ignore[arg-type]
        for i in range(0, len(ticks), 1_000_000):
            part = ticks.take(slice(i, i + 1_000_000))
            bars.add(part, store.write_ticks(part))  # type: ignore[attr-defined]
        bars.finish()
    return time.perf_counter() - t


def run(name: str, store: object, ticks: TickBatch) -> None:
    from statarb.bars import resample
    from statarb.history import load_bars

    print(f"[history] {name}: stored {len(ticks):,} ticks + bars in {fill(store, ticks):.1f}s",
          flush=True)  # fmt: skip
    lo, hi = T0, T0 + DAYS * 86_400_000_000
    resample(ticks.take(slice(0, 1000)), "1m")  # compile outside the timings

    def ours() -> object:
        return load_bars(store, "BTCUSDT", "1m", lo, hi)  # type: ignore[arg-type]

    def base() -> object:
        return resample(store.read_ticks("BTCUSDT", lo, hi), "1m")  # type: ignore[attr-defined]

    t_ours, got = measure(ours, repeat=3, warmup=1)
    t_base, want = measure(base, repeat=1, warmup=0)
    assert_array_equal(got.open_time, want.open_time)  # type: ignore[attr-defined]
    for col in BAR_COLUMNS:
        assert_allclose(getattr(got, col), getattr(want, col), rtol=1e-9)
    report("history", f"1m bars, {DAYS} days, {name} store of {len(ticks):,} ticks", t_ours,
           t_base, ours_name="load_bars (stored bars)", base_name="read_ticks + resample",
           target="< 0.5 s")  # fmt: skip
    print(f"[history] {name}: {len(got):,} bars in {t_ours['median']:.3f}s "  # type: ignore[arg-type]
          f"(target < 0.5 s)", flush=True)  # fmt: skip


def main() -> None:
    from bench.bench_store import _pg_reachable, _PgSchema
    from statarb.store.postgres import PostgresStore
    from statarb.store.sqlite import SQLiteStore

    n = int(os.environ.get("STATARB_BENCH_HISTORY_TICKS", 10_000_000))
    ticks = make_ticks(n)
    folder = Path(tempfile.mkdtemp(prefix="statarb-bench-history-"))
    try:
        lite = SQLiteStore(f"sqlite:///{folder / 'history.db'}")
        run("SQLite", lite, ticks)
        lite.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not _pg_reachable():
        print("[history] PostgreSQL not reachable: skipped")
        return
    schema = _PgSchema()
    try:
        pg = PostgresStore(schema.url)
        run("PostgreSQL", pg, ticks)
        pg.close()
    finally:
        schema.drop()


if __name__ == "__main__":
    main()
