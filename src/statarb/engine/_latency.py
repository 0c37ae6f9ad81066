"""Per-stage latency of the live path: exchange -> receipt -> processed/stored -> alert."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

#: the stages measured, each from the tick's exchange time or receipt time
STAGES: tuple[str, ...] = ("receipt", "processed", "alert", "book", "paper")
#: upper bounds (seconds) of the latency histogram buckets (``+Inf`` implied)
BUCKETS_SECONDS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)  # fmt: skip
_BOUNDS_US = np.array([round(b * 1e6) for b in BUCKETS_SECONDS], dtype=np.int64)


class LatencyStats:
    """Bounded reservoirs of latencies in µs per stage, summarised as quantiles in ms.

    Stages: ``receipt`` = receipt time - exchange time; ``processed`` = bars, analytics and
    alert evaluation done - receipt; ``alert`` = alert published on the hub - receipt of the
    tick that fired it (the tick that crossed the threshold, or that closed the bar of a rule
    on closed bars; docs/alerts-latency.md); ``book`` = a book pair's analytics published -
    receipt of the tick that closed its bar; ``paper`` = the paper trader decided on that
    update - the same receipt (its cost over ``book``). The ``stored`` stage (row committed -
    receipt) is measured by the writer and merged in by :meth:`~statarb.engine.Engine.status`.
    """

    def __init__(self, size: int = 8192) -> None:
        self._data: dict[str, deque[int]] = {s: deque(maxlen=size) for s in STAGES}
        self.counts: dict[str, int] = dict.fromkeys(STAGES, 0)
        # per stage: observations per bucket (last = above every bound) and their sum in µs
        self._buckets = {s: np.zeros(len(_BOUNDS_US) + 1, dtype=np.int64) for s in STAGES}
        self._sum_us: dict[str, int] = dict.fromkeys(STAGES, 0)

    def add(self, stage: str, us: int) -> None:
        """Record one latency."""
        self._data[stage].append(us)
        self.counts[stage] += 1
        self._buckets[stage][int(np.searchsorted(_BOUNDS_US, us, side="left"))] += 1
        self._sum_us[stage] += int(us)

    def extend(self, stage: str, values: Any) -> None:
        """Record many latencies (an array or iterable of µs)."""
        arr = np.asarray(values, dtype=np.int64)
        self._data[stage].extend(arr.tolist())
        self.counts[stage] += len(arr)
        if len(arr):
            idx = np.searchsorted(_BOUNDS_US, arr, side="left")
            self._buckets[stage] += np.bincount(idx, minlength=len(_BOUNDS_US) + 1)
            self._sum_us[stage] += int(arr.sum())

    def histogram(self, stage: str) -> tuple[list[tuple[float, int]], float, int]:
        """Every observation of a stage since start, for a Prometheus histogram.

        Returns ``([(upper bound s, cumulative count), ...], sum s, count)``; the last bound is
        ``inf``.
        """
        cum = np.cumsum(self._buckets[stage]).tolist()
        bounds = [*BUCKETS_SECONDS, float("inf")]
        return list(zip(bounds, cum, strict=True)), self._sum_us[stage] / 1e6, int(cum[-1])

    def quantiles(self, stage: str) -> dict[str, float | int | None]:
        """``{"count", "p50_ms", "p99_ms", "max_ms"}`` of one stage."""
        data = self._data[stage]
        if not data:
            return {"count": self.counts[stage], "p50_ms": None, "p99_ms": None, "max_ms": None}
        arr = np.fromiter(data, np.int64, len(data)) / 1000.0
        p50, p99 = np.percentile(arr, [50, 99])
        return {"count": self.counts[stage], "p50_ms": round(float(p50), 3),
                "p99_ms": round(float(p99), 3), "max_ms": round(float(arr.max()), 3)}  # fmt: skip

    def to_dict(self) -> dict[str, dict[str, float | int | None]]:
        """Quantiles of every stage."""
        return {s: self.quantiles(s) for s in STAGES}


__all__ = ["BUCKETS_SECONDS", "STAGES", "LatencyStats"]
