"""Time parameters: plain dates, and out-of-range times refused with a 422 naming the field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_helpers import AUTH, T0, ticks
from fastapi.testclient import TestClient

_BAD = ["1e30", "-1e30", str(10**30), str(-(10**30)), "inf", "nan", "true", "false",
        "9" * 400, "99999-01-01"]  # fmt: skip


def _time_params(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, name) of every query parameter that takes a time, found by its description."""
    out = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method != "get":
                continue
            for p in op.get("parameters", []):
                if p["in"] == "query" and "ISO-8601" in p.get("description", ""):
                    out.append((path, p["name"]))
    return out


def _concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", lambda m: "1" if m.group() == "{rule_id}" else "BTCUSDT",
                  path).replace("/BTCUSDT/BTCUSDT", "/BTCUSDT/ETHUSDT")  # fmt: skip


def test_every_time_parameter_refuses_out_of_range_times(client: TestClient) -> None:
    params = _time_params(client.get("/openapi.json").json())
    assert len(params) >= 10  # start and end of ticks, bars, stats, pairs, alerts history
    for path, name in params:
        for value in _BAD:
            r = client.get(_concrete(path), params={name: value})
            assert r.status_code == 422, (path, name, value, r.text)
            body = r.json()
            assert body["errors"][0]["loc"] == ["query", name], (path, name, value, body)
            assert name in body["detail"]


def test_plain_dates_are_utc_midnight(client: TestClient) -> None:
    rows = ticks("BTCUSDT", [1.0, 2.0, 3.0], start_ms=T0 - 43_200_000, step_ms=43_200_000)
    client.post("/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH).raise_for_status()
    day = client.get("/api/v1/ticks/BTCUSDT", params={"start": "2024-08-08", "end": "2024-08-09"})
    iso = client.get("/api/v1/ticks/BTCUSDT", params={"start": "2024-08-08T00:00:00Z",
                                                       "end": "2024-08-09T00:00:00Z"})  # fmt: skip
    assert day.status_code == 200 and day.json() == iso.json()
    assert [t["time"] for t in day.json()] == ["2024-08-08T00:00:00.000Z",
                                              "2024-08-08T12:00:00.000Z"]  # fmt: skip
    assert client.get("/api/v1/ticks/BTCUSDT?start=2024-02-30").status_code == 422


@pytest.mark.parametrize("ts", [253_402_300_799_000, True, 1, -1, 4_102_444_800_000,
                                "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", 1e30])  # fmt: skip
def test_tick_times_out_of_range_are_refused(client: TestClient, ts: Any) -> None:
    row = {**ticks("BTCUSDT", [1.0])[0], "ts": ts}
    one = client.post("/api/v1/ticks?wait=true", json=row, headers=AUTH)
    assert one.status_code == 422 and one.json()["errors"][0]["loc"] == ["body", "ts"], one.text
    batch = client.post("/api/v1/ticks/batch?wait=true", json=[row], headers=AUTH).json()
    assert batch["accepted"] == 0 and batch["errors"][0]["field"] == "ts"
    assert client.get("/api/v1/ticks/BTCUSDT").json() == []
