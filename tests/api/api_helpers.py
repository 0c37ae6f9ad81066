"""Shared values and builders of the API tests (imported as ``api_helpers``)."""

from __future__ import annotations

from typing import Any

from statarb.config import Settings

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0 = 1_723_118_400_000  # 2024-08-08T12:00:00Z in ms


def make_settings(sqlite_url: str, **kw: Any) -> Settings:
    base: dict[str, Any] = {"store_url": sqlite_url, "api_token": TOKEN,
                            "timeframes": ["1s", "1m"], "flush_interval": 0.02,
                            "trusted_hosts": ["127.0.0.1", "localhost", "testserver"]}  # fmt: skip
    base.update(kw)
    return Settings(**base)


def ticks(symbol: str, prices: list[float], *, start_ms: int = T0, step_ms: int = 1000,
          first_id: int = 1) -> list[dict[str, Any]]:  # fmt: skip
    """Ticks one ``step_ms`` apart with ids from ``first_id``."""
    return [{"symbol": symbol, "ts": start_ms + i * step_ms, "price": p, "size": 1.0 + i % 3,
             "is_buyer_maker": i % 2 == 0, "trade_id": first_id + i}
            for i, p in enumerate(prices)]  # fmt: skip
