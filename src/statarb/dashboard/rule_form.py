"""The alert-rule form's model: rows of conditions and webhooks -> the rule JSON the API takes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from statarb.alerts.rules import TICK, parse_rule


def condition_dict(
    metric: str, target: str, timeframe: str, operator: str, threshold: float, hysteresis: float
) -> dict[str, Any]:
    """One leaf condition (``timeframe="tick"`` means the per-tick value)."""
    return {
        "metric": metric,
        "target": target.strip().upper(),
        "operator": operator,
        "threshold": float(threshold),
        "hysteresis": float(hysteresis),
        "timeframe": None if timeframe == TICK else timeframe,
    }


def build_rule(
    name: str,
    op: str,
    conditions: Sequence[dict[str, Any]],
    *,
    cooldown_seconds: float = 0.0,
    enabled: bool = True,
    webhooks: Sequence[dict[str, Any]] = (),
    severity: str = "warning",
    dedup_seconds: float = 0.0,
    digest_minutes: int = 0,
    quiet_hours: dict[str, Any] | None = None,
    telegram: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The rule JSON: one condition alone, or an ``and``/``or`` group of them; checked by the
    same parser as the engine, so a bad field is named before anything is sent.

    Raises
    ------
    statarb.errors.AlertRuleError
        Naming the bad field, e.g. ``condition.children[1].metric``.
    """
    cond: dict[str, Any] = (
        dict(conditions[0]) if len(conditions) == 1 else {"op": op, "children": list(conditions)}
    )
    hooks = [{k: v for k, v in h.items() if v not in (None, "")} for h in webhooks if h.get("url")]
    rule = {
        "name": name,
        "condition": cond,
        "cooldown_seconds": float(cooldown_seconds),
        "enabled": bool(enabled),
        "webhooks": hooks,
        "severity": severity,
        "dedup_seconds": float(dedup_seconds),
        "digest_minutes": int(digest_minutes),
        "quiet_hours": quiet_hours,
        "telegram": [dict(t) for t in telegram if t.get("chat_id") or t.get("token")],
    }
    parse_rule(rule)
    return rule


#: how the engine shows a webhook secret it keeps
MASK = "***"


def masked_webhooks(rule: dict[str, Any]) -> list[int]:
    """Indexes of webhooks whose secret is still the engine's mask (saving would replace it)."""
    return [i for i, h in enumerate(rule.get("webhooks") or []) if h.get("secret") == MASK]


def masked_telegram(rule: dict[str, Any]) -> list[int]:
    """Indexes of Telegram chats whose token or chat id is still the engine's mask."""
    return [i for i, t in enumerate(rule.get("telegram") or [])
            if MASK in (t.get("token"), t.get("chat_id"))]  # fmt: skip


def hide_tokens(rule: dict[str, Any]) -> dict[str, Any]:
    """``rule`` with its Telegram bot tokens shown as the mask (the page never shows them)."""
    chats = [{**t, "token": MASK} for t in rule.get("telegram") or []]
    return {**rule, "telegram": chats} if chats else rule


def restore_tokens(edited: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """``edited`` with each masked bot token put back from the chat of the same id in
    ``current`` (the rule as the engine has it); a new chat needs its token typed in."""
    if not isinstance(edited, dict):
        return edited
    known = {t.get("chat_id"): t.get("token") for t in current.get("telegram") or []}
    chats = [{**t, "token": known.get(t.get("chat_id"), MASK)} if t.get("token") == MASK else t
             for t in edited.get("telegram") or []]  # fmt: skip
    return {**edited, "telegram": chats} if chats else edited


def quiet_hours_dict(
    start: str, end: str, timezone: str, *, critical_bypass: bool = True
) -> dict[str, Any] | None:
    """The rule's ``quiet_hours`` from the form's fields (``None`` when start or end is empty)."""
    if not start.strip() or not end.strip():
        return None
    return {"start": start.strip(), "end": end.strip(), "timezone": timezone.strip() or "UTC",
            "critical_bypass": bool(critical_bypass)}  # fmt: skip
