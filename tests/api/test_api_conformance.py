"""Schemathesis conformance: every answer's status, media type and body match /openapi.json."""

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
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from _ports import free_port
from statarb.api import create_app

CHECKS = [not_a_server_error, content_type_conformance, status_code_conformance,
          response_schema_conformance]  # fmt: skip


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = Path(tmp_path_factory.mktemp("conformance")) / "db.sqlite"
    server = uvicorn.Server(uvicorn.Config(create_app(make_settings(f"sqlite:///{db}")),
                                           host="127.0.0.1", port=free_port(),
                                           log_level="error"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    url = f"http://127.0.0.1:{server.config.port}"
    rows = ticks("BTCUSDT", [100.0 + i for i in range(120)], step_ms=5000)
    rows += ticks("ETHUSDT", [10.0 + i % 7 for i in range(120)], step_ms=5000)
    httpx.post(url + "/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH).raise_for_status()
    yield url
    server.should_exit = True
    thread.join(10)


def test_responses_conform_to_the_schema(live_url: str) -> None:
    schema = schemathesis.openapi.from_url(live_url + "/openapi.json")
    failures: list[str] = []

    def run(op: Any) -> None:
        @given(case=op.as_strategy())
        @settings(max_examples=5, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def check(case: Any) -> None:
            try:
                case.call_and_validate(base_url=live_url, headers=AUTH, checks=CHECKS, timeout=20)
            except Exception as exc:  # collect every operation's failures, then report them all
                failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:400]}")

        check()

    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 20
    for op in operations:
        run(op)
    assert not failures, "\n".join(failures[:20])
