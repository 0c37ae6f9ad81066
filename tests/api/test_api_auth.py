"""Every write operation in the OpenAPI schema refuses requests without the right token."""

from __future__ import annotations

import re

from api_helpers import AUTH
from fastapi.testclient import TestClient

WRITE = {"post", "put", "patch", "delete"}


def _path(template: str) -> str:
    """A concrete path for a template (``{rule_id}`` -> ``1``, symbols -> ``BTCUSDT``)."""
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1).endswith("id") else "BTCUSDT", template)


def test_all_write_operations_need_the_token(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    ops = [(m, p) for p, item in schema["paths"].items() for m in item if m in WRITE]
    assert len(ops) >= 8, ops
    for method, template in ops:
        path = _path(template)
        for headers, want in (({}, 403), ({"Authorization": "Bearer wrong"}, 403)):
            r = client.request(method.upper(), path, headers=headers, json={})
            assert r.status_code in (401, want), f"{method} {path}: {r.status_code} {r.text}"
        # and the same operation gets past authentication with the token (any non-auth answer)
        r = client.request(method.upper(), path, headers=AUTH, json={})
        assert r.status_code not in (401, 403), f"{method} {path} refused with the token"


def test_reads_are_open(client: TestClient) -> None:
    for path in ("/health", "/api/v1/symbols", "/api/v1/alerts/rules", "/openapi.json"):
        assert client.get(path).status_code == 200, path
