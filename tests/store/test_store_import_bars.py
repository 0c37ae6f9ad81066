"""Bars kept in the store for imported ticks equal the resample of the stored ticks (both stores).

Files are imported in ways that take each path of :class:`statarb.ingest._import_bars.ImportBars`:
a clean file (bars built while streaming), an overlapping one and a re-import (bars rebuilt from
the stored ticks), a file out of time order, and ticks written later without bars (history
completes the tail from the ticks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from statarb.bars import resample
from statarb.history import load_bars
from statarb.ingest.files import import_files
from statarb.model import BAR_COLUMNS, BarBatch, TickBatch
from statarb.store import TickStore

TFS = ("1s", "1m", "5m")
T0_MS = 1_704_067_200_000


def _write(path: Path, first_id: int, n: int, start_ms: int, seed: int, *, shuffle: bool = False):
    rng = np.random.default_rng(seed)
    ids = np.arange(first_id, first_id + n)
    t = start_ms + np.cumsum(rng.integers(0, 400, n))
    price = np.round(42000 + np.cumsum(rng.normal(0, 0.5, n)), 1)
    qty = np.round(rng.exponential(0.05, n), 3) + 0.001
    maker = np.where(rng.random(n) < 0.5, "true", "false")
    order = rng.permutation(n) if shuffle else np.arange(n)
    lines = [
        "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker"
    ]
    lines += [
        f"{ids[i]},{price[i]:.1f},{qty[i]:.3f},{ids[i]},{ids[i]},{t[i]},{maker[i]}" for i in order
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _same(got: BarBatch, want: BarBatch) -> None:
    assert_array_equal(got.open_time, want.open_time)
    for name in BAR_COLUMNS:
        assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-12, err_msg=name)


def _check(store: TickStore, *, open_last: bool = False) -> None:
    ticks = store.read_ticks("BTCUSDT")
    for tf in TFS:
        want = resample(ticks, tf)
        if open_last:  # the bar of the last tick is still open: not served as history
            want = want.take(slice(0, len(want) - 1))
        _same(load_bars(store, "BTCUSDT", tf), want)
        k = len(want)
        lo, hi = int(want.open_time[k // 4]), int(want.open_time[3 * k // 4])
        inside = want.take((want.open_time >= lo) & (want.open_time < hi))
        _same(load_bars(store, "BTCUSDT", tf, lo, hi), inside)


@pytest.mark.parametrize("chunk_rows", [700, 100_000])
def test_imported_bars_equal_resampled_ticks(
    store: TickStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    from statarb.ingest import files

    real = files.read_file
    monkeypatch.setattr(files, "read_file", lambda p, **kw: real(p, chunk_rows=chunk_rows, **kw))
    a = _write(tmp_path / "BTCUSDT-aggTrades-a.csv", 1_000, 3_000, T0_MS, 1)
    rep = import_files([a], store, bar_timeframes=TFS)
    assert rep.ticks == 3_000
    assert set(TFS) <= set(next(s for s in store.symbols() if s.symbol == "BTCUSDT").bars)
    _check(store)
    # overlapping the end of the first file (shares bars with it): rebuilt from the store
    b = _write(tmp_path / "BTCUSDT-aggTrades-b.csv", 3_500, 2_000, T0_MS + 550_000, 2)
    import_files([b], store, bar_timeframes=TFS)
    _check(store)
    # a re-import adds nothing and leaves the bars as they are
    import_files([a], store, bar_timeframes=TFS)
    _check(store)
    # a later file out of time order
    c = _write(
        tmp_path / "BTCUSDT-aggTrades-c.csv", 9_000, 1_500, T0_MS + 3_000_000, 3, shuffle=True
    )
    import_files([c], store, bar_timeframes=TFS)
    _check(store)
    # ticks written later without bars (as the live writer leaves them until their bars close):
    # the closed bars are built from the ticks, the bar of the last tick is still open
    last = store.read_ticks("BTCUSDT")
    n = 50
    step = 300_000_000  # the coarsest timeframe: the new ticks fall after every stored bar
    ts = int(last.ts[-1]) // step * step + step + 1_000 + np.arange(n) * 2_000_000
    store.write_ticks(
        TickBatch("BTCUSDT", ts, np.full(n, 42_100.0), np.full(n, 0.5), np.zeros(n, np.int8),
                  np.arange(20_000, 20_000 + n))
    )  # fmt: skip
    _check(store, open_last=True)


def test_import_without_timeframes_keeps_no_bars(store: TickStore, tmp_path: Path) -> None:
    a = _write(tmp_path / "BTCUSDT-aggTrades-a.csv", 1_000, 500, T0_MS, 1)
    import_files([a], store)
    assert next(s for s in store.symbols() if s.symbol == "BTCUSDT").bars == {}
