"""The real app on a temporary SQLite store, driven through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from statarb.api import create_app
from statarb.config import Settings

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0 = 1_723_118_400_000  # 2024-08-08T12:00:00Z in ms


def make_settings(sqlite_url: str, **kw: Any) -> Settings:
    base: dict[str, Any] = {"store_url": sqlite_url, "api_token": TOKEN,
                            "timeframes": ["1s", "1m"], "flush_interval": 0.02}  # fmt: skip
    base.update(kw)
    return Settings(**base)


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


def ticks(symbol: str, prices: list[float], *, start_ms: int = T0, step_ms: int = 1000,
          first_id: int = 1) -> list[dict[str, Any]]:  # fmt: skip
    """Ticks one ``step_ms`` apart with ids from ``first_id``."""
    return [{"symbol": symbol, "ts": start_ms + i * step_ms, "price": p, "size": 1.0 + i % 3,
             "is_buyer_maker": i % 2 == 0, "trade_id": first_id + i}
            for i, p in enumerate(prices)]  # fmt: skip
