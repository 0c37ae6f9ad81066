"""The published contract: valid OpenAPI, typed responses, one error model, offline docs."""

from __future__ import annotations

import re
from typing import Any

from api_helpers import AUTH
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from statarb.api.problems import PROBLEM_MEDIA, Problem

_METHODS = {"get", "put", "post", "delete", "patch", "head"}


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, m, op) for path, ops in schema["paths"].items() for m, op in ops.items()
            if m in _METHODS]  # fmt: skip


def test_openapi_document_is_valid_and_every_response_typed(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    validate(schema)  # openapi-spec-validator: raises on any violation
    ops = _operations(schema)
    assert len(ops) >= 20
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        for code, resp in op["responses"].items():
            for media, body in resp.get("content", {}).items():
                assert body.get("schema"), f"{where} {code} {media}: empty schema"
            if code == "default" or code.startswith(("4", "5")):
                if path == "/health" and code == "503":
                    continue
                assert list(resp["content"]) == [PROBLEM_MEDIA], f"{where} {code}"
        ok = [c for c in op["responses"] if c.startswith("2")]
        assert ok, where
        for code in ok:
            content = op["responses"][code].get("content")
            assert code == "204" or content, f"{where} {code}: no body declared"
        assert "422" in op["responses"] or not op.get("parameters"), where
        if op.get("security"):
            assert {"401", "403"} <= set(op["responses"]), where
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_MEDIA
    body = Problem.model_validate(r.json()).model_dump()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_every_error_is_problem_details(client: TestClient, app_factory: Any) -> None:
    _problem(client.post("/api/v1/ticks", json={}), 401)
    _problem(app_factory(api_token=None).post("/api/v1/ticks", json={}, headers=AUTH), 403)
    _problem(client.get("/api/v1/alerts/rules/99"), 404)
    _problem(client.get("/api/v1/nothing-here"), 404)
    bad = _problem(client.post("/api/v1/ticks", json={"symbol": "X", "ts": 1}, headers=AUTH), 422)
    fields = {e["field"] for e in bad["errors"]}
    assert {"ts", "price", "size"} <= fields and all(e["loc"][0] == "body" for e in bad["errors"])
    q = _problem(client.get("/api/v1/ticks/BTCUSDT?limit=0"), 422)
    assert q["errors"][0]["loc"] == ["query", "limit"] and "limit" in q["detail"]
    small = app_factory(max_body_bytes=100)
    _problem(small.post("/api/v1/ticks/batch", content=b"[" + b" " * 200 + b"]",
                        headers=AUTH), 413)  # fmt: skip


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        assert urls, page
        assert not [u for u in urls if re.match(r"^(https?:)?//", u)], (page, urls)
        for u in urls:
            if u.startswith("/docs-assets/"):
                assert client.get(u).status_code == 200, u
    assert "swagger-ui-bundle.js" in client.get("/docs").text
    assert client.get("/docs-assets/redoc.standalone.js").status_code == 200
