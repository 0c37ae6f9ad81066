"""Load the compiled bar kernels before a live feed starts.

The first bar built in a process imports numba and loads (or, with an empty cache, compiles)
the bar kernels: from a fraction of a second to seconds. Done inside the store writer, that
stalls the first flush and shows up as receipt-to-stored latency; :func:`warm_bar_kernels` does
it up front, in a worker thread of the caller's choice, before any frame is read.
"""

from __future__ import annotations

import logging
import time

import numpy as np

log = logging.getLogger(__name__)


def warm_bar_kernels() -> float:
    """Build bars from three synthetic ticks (every kernel the live path uses); return seconds."""
    from statarb.bars import BarBuilder
    from statarb.model import TickBatch

    t0 = time.perf_counter()
    ticks = TickBatch(
        "WARMUP",
        np.array([0, 1_000_000, 61_000_000], dtype=np.int64),
        np.array([1.0, 2.0, 3.0]),
        np.array([1.0, 1.0, 1.0]),
        np.array([0, 1, 0], dtype=np.int8),
        np.array([1, 2, 3], dtype=np.int64),
    )
    builder = BarBuilder("WARMUP", "1m")
    builder.update(ticks)
    builder.close_until(120_000_000)
    took = time.perf_counter() - t0
    log.debug("bar kernels ready in %.3f s", took)
    return took


__all__ = ["warm_bar_kernels"]
