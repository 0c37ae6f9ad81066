"""Schemathesis conformance: every answer's status, media type and body match /openapi.json."""

from __future__ import annotations

from typing import Any

import schemathesis
from api_helpers import AUTH
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, content_type_conformance, status_code_conformance,
          response_schema_conformance]  # fmt: skip


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
