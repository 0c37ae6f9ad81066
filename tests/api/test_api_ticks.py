"""POST and GET of ticks through the real app and a SQLite store."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from api_helpers import AUTH, T0, ticks
from fastapi.testclient import TestClient


def test_write_needs_the_token(client: TestClient) -> None:
    one = ticks("BTCUSDT", [100.0])[0]
    r = client.post("/api/v1/ticks", json=one)
    assert r.status_code == 401 and "Bearer" in r.json()["detail"]
    r = client.post("/api/v1/ticks", json=one, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_no_token_configured_refuses_writes_and_says_how(
    app_factory: Callable[..., TestClient],
) -> None:
    c = app_factory(api_token=None)
    r = c.post("/api/v1/ticks", json=ticks("BTCUSDT", [1.0])[0], headers=AUTH)
    assert r.status_code == 403 and "STATARB_API_TOKEN" in r.json()["detail"]
    assert c.get("/api/v1/symbols").status_code == 200


def test_post_one_then_read_back(client: TestClient) -> None:
    one = {"symbol": "btcusdt", "ts": "2024-08-08T12:00:00.5Z", "price": 61000.5, "size": 0.25}
    r = client.post("/api/v1/ticks?wait=true", json=one, headers=AUTH)
    assert r.status_code == 200 and r.json()["accepted"] == 1
    got = client.get("/api/v1/ticks/BTCUSDT").json()
    assert got == [{"symbol": "BTCUSDT", "ts": T0 * 1000 + 500_000,
                    "time": "2024-08-08T12:00:00.500Z", "price": 61000.5, "size": 0.25,
                    "is_buyer_maker": None, "trade_id": None}]  # fmt: skip
    syms = client.get("/api/v1/symbols").json()
    assert [s["symbol"] for s in syms] == ["BTCUSDT"] and syms[0]["ticks"] == 1


def test_bad_tick_names_the_field(client: TestClient) -> None:
    r = client.post("/api/v1/ticks", json={"symbol": "BTCUSDT", "ts": T0, "price": -1,
                                           "size": 1}, headers=AUTH)  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "price"]
    r = client.post("/api/v1/ticks", json={"symbol": "BTCUSDT", "ts": "yesterday", "price": 1,
                                           "size": 1}, headers=AUTH)  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "ts"]


def test_batch_reports_bad_rows_and_stores_good_ones(client: TestClient) -> None:
    rows = ticks("ETHUSDT", [10.0, 11.0, 12.0, 13.0])
    rows[1]["price"] = "abc"
    rows[3] = {**rows[3], "size": -2}
    r = client.post("/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH)
    body = r.json()
    assert r.status_code == 200 and body["accepted"] == 2 and body["rejected"] == 2
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "price"), (3, "size")]
    prices = [t["price"] for t in client.get("/api/v1/ticks/ETHUSDT").json()]
    assert prices == [10.0, 12.0]


def test_strict_batch_stores_nothing(client: TestClient) -> None:
    rows = ticks("ETHUSDT", [10.0, 11.0])
    rows[0]["symbol"] = "ETH/USDT"
    r = client.post("/api/v1/ticks/batch?strict=true&wait=true", json=rows, headers=AUTH)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["accepted"] == 0 and r.json()["rows"][0] == {
        "index": 0,
        "field": "symbol",
        "message": r.json()["rows"][0]["message"],
    }
    assert r.json()["errors"][0]["loc"] == ["body", 0, "symbol"]
    assert client.get("/api/v1/ticks/ETHUSDT").json() == []


def test_ndjson_batch_with_a_broken_line(client: TestClient) -> None:
    import orjson

    rows = ticks("SOLUSDT", [1.0, 2.0, 3.0])
    body = b"\n".join([orjson.dumps(rows[0]), b"{not json", orjson.dumps(rows[1]),
                       orjson.dumps(rows[2])])  # fmt: skip
    r = client.post("/api/v1/ticks/batch?wait=true", content=body,
                    headers={**AUTH, "Content-Type": "application/x-ndjson"})  # fmt: skip
    assert r.json() == {"accepted": 3, "rejected": 1,
                        "errors": [{"index": 1, "field": "row",
                                    "message": "line is not valid JSON"}]}  # fmt: skip
    assert len(client.get("/api/v1/ticks/SOLUSDT").json()) == 3


def test_duplicates_by_trade_id_are_stored_once(client: TestClient) -> None:
    rows = ticks("BTCUSDT", [1.0, 2.0, 3.0])
    for _ in range(2):
        client.post("/api/v1/ticks/batch?wait=true", json=rows, headers=AUTH)
    assert len(client.get("/api/v1/ticks/BTCUSDT").json()) == 3


def test_range_limit_and_csv(client: TestClient) -> None:
    client.post("/api/v1/ticks/batch?wait=true", json=ticks("BTCUSDT", [1.0, 2.0, 3.0, 4.0]),
                headers=AUTH)  # fmt: skip
    got = client.get(f"/api/v1/ticks/BTCUSDT?start={T0 + 1000}&end=2024-08-08T12:00:03Z").json()
    assert [t["price"] for t in got] == [2.0, 3.0]
    assert len(client.get("/api/v1/ticks/BTCUSDT?limit=3").json()) == 3
    r = client.get("/api/v1/ticks/BTCUSDT?format=csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [float(x["price"]) for x in rows] == [1.0, 2.0, 3.0, 4.0]
    assert rows[0]["time"].startswith("2024-08-08T12:00:00")
    bad = client.get("/api/v1/ticks/BTCUSDT?start=someday")
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "start"]


def test_request_too_large(app_factory: Callable[..., TestClient]) -> None:
    c = app_factory(max_body_bytes=1000)
    r = c.post("/api/v1/ticks/batch", json=ticks("BTCUSDT", [1.0] * 50), headers=AUTH)
    assert r.status_code == 413 and "too large" in r.json()["detail"]


def test_file_upload_uses_the_importer(client: TestClient) -> None:
    path = Path(__file__).resolve().parents[1] / "fixtures" / "BTCUSDT-aggTrades-2024-01-01.csv"
    with path.open("rb") as fh:
        r = client.post("/api/v1/ticks/file", files={"file": (path.name, fh, "text/csv")},
                        headers=AUTH)  # fmt: skip
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["ticks"] > 0 and report["rejected"] == 0
    info = {s["symbol"]: s for s in client.get("/api/v1/symbols").json()}
    assert info["BTCUSDT"]["ticks"] == report["ticks"]


def test_file_upload_of_garbage_is_a_clear_422(client: TestClient) -> None:
    r = client.post("/api/v1/ticks/file", files={"file": ("x.bin", b"\x00\x01\x02", "a/b")},
                    headers=AUTH)  # fmt: skip
    assert r.status_code == 422 and "x.bin" in r.json()["detail"]
