"""The bar kernels are loaded by the warm-up, before any writer runs."""

from __future__ import annotations

from statarb.bars import _kernels
from statarb.ingest.warm import warm_bar_kernels


def test_warm_up_loads_the_tick_kernel() -> None:
    assert warm_bar_kernels() >= 0.0
    assert _kernels.ohlcv_from_ticks.signatures  # compiled or loaded from the cache
