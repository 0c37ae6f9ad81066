import numpy as np
import pandas as pd
import pytest

from statarb.analytics.scan import ScanParams
from statarb.scanning import run_scan
from statarb.scanning.run import Window
from statarb.store.scan_cache import ScanCache

WIN = Window("1m", 1_769_904_000_000_000, 1_769_904_000_000_000 + 600 * 60_000_000)


def _prices(seed=0, n=600, k=7):
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(0, 0.01, (n, 2)), axis=0)
    cols = {f"S{i}": np.exp(3 + f[:, i % 2] + rng.normal(0, 0.003, n)) for i in range(k)}
    return pd.DataFrame(cols, index=pd.date_range("2026-02-01", periods=n, freq="1min", tz="UTC"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cache_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cache.db'}"
    return request.getfixturevalue("pg_url")


def test_a_rerun_reads_back_and_recomputes_only_changed_symbols(cache_url):
    df = _prices()
    with ScanCache(cache_url) as cache:
        first = run_scan(df, cache=cache, window=WIN, executor="inprocess", chunk_size=4)
        assert (first.computed, first.cached) == (21, 0)
        again = run_scan(df, cache=cache, window=WIN, executor="inprocess")
        assert (again.computed, again.cached, again.executor) == (0, 21, "cache")
        pd.testing.assert_frame_equal(again.result.table, first.result.table)
        changed = df.copy()
        changed.iloc[-5:, 3] *= 1.01  # new bars of S3 inside the same window
        third = run_scan(changed, cache=cache, window=WIN, executor="inprocess")
        assert (third.computed, third.cached) == (6, 15)  # the six pairs with S3
        fresh = run_scan(changed, executor="inprocess")
        pd.testing.assert_frame_equal(third.result.table, fresh.result.table)
        other = run_scan(df, ScanParams(autolag="AIC"), cache=cache, window=WIN)
        assert other.cached == 0  # other parameters: other keys


class _StopError(Exception):
    pass


def test_an_interrupted_scan_resumes_where_it_stopped(cache_url):
    df = _prices(seed=3)
    calls = []

    def interrupt(done, total):
        calls.append(done)
        if len(calls) == 3:  # after two chunks were saved
            raise _StopError

    with ScanCache(cache_url) as cache:
        with pytest.raises(_StopError):
            run_scan(
                df, cache=cache, window=WIN, executor="inprocess", chunk_size=5, progress=interrupt
            )
        resumed = run_scan(df, cache=cache, window=WIN, executor="inprocess", chunk_size=5)
        assert (resumed.cached, resumed.computed) == (10, 11)
        whole = run_scan(df, executor="inprocess")
        pd.testing.assert_frame_equal(resumed.result.table, whole.result.table)


def test_the_cache_refuses_an_in_memory_store():
    from statarb.errors import StoreError

    with pytest.raises(StoreError, match="memory"):
        ScanCache("sqlite:///:memory:")
