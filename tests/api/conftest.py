"""The real app on a temporary SQLite store, driven through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_helpers import AUTH, make_settings, ticks
from fastapi.testclient import TestClient

from statarb.api import create_app


@pytest.fixture
def app_factory(sqlite_url: str) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**kw: Any) -> TestClient:
        opts = {k: kw.pop(k) for k in ("max_body_bytes",) if k in kw}
        client = TestClient(create_app(make_settings(sqlite_url, **kw), **opts))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(app_factory: Callable[..., TestClient]) -> TestClient:
    return app_factory()


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn on a free port, holding a few minutes of two symbols' ticks."""
    import threading
    import time
    from pathlib import Path

    import httpx
    import uvicorn

    from _ports import free_port

    db = Path(tmp_path_factory.mktemp("live")) / "db.sqlite"
    server = uvicorn.Server(uvicorn.Config(create_app(make_settings(f"sqlite:///{db}")),
                                           host="127.0.0.1", port=free_port(),
                                           log_level="error"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # a safety net: the loop ends when the server is up
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    url = f"http://127.0.0.1:{server.config.port}"
    rows = ticks("BTCUSDT", [100.0 + i for i in range(120)], step_ms=5000)
    rows += ticks("ETHUSDT", [10.0 + i % 7 for i in range(120)], step_ms=5000)
    httpx.post(url + "/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH).raise_for_status()
    yield url
    server.should_exit = True
    thread.join(10)
