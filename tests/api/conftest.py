"""The real app on a temporary SQLite store, driven through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_helpers import make_settings
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
