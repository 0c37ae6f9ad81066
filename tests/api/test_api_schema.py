"""Schemathesis against /openapi.json of a live server: no server errors on generated requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from api_helpers import AUTH, make_settings, ticks
from hypothesis import HealthCheck, given, settings

from _ports import free_port
from statarb.api import create_app


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = Path(tmp_path_factory.mktemp("schema")) / "db.sqlite"
    app = create_app(make_settings(f"sqlite:///{db}"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    rows = ticks("BTCUSDT", [100.0 + i for i in range(120)], step_ms=5000)
    rows += ticks("ETHUSDT", [10.0 + i % 7 for i in range(120)], step_ms=5000)
    httpx.post(url + "/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH).raise_for_status()
    yield url
    server.should_exit = True
    thread.join(10)


def test_no_server_errors(live_url: str) -> None:
    schema = schemathesis.openapi.from_url(live_url + "/openapi.json")
    failures: list[str] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 15

    def make_check() -> Any:
        def check(case: Any) -> None:
            _call(case)

        return check

    def _call(case: Any) -> None:
        response = case.call(base_url=live_url, headers=AUTH, timeout=20)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path}: "
                            f"{response.status_code} {response.text[:200]}")  # fmt: skip

    for op in operations:
        given(case=op.as_strategy())(
            settings(max_examples=10, deadline=None, database=None,
                     suppress_health_check=list(HealthCheck))(make_check())
        )()  # fmt: skip
    assert not failures, "\n".join(failures)
