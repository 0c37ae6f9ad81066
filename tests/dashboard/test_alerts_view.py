"""The Alerts view against a real engine (``statarb serve``): create, edit, disable, delete."""

from __future__ import annotations

import os

import httpx
from streamlit.testing.v1 import AppTest

from statarb.dashboard.launch import APP

VIEW = APP.parent / "views" / "alerts.py"


def _rules(api: str) -> list[dict]:
    # with the token: webhook URLs are masked for callers without it
    auth = {"Authorization": f"Bearer {os.environ['STATARB_API_TOKEN']}"}  # set by `engine`
    return httpx.get(f"{api}/api/v1/alerts/rules", headers=auth).json()


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_rule_lifecycle_through_the_view(engine: str) -> None:
    at = _ok(AppTest.from_file(str(VIEW), default_timeout=60).run())
    assert "No rules yet." in [i.value for i in at.info]
    _ok(at.number_input(key="al_count").set_value(2).run())
    at.text_input(key="al_name").set_value("wide or cheap")
    at.radio(key="al_op").set_value("or")
    at.number_input(key="al_cool").set_value(60.0)
    at.selectbox(key="al_m0").set_value("zscore")
    at.text_input(key="al_t0").set_value("btcusdt/ethusdt")
    at.selectbox(key="al_o0").set_value(">=")
    at.number_input(key="al_th0").set_value(2.0)
    at.number_input(key="al_h0").set_value(0.5)
    at.selectbox(key="al_m1").set_value("price")
    at.selectbox(key="al_tf1").set_value("tick")
    at.text_input(key="al_t1").set_value("BTCUSDT")
    at.selectbox(key="al_o1").set_value("<")
    at.number_input(key="al_th1").set_value(50_000.0)
    at.selectbox(key="al_wk").set_value("custom")
    at.text_input(key="al_wu").set_value("https://hooks.example/statarb")
    at.text_input(key="al_ws").set_value("s3cret")
    _ok(at.button(key="al_create").click().run())
    assert any("Rule 1 created" in s.value for s in at.success), [e.value for e in at.error]
    (rule,) = _rules(engine)
    assert rule["name"] == "wide or cheap" and rule["cooldown_seconds"] == 60.0
    assert rule["condition"]["op"] == "or"
    first, second = rule["condition"]["children"]
    assert (first["metric"], first["target"], first["operator"], first["threshold"]) == (
        "zscore", "BTCUSDT/ETHUSDT", ">=", 2.0)  # fmt: skip
    assert (second["metric"], second["operator"], second["threshold"]) == ("price", "<", 50_000.0)
    assert [(w["kind"], w["url"]) for w in rule["webhooks"]] == [
        ("custom", "https://hooks.example/statarb")]  # fmt: skip
    assert list(at.dataframe[0].value["name"]) == ["wide or cheap"]

    # the engine masks the webhook secret: saving it back would overwrite the secret
    _ok(at.button(key="al_toggle").click().run())
    assert any("replace '***' with the secret" in e.value for e in at.error)
    assert _rules(engine)[0]["enabled"] is True
    text = at.text_area(key="al_json_1").value
    assert '"secret": "***"' in text and "s3cret" not in text
    text = text.replace('"wide or cheap"', '"renamed"').replace('"***"', '"n3w-secret"')
    at.text_area(key="al_json_1").set_value(text)
    _ok(at.button(key="al_save").click().run())
    assert _rules(engine)[0]["name"] == "renamed"
    assert _rules(engine)[0]["webhooks"][0]["secret"] == "***"  # still kept, still hidden
    _ok(at.button(key="al_delete").click().run())
    assert _rules(engine) == []


def test_bad_rule_is_named_before_sending(engine: str) -> None:
    at = _ok(AppTest.from_file(str(VIEW), default_timeout=60).run())
    at.text_input(key="al_name").set_value("per-tick volume")
    at.selectbox(key="al_m0").set_value("volume")
    at.selectbox(key="al_tf0").set_value("tick")
    at.text_input(key="al_t0").set_value("BTCUSDT")
    _ok(at.button(key="al_create").click().run())
    assert any("Rule not valid: condition.timeframe" in e.value for e in at.error)
    assert _rules(engine) == []


def test_rule_without_secrets_toggles(engine: str) -> None:
    at = _ok(AppTest.from_file(str(VIEW), default_timeout=60).run())
    at.text_input(key="al_name").set_value("cheap btc")
    at.selectbox(key="al_m0").set_value("price")
    at.selectbox(key="al_tf0").set_value("tick")
    at.text_input(key="al_t0").set_value("BTCUSDT")
    at.selectbox(key="al_o0").set_value("<")
    at.number_input(key="al_th0").set_value(10.0)
    _ok(at.button(key="al_create").click().run())
    assert [r["enabled"] for r in _rules(engine)] == [True]
    _ok(at.button(key="al_toggle").click().run())
    assert [r["enabled"] for r in _rules(engine)] == [False]
    assert at.button(key="al_toggle").label == "Enable"
    _ok(at.button(key="al_toggle").click().run())
    assert [r["enabled"] for r in _rules(engine)] == [True]


def test_defaults_are_sensible_and_a_half_built_rule_is_refused(engine: str) -> None:
    at = _ok(AppTest.from_file(str(VIEW), default_timeout=60).run())
    # a z-score rule that re-arms 0.5 below its threshold and stays quiet 5 minutes after firing
    assert at.selectbox(key="al_m0").value == "zscore" and at.number_input(key="al_th0").value == 2
    assert at.number_input(key="al_h0").value == 0.5
    assert at.number_input(key="al_cool").value == 300
    at.text_input(key="al_name").set_value("half built")
    _ok(at.button(key="al_create").click().run())  # no target yet
    assert any("fill in the condition 1 target" in e.value for e in at.error)
    assert _rules(engine) == []


def test_severity_quiet_hours_digest_and_telegram_from_the_form(engine: str) -> None:
    token = "7000000001:AAHdashSECRETtokenSECRETtoken_9"
    at = _ok(AppTest.from_file(str(VIEW), default_timeout=60).run())
    at.text_input(key="al_name").set_value("night watch")
    at.text_input(key="al_t0").set_value("BTCUSDT/ETHUSDT")
    at.selectbox(key="al_sev").set_value("critical")
    at.number_input(key="al_dd").set_value(30.0)
    at.number_input(key="al_dg").set_value(15)
    at.text_input(key="al_qs").set_value("22:00")
    at.text_input(key="al_qe").set_value("07:00")
    at.text_input(key="al_qz").set_value("Europe/London")
    at.checkbox(key="al_qb").uncheck()
    at.text_input(key="al_tc").set_value("-100123")
    at.text_input(key="al_tt").set_value(token)
    _ok(at.button(key="al_create").click().run())
    assert any("Rule 1 created" in s.value for s in at.success), [e.value for e in at.error]
    (rule,) = _rules(engine)
    assert (rule["severity"], rule["dedup_seconds"], rule["digest_minutes"]) == ("critical", 30, 15)
    assert rule["quiet_hours"] == {"start": "22:00", "end": "07:00", "timezone": "Europe/London",
                                   "critical_bypass": False}  # fmt: skip
    assert rule["telegram"] == [{"chat_id": "-100123", "token": token}]
    table = at.dataframe[0].value
    assert list(table["severity"]) == ["critical"]
    assert list(table["quiet_hours"]) == ["22:00-07:00 Europe/London"]
    # the page never shows the bot token, and saving keeps it
    text = at.text_area(key="al_json_1").value
    assert token not in text and '"token": "***"' in text
    _ok(at.button(key="al_toggle").click().run())
    (rule,) = _rules(engine)
    assert rule["enabled"] is False and rule["telegram"][0]["token"] == token
    # a bad time zone is named before anything is sent
    at.text_input(key="al_name").set_value("bad zone")
    at.text_input(key="al_qz").set_value("Mars/Olympus")
    _ok(at.button(key="al_create").click().run())
    assert any("quiet_hours.timezone" in e.value for e in at.error)
