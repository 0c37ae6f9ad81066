import sys
import types

import numpy as np
import pandas as pd
import pytest

from statarb.analytics.scan import scan_pairs
from statarb.scanning import choose_executor, run_scan
from statarb.scanning.executors import LOCAL_WORK_MIN, InProcess, LocalProcesses, work_units


def _prices(k=9, n=700, seed=0):
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(0, 0.01, (n, 3)), axis=0)
    cols = {f"S{i}": np.exp(4 + f[:, i % 3] + rng.normal(0, 0.003, n)) for i in range(k)}
    df = pd.DataFrame(cols, index=pd.date_range("2026-02-01", periods=n, freq="1min", tz="UTC"))
    df.iloc[:80, 2] = np.nan
    return df


def test_local_processes_equal_this_process_and_the_library():
    df = _prices()
    ref = scan_pairs(df).table
    seen = []
    local = run_scan(df, executor="inprocess", chunk_size=5, progress=lambda d, t: seen.append(d))
    pool = run_scan(df, executor="processes", workers=2, chunk_size=5)
    pd.testing.assert_frame_equal(local.result.table, ref)
    pd.testing.assert_frame_equal(pool.result.table, ref)
    assert local.chunks == pool.chunks == 8 and pool.executor == "processes"
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 36


def test_the_executor_follows_the_size_of_the_work():
    from statarb.analytics.scan import prepare

    small = prepare(_prices(k=4, n=300))
    todo = np.arange(small.pairs)
    assert work_units(small, todo) < LOCAL_WORK_MIN
    assert isinstance(choose_executor(small, todo), InProcess)
    assert isinstance(choose_executor(small, todo, executor="processes"), LocalProcesses)
    assert choose_executor(small, todo, cluster="tcp://127.0.0.1:1").name == "dask"
    big = prepare(_prices(k=70, n=4000))
    todo = np.arange(big.pairs)
    assert work_units(big, todo) >= LOCAL_WORK_MIN
    assert isinstance(choose_executor(big, todo, workers=2), LocalProcesses)
    assert isinstance(choose_executor(big, todo, workers=1), InProcess)


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed", reason="the [dask] extra is not installed")
    # spawned workers re-run the file of ``__main__``; a Streamlit AppTest earlier in the same
    # pytest process may have left a dashboard view there, so start them with a clean one
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    finally:
        sys.modules["__main__"] = main
    try:
        yield cluster
    finally:
        cluster.close()


def test_a_dask_cluster_gives_the_same_table(dask_cluster):
    from distributed import Client, get_task_stream

    df = _prices()
    ref = run_scan(df, executor="inprocess", chunk_size=5)
    got = run_scan(df, cluster=dask_cluster.scheduler_address, chunk_size=5)
    assert got.executor == "dask" and got.chunks == ref.chunks
    pd.testing.assert_frame_equal(got.result.table, ref.result.table)
    with Client(dask_cluster.scheduler_address) as client, get_task_stream(client) as ts:
        again = run_scan(df, cluster=client, chunk_size=5)
    pd.testing.assert_frame_equal(again.result.table, ref.result.table)
    tasks = [t for t in ts.data if t["key"].startswith("scan_chunk")]
    assert len(tasks) == ref.chunks
    # the universe was broadcast to both workers before the tasks ran: no task fetched it
    assert not [s for t in tasks for s in t["startstops"] if s["action"] == "transfer"]


def test_an_unreachable_scheduler_is_a_clear_error():
    pytest.importorskip("distributed", reason="the [dask] extra is not installed")
    from statarb.analytics.scan import prepare
    from statarb.errors import StatarbError
    from statarb.scanning.executors import DaskExecutor

    inp = prepare(_prices(k=3, n=200))
    with pytest.raises(
        StatarbError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        list(DaskExecutor("tcp://127.0.0.1:9", timeout=1).run(inp, [np.arange(3)]))
