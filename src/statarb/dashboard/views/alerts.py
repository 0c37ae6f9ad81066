"""Alerts: create, edit, enable/disable and delete rules (AND/OR groups, webhooks); history."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from statarb.alerts.policy import SEVERITIES
from statarb.alerts.rules import OPERATORS, PAIR_METRICS, SYMBOL_METRICS, TICK, WEBHOOK_KINDS
from statarb.dashboard import client, data, ui
from statarb.dashboard.rule_form import (
    MASK,
    build_rule,
    condition_dict,
    hide_tokens,
    masked_telegram,
    masked_webhooks,
    quiet_hours_dict,
    restore_tokens,
)
from statarb.errors import AlertRuleError

st.title("Alerts")
METRICS = sorted(SYMBOL_METRICS | PAIR_METRICS)
TFS = [TICK, *data.TIMEFRAMES]
#: the form's starting rule: |z| of a pair above 2 on 1m bars, re-armed below 1.5, at most
#: one notification per 5 minutes (0/0 let a noisy value send a webhook every tick)
DEFAULT_METRIC, DEFAULT_THRESHOLD, DEFAULT_HYSTERESIS, DEFAULT_COOLDOWN = "zscore", 2.0, 0.5, 300.0


def _quiet_text(q: dict[str, Any] | None) -> str:
    """``22:00-07:00 Europe/London`` or empty."""
    return f"{q['start']}-{q['end']} {q['timezone']}" if q else ""


rules = ui.engine_call(client.api, "GET", "/api/v1/alerts/rules")
if rules is None:
    st.info("Rules live in the engine: start it (`statarb serve` / `statarb up`) to manage them.")
    st.stop()

st.subheader("New rule")
count = int(
    st.number_input("Conditions", 1, 6, 1, key="al_count", help="more than one: an AND/OR group")
)
# Enter in a field does not submit: only the button does, and a rule missing its name or
# target is refused with a message (nothing half-built reaches the engine)
with st.form("al_new", clear_on_submit=False, enter_to_submit=False):
    c = st.columns([4, 1, 1])
    name = c[0].text_input("Name", key="al_name")
    op = c[1].radio("Combine", ["and", "or"], horizontal=True, key="al_op")
    cooldown = c[2].number_input(
        "Cooldown (s)",
        0.0,
        86_400.0,
        DEFAULT_COOLDOWN,
        key="al_cool",
        help="after firing, the rule stays silent this long",
    )
    st.caption(
        "Targets: a symbol (BTCUSDT) for price/volume/... or a pair (BTCUSDT/ETHUSDT) for "
        "spread, zscore, hedge_ratio ...; timeframe 'tick' = per-tick value."
    )
    conds = []
    for i in range(count):
        r = st.columns([2, 3, 1.4, 1.6, 2, 1.4])
        conds.append(
            condition_dict(
                r[0].selectbox(
                    "Metric", METRICS, index=METRICS.index(DEFAULT_METRIC), key=f"al_m{i}"
                ),
                r[1].text_input("Target", key=f"al_t{i}", placeholder="BTCUSDT or BTCUSDT/ETHUSDT"),
                r[2].selectbox("Timeframe", TFS, index=TFS.index("1m"), key=f"al_tf{i}"),
                r[3].selectbox("Operator", OPERATORS, index=OPERATORS.index(">"), key=f"al_o{i}"),
                r[4].number_input(
                    "Threshold", value=DEFAULT_THRESHOLD, format="%.6g", key=f"al_th{i}"
                ),
                r[5].number_input(
                    "Hysteresis",
                    0.0,
                    value=DEFAULT_HYSTERESIS,
                    format="%.4g",
                    key=f"al_h{i}",
                    help="in the metric's units: after firing, the value must come back past "
                    "threshold - hysteresis before the rule can fire again",
                ),
            )
        )
    w = st.columns([1, 3, 2])
    hook = {
        "kind": w[0].selectbox("Webhook", WEBHOOK_KINDS, key="al_wk"),
        "url": w[1].text_input("Webhook URL (optional)", key="al_wu"),
        "secret": w[2].text_input("Secret (custom)", type="password", key="al_ws"),
    }
    t = st.columns([2, 3])
    chat = {
        "chat_id": t[0].text_input("Telegram chat id (optional)", key="al_tc"),
        "token": t[1].text_input("Telegram bot token", type="password", key="al_tt"),
    }
    p = st.columns([1.3, 1.1, 1.1, 0.9, 0.9, 1.3, 1.7])
    severity = p[0].selectbox("Severity", SEVERITIES, index=1, key="al_sev")
    dedup = p[1].number_input("Dedup (s)", 0.0, 3600.0, 0.0, key="al_dd",
                              help="rules with the same condition firing within this window "
                              "on other pairs: one message naming every pair")  # fmt: skip
    digest = int(p[2].number_input("Digest (min)", 0, 1440, 0, key="al_dg",
                                   help="one message per N minutes (0: each trigger)"))  # fmt: skip
    q_start = p[3].text_input("Quiet from", key="al_qs", placeholder="22:00")
    q_end = p[4].text_input("Quiet to", key="al_qe", placeholder="07:00")
    q_tz = p[5].text_input("Time zone", "UTC", key="al_qz")
    q_bypass = p[6].checkbox("Critical bypass", value=True, key="al_qb",
                             help="critical rules are sent during quiet hours")  # fmt: skip
    enabled = st.checkbox("Enabled", value=True, key="al_en")
    if st.form_submit_button("Create rule", key="al_create"):
        missing = [f"condition {i + 1} target" for i, c in enumerate(conds) if not c["target"]]
        if not name.strip():
            missing.insert(0, "name")
        try:
            if missing:
                raise AlertRuleError(f"fill in the {', '.join(missing)}")
            rule = build_rule(
                name, op, conds, cooldown_seconds=cooldown, enabled=enabled, webhooks=[hook],
                severity=severity, dedup_seconds=dedup, digest_minutes=digest,
                quiet_hours=quiet_hours_dict(q_start, q_end, q_tz, critical_bypass=q_bypass),
                telegram=[chat],
            )  # fmt: skip
        except AlertRuleError as exc:
            st.error(f"Rule not valid: {exc}")
        else:
            saved = ui.engine_call(client.api, "POST", "/api/v1/alerts/rules", json=rule)
            if saved is not None:
                st.success(f"Rule {saved['id']} created: {saved['summary']}")
                rules = client.api("GET", "/api/v1/alerts/rules")

st.subheader("Rules")
if not rules:
    st.info("No rules yet.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": r["id"],
                    "name": r["name"],
                    "enabled": r["enabled"],
                    "severity": r.get("severity", "warning"),
                    "condition": r["summary"],
                    "cooldown_s": r["cooldown_seconds"],
                    "webhooks": len(r["webhooks"]),
                    "telegram": len(r.get("telegram") or []),
                    "dedup_s": r.get("dedup_seconds", 0.0),
                    "digest_min": r.get("digest_minutes", 0),
                    "quiet_hours": _quiet_text(r.get("quiet_hours")),
                }
                for r in rules
            ]
        ),
        hide_index=True,
    )
    by_id = {r["id"]: r for r in rules}
    rid = st.selectbox(
        "Rule", list(by_id), format_func=lambda i: f"{i}: {by_id[i]['name']}", key="al_pick"
    )
    current = by_id[rid]
    body = {
        k: current[k]
        for k in ("name", "condition", "cooldown_seconds", "enabled", "webhooks", "metadata",
                  "severity", "dedup_seconds", "dedup_key", "quiet_hours", "digest_minutes",
                  "telegram")
        if k in current
    }  # fmt: skip
    text = st.text_area(
        'Edit (JSON: condition groups nest as {"op": "and"|"or", "children": [...]})',
        json.dumps(hide_tokens(body), indent=2),
        height=260,
        key=f"al_json_{rid}",
    )
    b = st.columns(4)
    change: tuple[str, Any] | None = None
    if b[0].button("Save", key="al_save"):
        try:
            change = ("PUT", restore_tokens(json.loads(text), body))
        except json.JSONDecodeError as exc:
            st.error(f"Not valid JSON: {exc}")
    if b[1].button("Disable" if current["enabled"] else "Enable", key="al_toggle"):
        change = ("PUT", {**body, "enabled": not current["enabled"]})
    if b[2].button("Delete", key="al_delete"):
        change = ("DELETE", None)
    if change is not None and change[0] == "PUT" and (masked := masked_webhooks(change[1])):
        st.error(
            f"Webhook(s) {masked} of this rule are signed and the engine does not reveal their "
            f"secret: replace {MASK!r} with the secret in the JSON above to save the rule."
        )
        change = None
    if change is not None and change[0] == "PUT" and (masked := masked_telegram(change[1])):
        st.error(
            f"Telegram chat(s) {masked} of this rule are masked ({MASK!r}): the engine shows "
            "them only to callers with the API token (set STATARB_API_TOKEN for the "
            "dashboard), or a new chat has no token yet: put it in the JSON above."
        )
        change = None
    if change is not None:
        verb, payload = change
        path = f"/api/v1/alerts/rules/{rid}"
        if ui.engine_call(lambda: client.api(verb, path, json=payload) or True):
            st.rerun()

st.subheader("History")
events = ui.engine_call(client.api, "GET", "/api/v1/alerts/history", params={"limit": 500})
if events:
    frame = pd.DataFrame(events)
    first = [c for c in ("ts", "time", "fired_at", "rule_id", "severity", "message", "delivery")
             if c in frame.columns]  # fmt: skip
    frame = frame[first + [c for c in frame.columns if c not in first]]
    st.dataframe(frame, hide_index=True)
    ui.download_buttons(frame, "alert_history", "al_dl")
elif events is not None:
    st.info("No alert has fired yet.")
