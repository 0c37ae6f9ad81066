"""The API's lifespan freezes the startup heap once, so full collections skip it."""

from __future__ import annotations

import gc
import sys

from fastapi.testclient import TestClient

from statarb.api import heap


def test_the_startup_heap_is_frozen_once_the_api_runs(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # modules, classes and functions of numpy, pandas, pyarrow, statarb
    assert {"pandas", "pyarrow", "statarb.export", "statarb.history"} <= sys.modules.keys()
    heap.settle()
    assert gc.get_freeze_count() == frozen  # once per process
