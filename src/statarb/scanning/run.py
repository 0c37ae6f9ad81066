"""One scan end to end: prepare, read the cache, run the missing chunks, save them, finish.

Results are saved chunk by chunk as they arrive, so an interrupted scan (Ctrl-C, a lost
worker) loses at most the chunks in flight: the next run with the same window and parameters
reads the saved pairs back and computes only the rest.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from statarb.analytics.liquidity import LiquidityStats
from statarb.analytics.scan import (
    ChunkResult,
    ScanInput,
    ScanParams,
    ScanResult,
    chunks,
    finish,
    merge,
    prepare,
)
from statarb.errors import InputError
from statarb.scanning.executors import ExecutorName, choose_executor, default_chunk_size

#: ``progress(done_pairs, total_pairs)``, called after each chunk (and once at the start)
Progress = Callable[[int, int], None]


class PairCache(Protocol):
    """What the scan needs of a cache (:class:`statarb.store.scan_cache.ScanCache`)."""

    def lookup(
        self, timeframe: str, start_us: int, end_us: int, params: str, pairs: Any
    ) -> dict[tuple[str, str], tuple[Any, ...]]:
        """Cached rows whose data key matches."""
        ...

    def save(
        self,
        timeframe: str,
        start_us: int,
        end_us: int,
        params: str,
        rows: Sequence[tuple[str, str, str, tuple[Any, ...]]],
        computed_us: int,
    ) -> None:
        """Store rows."""
        ...


@dataclass(frozen=True)
class Window:
    """The bars a scan covers: timeframe and ``[start_us, end_us)`` (part of the cache key)."""

    timeframe: str
    start_us: int
    end_us: int


@dataclass(frozen=True)
class ScanRun:
    """A scan's table and how it was obtained."""

    result: ScanResult
    executor: str
    pairs: int
    computed: int
    cached: int
    chunks: int
    seconds: float

    def summary(self) -> str:
        """One line of text."""
        return (
            f"{self.pairs} pairs: {self.computed} computed ({self.executor}, {self.chunks} "
            f"chunks), {self.cached} from the cache, in {self.seconds:.1f} s"
        )


def _data_key(inp: ScanInput, k: int) -> str:
    a, b = int(inp.iy[k]), int(inp.ix[k])
    return hashlib.blake2b(
        f"{inp.fingerprints[a]}:{inp.fingerprints[b]}".encode(), digest_size=16
    ).hexdigest()


def _num(v: Any, kind: type) -> Any:
    if v is None:
        return math.nan if kind is float else -1
    return kind(v)


def _from_cache(inp: ScanInput, hits: Mapping[int, tuple[Any, ...]]) -> ChunkResult:
    idx = np.array(sorted(hits), dtype=np.int64)
    rows = [hits[int(k)] for k in idx]
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    return ChunkResult(
        idx,
        np.array([_num(v, float) for v in cols[0]], dtype=np.float64),
        np.array([_num(v, int) for v in cols[1]], dtype=np.int64),
        np.array([_num(v, int) for v in cols[2]], dtype=np.int64),
        np.array([_num(v, float) for v in cols[3]], dtype=np.float64),
        np.array([_num(v, float) for v in cols[4]], dtype=np.float64),
        np.array([_num(v, float) for v in cols[5]], dtype=np.float64),
        np.array([_num(v, int) for v in cols[6]], dtype=np.int64),
    )


def _rows(inp: ScanInput, part: ChunkResult) -> list[tuple[str, str, str, tuple[Any, ...]]]:
    out = []
    for j, k in enumerate(part.index):
        a, b = inp.pair_names(int(k))
        vals = (
            float(part.statistic[j]),
            int(part.used_lag[j]),
            int(part.nobs[j]),
            float(part.icbest[j]),
            float(part.hl_b[j]),
            float(part.correlation[j]),
            int(part.status[j]),
        )
        out.append((a, b, _data_key(inp, int(k)), vals))
    return out


def _window(inp: ScanInput, prices: Any, window: Window | None) -> Window:
    if window is not None:
        return window
    idx = getattr(prices, "index", None)
    if idx is None or not str(getattr(idx, "dtype", "")).startswith("datetime64") or not len(idx):
        raise InputError("a cached scan needs a window, or prices with a time index")
    us = np.asarray(idx).astype("datetime64[us]").astype(np.int64)
    return Window("?", int(us[0]), int(us[-1]) + 1)


def run_scan(
    prices: Any,
    params: ScanParams | None = None,
    *,
    liquidity: Mapping[str, LiquidityStats] | None = None,
    executor: ExecutorName = "auto",
    workers: int | None = None,
    cluster: str | Any | None = None,
    cache: PairCache | None = None,
    window: Window | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> ScanRun:
    """Scan every pair of the columns of ``prices`` (see :func:`statarb.analytics.scan.prepare`).

    Parameters
    ----------
    prices
        Aligned closes, one column per symbol in the order that fixes each pair's direction.
    params
        :class:`ScanParams`.
    liquidity
        Per-symbol liquidity for the notional columns.
    executor
        ``"auto"`` (Dask when ``cluster`` is set, local processes for large work, else this
        process), ``"inprocess"``, ``"processes"`` or ``"dask"``.
    workers
        Local processes (default: one per core).
    cluster
        Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``.
    cache
        Where finished pairs are saved and read back (:class:`~statarb.store.scan_cache.ScanCache`).
    window
        Timeframe and bar window of ``prices`` (the cache key); default from the time index.
    chunk_size
        Pairs per chunk (default: about a second of work, at least four chunks per worker).
    progress
        Called with ``(pairs done, pairs total)`` after each chunk.
    pairs
        Only these ``(dependent, regressor)`` pairs.
    """
    t0 = time.perf_counter()
    inp = prepare(prices, params, pairs=pairs)
    key = inp.params.key()
    runnable = np.flatnonzero((inp.status == 0) | (inp.status == 3))
    parts: list[ChunkResult] = []
    hits: dict[int, tuple[Any, ...]] = {}
    win: Window | None = None
    if cache is not None:
        win = _window(inp, prices, window)
        wanted = [(*inp.pair_names(int(k)), _data_key(inp, int(k))) for k in runnable]
        found = cache.lookup(win.timeframe, win.start_us, win.end_us, key, wanted)
        pos = {inp.pair_names(int(k)): int(k) for k in runnable}
        hits = {pos[ab]: row for ab, row in found.items()}
        if hits:
            parts.append(_from_cache(inp, hits))
    todo = np.array([k for k in runnable if int(k) not in hits], dtype=np.int64)
    ex = choose_executor(inp, todo, executor=executor, workers=workers, cluster=cluster)
    nworkers = getattr(ex, "workers", 2 if ex.name == "dask" else 1)
    size = chunk_size or default_chunk_size(inp, todo, nworkers)
    todo_parts = chunks(inp, size, todo)
    total = len(runnable)
    done = len(hits)
    if progress:
        progress(done, total)
    skipped = np.setdiff1d(np.arange(inp.pairs), runnable)
    if len(skipped):
        parts.append(_untested(inp, skipped))
    if todo_parts:
        for part in ex.run(inp, todo_parts):
            parts.append(part)
            if cache is not None and win is not None:
                cache.save(
                    win.timeframe, win.start_us, win.end_us, key, _rows(inp, part), _now_us()
                )
            done += len(part.index)
            if progress:
                progress(done, total)
    result = finish(inp, merge(inp, parts), liquidity=liquidity)
    return ScanRun(
        result,
        ex.name if todo_parts else "cache",
        inp.pairs,
        len(todo),
        len(hits),
        len(todo_parts),
        time.perf_counter() - t0,
    )


def _untested(inp: ScanInput, idx: np.ndarray) -> ChunkResult:
    k = len(idx)
    return ChunkResult(
        idx,
        np.full(k, np.nan),
        np.full(k, -1, dtype=np.int64),
        np.zeros(k, dtype=np.int64),
        np.full(k, np.nan),
        np.full(k, np.nan),
        np.full(k, np.nan),
        inp.status[idx].copy(),
    )


def _now_us() -> int:
    return time.time_ns() // 1000


__all__ = ["PairCache", "Progress", "ScanRun", "Window", "run_scan"]
