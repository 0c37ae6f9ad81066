"""Schemathesis against /openapi.json of a live server: no server errors on generated requests."""

from __future__ import annotations

from typing import Any

import schemathesis
from api_helpers import AUTH
from hypothesis import HealthCheck, given, settings


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
