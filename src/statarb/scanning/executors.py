"""Where scan chunks run: this process, a pool of local processes, or a Dask cluster.

Every executor runs the same pure :func:`statarb.analytics.scan.scan_chunk` on the same chunks,
so the table does not depend on the executor. The prepared universe (the price matrix and the
pairs' hedges) is shipped to each worker once: as the pool initialiser's argument, or with
``client.scatter(..., broadcast=True)`` on Dask. A task carries only its chunk's pair positions.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Literal, Protocol

import numpy as np

from statarb.analytics.scan import ChunkResult, ScanInput, scan_chunk
from statarb.errors import InputError, StatarbError

ExecutorName = Literal["auto", "inprocess", "processes", "dask"]

#: below this much work (pairs x bars x lags searched) a scan runs in this process: starting
#: and feeding a pool costs more than it saves (about one second of work on one core)
LOCAL_WORK_MIN = 250_000_000


class ChunkExecutor(Protocol):
    """Runs chunks of a prepared scan and yields their results as they finish."""

    name: str

    def run(self, inp: ScanInput, parts: Sequence[np.ndarray]) -> Iterator[ChunkResult]:
        """Yield one :class:`ChunkResult` per chunk, in completion order."""
        ...


def work_units(inp: ScanInput, todo: np.ndarray) -> float:
    """Rough cost of the pairs ``todo``: bars times lags searched, summed over pairs."""
    if len(todo) == 0:
        return 0.0
    n = inp.n[todo].astype(np.float64)
    lags = np.ceil(12.0 * (n / 100.0) ** 0.25) if inp.params.maxlag is None else inp.params.maxlag
    return float((n * (lags + 1)).sum())


def default_chunk_size(inp: ScanInput, todo: np.ndarray, workers: int) -> int:
    """About one second of work per chunk, and at least four chunks per worker."""
    if len(todo) == 0:
        return 1
    per_pair = work_units(inp, todo) / len(todo)
    size = max(1, int(LOCAL_WORK_MIN // max(per_pair, 1.0)))
    return max(1, min(size, math.ceil(len(todo) / (4 * max(workers, 1)))))


class InProcess:
    """Chunks one after the other in this process."""

    name = "inprocess"

    def run(self, inp: ScanInput, parts: Sequence[np.ndarray]) -> Iterator[ChunkResult]:
        """Run each chunk here."""
        for part in parts:
            yield scan_chunk(inp, part)


_WORKER_INPUT: ScanInput | None = None


def _init_worker(inp: ScanInput) -> None:
    """Pool initialiser: keep the universe for every task of this process."""
    global _WORKER_INPUT
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one process per core; no BLAS threads fighting over it
    _WORKER_INPUT = inp


def _pool_chunk(part: np.ndarray) -> ChunkResult:
    if _WORKER_INPUT is None:  # pragma: no cover - the initialiser always ran
        raise StatarbError("scan worker started without its input")
    return scan_chunk(_WORKER_INPUT, part)


class LocalProcesses:
    """A pool of local processes (default: one per core)."""

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        if self.workers < 1:
            raise InputError(f"workers must be >= 1, got {workers}")

    def run(self, inp: ScanInput, parts: Sequence[np.ndarray]) -> Iterator[ChunkResult]:
        """Run the chunks on the pool; the universe goes to each process once."""
        with ProcessPoolExecutor(
            max_workers=self.workers, initializer=_init_worker, initargs=(inp,)
        ) as pool:
            pending = {pool.submit(_pool_chunk, p) for p in parts}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        yield fut.result()
            finally:
                for fut in pending:
                    fut.cancel()


class DaskExecutor:
    """A ``dask.distributed`` cluster at ``address`` (e.g. ``tcp://host:8786``), or a client."""

    name = "dask"

    def __init__(self, address: str | Any, *, timeout: float = 30.0) -> None:
        self.address = address
        self.timeout = timeout

    def _client(self) -> tuple[Any, bool]:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - the [dask] extra is installed in tests
            raise StatarbError(
                "the Dask executor needs the dask extra: pip install 'statarb[dask]'"
            ) from exc
        if not isinstance(self.address, str):
            return self.address, False
        try:
            return Client(self.address, timeout=self.timeout, set_as_default=False), True
        except (OSError, TimeoutError) as exc:
            raise StatarbError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from exc

    def run(self, inp: ScanInput, parts: Sequence[np.ndarray]) -> Iterator[ChunkResult]:
        """Scatter the universe to every worker once, then one task per chunk."""
        from distributed import as_completed

        client, owned = self._client()
        try:
            shared = client.scatter(inp, broadcast=True, hash=False)
            futures = [client.submit(scan_chunk, shared, p, pure=False) for p in parts]
            try:
                for fut in as_completed(futures, loop=client.loop):
                    yield fut.result()
            finally:
                client.cancel(futures)
                client.cancel(shared)
        finally:
            if owned:
                client.close()


def choose_executor(
    inp: ScanInput,
    todo: np.ndarray,
    *,
    executor: ExecutorName = "auto",
    workers: int | None = None,
    cluster: str | Any | None = None,
) -> ChunkExecutor:
    """The executor for this much work.

    ``"auto"``: Dask when ``cluster`` is given; otherwise local processes when there is more
    than :data:`LOCAL_WORK_MIN` of work and more than one core (or ``workers > 1``), else this
    process.
    """
    if executor not in ("auto", "inprocess", "processes", "dask"):
        raise InputError(
            f"executor must be 'auto', 'inprocess', 'processes' or 'dask', got {executor!r}"
        )
    if executor == "dask" or (executor == "auto" and cluster):
        if not cluster:
            raise InputError("the dask executor needs a scheduler address (--cluster tcp://...)")
        return DaskExecutor(cluster)
    if executor == "inprocess":
        return InProcess()
    cores = workers or os.cpu_count() or 1
    if executor == "processes" or (cores > 1 and work_units(inp, todo) >= LOCAL_WORK_MIN):
        return LocalProcesses(workers)
    return InProcess()


__all__ = [
    "LOCAL_WORK_MIN",
    "ChunkExecutor",
    "DaskExecutor",
    "ExecutorName",
    "InProcess",
    "LocalProcesses",
    "choose_executor",
    "default_chunk_size",
    "work_units",
]
