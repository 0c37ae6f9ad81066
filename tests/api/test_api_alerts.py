"""Alert rules CRUD, persistence across a restart, and history of triggers from posted ticks."""

from __future__ import annotations

from collections.abc import Callable

from api_helpers import AUTH, T0, ticks
from fastapi.testclient import TestClient

RULE = {
    "name": "btc above 105",
    "condition": {"metric": "price", "target": "BTCUSDT", "operator": "crosses_above",
                  "threshold": 105.0},
    "cooldown_seconds": 0,
}  # fmt: skip


def test_crud_and_field_errors(client: TestClient) -> None:
    r = client.post("/api/v1/alerts/rules", json=RULE, headers=AUTH)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["id"] >= 1 and rule["summary"] == "price(BTCUSDT, tick) crosses_above 105"
    assert client.get(f"/api/v1/alerts/rules/{rule['id']}").json()["name"] == RULE["name"]
    wrong = {**RULE["condition"], "operator": "=="}  # type: ignore[dict-item]
    bad = {**RULE, "condition": {"op": "and", "children": [RULE["condition"], wrong]}}
    r = client.post("/api/v1/alerts/rules", json=bad, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "condition", "children[1]", "operator"]
    r = client.post("/api/v1/alerts/rules", json={**RULE, "condition": {
        "metric": "zscore", "target": "A/B", "timeframe": "5m", "operator": ">", "threshold": 2}},
        headers=AUTH)  # fmt: skip
    assert r.status_code == 422 and "not computed live" in r.json()["errors"][0]["message"]
    put = client.put(f"/api/v1/alerts/rules/{rule['id']}", json={**RULE, "enabled": False},
                     headers=AUTH)  # fmt: skip
    assert put.status_code == 200 and put.json()["enabled"] is False
    assert client.delete(f"/api/v1/alerts/rules/{rule['id']}").status_code == 401
    assert client.delete(f"/api/v1/alerts/rules/{rule['id']}", headers=AUTH).status_code == 204
    assert client.get("/api/v1/alerts/rules").json() == []
    assert client.delete(f"/api/v1/alerts/rules/{rule['id']}", headers=AUTH).status_code == 404


def test_secrets_are_masked(client: TestClient) -> None:
    hook = {"kind": "custom", "url": "http://127.0.0.1:9/", "secret": "s3cr3t"}
    r = client.post("/api/v1/alerts/rules", json={**RULE, "webhooks": [hook]}, headers=AUTH)
    assert r.json()["webhooks"] == [{"kind": "custom", "url": hook["url"], "secret": "***"}]
    assert "s3cr3t" not in client.get("/api/v1/alerts/rules").text


def test_rules_survive_a_restart_and_fire_once(app_factory: Callable[..., TestClient]) -> None:
    first = app_factory()
    rid = first.post("/api/v1/alerts/rules", json=RULE, headers=AUTH).json()["id"]
    first.__exit__(None, None, None)
    second = app_factory()
    assert [r["id"] for r in second.get("/api/v1/alerts/rules").json()] == [rid]
    prices = [100.0, 104.0, 106.0, 107.0, 108.0, 103.0, 110.0]
    r = second.post("/api/v1/ticks/batch?wait=true", json=ticks("BTCUSDT", prices), headers=AUTH)
    assert r.json()["accepted"] == 7
    hist = second.get(f"/api/v1/alerts/history?rule_id={rid}").json()
    # crosses at 104 -> 106 and 103 -> 110: two triggers, newest first, values recorded
    assert [h["values"]["price:BTCUSDT:tick"] for h in hist] == [110.0, 106.0]
    assert [h["time"] for h in hist] == ["2024-08-08T12:00:06.000Z", "2024-08-08T12:00:02.000Z"]
    assert all(h["delivery"] == "none" for h in hist)


def test_cooldown_survives_a_restart(app_factory: Callable[..., TestClient]) -> None:
    rule = {**RULE, "cooldown_seconds": 3600}
    first = app_factory()
    rid = first.post("/api/v1/alerts/rules", json=rule, headers=AUTH).json()["id"]
    first.post("/api/v1/ticks/batch?wait=true", json=ticks("BTCUSDT", [100.0, 106.0]),
               headers=AUTH)  # fmt: skip
    assert len(first.get(f"/api/v1/alerts/history?rule_id={rid}").json()) == 1
    first.__exit__(None, None, None)
    second = app_factory()
    # another cross ten seconds later (exchange time): still inside the hour of cooldown
    later = ticks("BTCUSDT", [100.0, 107.0], start_ms=T0 + 10_000, first_id=10)
    second.post("/api/v1/ticks/batch?wait=true", json=later, headers=AUTH)
    assert len(second.get(f"/api/v1/alerts/history?rule_id={rid}").json()) == 1


def test_severity_and_delivery_policy_round_trip_and_bad_fields_are_named(
    client: TestClient,
) -> None:
    policy = {"severity": "critical", "dedup_seconds": 30, "dedup_key": "btc levels",
              "digest_minutes": 15,
              "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Asia/Tokyo",
                              "critical_bypass": False}}  # fmt: skip
    r = client.post("/api/v1/alerts/rules", json={**RULE, **policy}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in policy} == policy
    got = client.get(f"/api/v1/alerts/rules/{r.json()['id']}").json()
    assert {k: got[k] for k in policy} == policy
    for bad, loc in [({"severity": "urgent"}, ["body", "severity"]),
                     ({"digest_minutes": -5}, ["body", "digest_minutes"]),
                     ({"quiet_hours": {"start": "22:00", "end": "7"}},
                      ["body", "quiet_hours", "end"]),
                     ({"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Nowhere"}},
                      ["body", "quiet_hours", "timezone"]),
                     ({"telegram": [{"chat_id": "-1", "token": "no"}]},
                      ["body", "telegram[0]", "token"])]:  # fmt: skip
        r = client.post("/api/v1/alerts/rules", json={**RULE, **bad}, headers=AUTH)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["loc"][: len(loc)] == loc, (bad, r.json())
    # every event carries its rule's severity
    r = client.post("/api/v1/ticks/batch?wait=true", json=ticks("BTCUSDT", [100.0, 106.0]),
                    headers=AUTH)  # fmt: skip
    (event,) = client.get("/api/v1/alerts/history").json()
    assert event["severity"] == "critical"
    assert event["delivery"] == "none"  # no channel: nothing to hold or send
