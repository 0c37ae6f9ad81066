"""What each channel receives: webhook bodies, HMAC signatures and their check. Pure.

Payloads
--------
- ``slack``: ``{"text": "<message>"}`` (Slack incoming webhook), with ``&``, ``<`` and ``>``
  escaped as Slack requires, so a rule name cannot inject links or mentions.
- ``discord``: ``{"content": "<message>", "allowed_mentions": {"parse": []}}`` (cut to 2000
  characters; no ``@everyone``, role or user ping, whatever the rule is named).
- ``custom``: the JSON document below. When the webhook has a ``secret``, the headers
  ``X-Statarb-Timestamp: <unix seconds>`` and ``X-Statarb-Signature: sha256=<hex>`` are sent,
  the signature being the HMAC-SHA256, keyed with the secret, of ``<timestamp>.<body>`` (the
  timestamp text, a dot, the exact request body)::

      {"type": "alert", "rule_id": 3, "rule_name": "wide spread",
       "time": "2024-08-08T12:00:00.000Z", "ts": 1723118400000000,
       "message": "...", "values": {"zscore:BTCUSDT/ETHUSDT:1m": 2.31}, "event_id": 17}

  A receiver verifies it with :func:`verify` (or the same few lines, see docs/security.md):
  recompute the HMAC over ``timestamp + "." + body``, compare in constant time, and refuse a
  timestamp more than a few minutes from its own clock, so a captured request cannot be replayed.

For a rendered notification (:class:`~statarb.alerts.message.Message`, one trigger or a batch)
Slack and Discord get its text; a custom webhook gets its document (``"type": "alert"`` or
``"alert_batch"``, see docs/alerts.md), signed the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import orjson

from statarb.alerts.evaluator import Trigger
from statarb.alerts.message import Message
from statarb.alerts.rules import Webhook
from statarb.timeutil import us_to_iso

SIGNATURE_HEADER = "X-Statarb-Signature"
TIMESTAMP_HEADER = "X-Statarb-Timestamp"
#: tolerance of :func:`verify` by default, seconds
SIGNATURE_TOLERANCE_S = 300


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """``sha256=<hex HMAC-SHA256 of b"<timestamp>." + body keyed with secret>``."""
    signed = str(int(timestamp)).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    body: bytes,
    secret: str,
    *,
    timestamp: str,
    signature: str,
    now: float,
    tolerance: float = SIGNATURE_TOLERANCE_S,
) -> bool:
    """Whether a received custom webhook is authentic and fresh (what a receiver runs).

    Examples
    --------
    >>> sig = sign(b"{}", "k", 1_700_000_000)
    >>> verify(b"{}", "k", timestamp="1700000000", signature=sig, now=1_700_000_010)
    True
    >>> verify(b"{}", "k", timestamp="1700000000", signature=sig, now=1_700_000_900)
    False
    """
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature, sign(body, secret, int(timestamp)))


def slack_escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` as Slack's message formatting requires."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_request(
    webhook: Webhook,
    trigger: Trigger,
    *,
    event_id: int | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers sent to ``webhook`` for ``trigger`` (see the module docs).

    ``timestamp`` (unix seconds, default now) is signed with the body of custom webhooks.
    """
    if webhook.kind == "slack":
        doc: dict[str, Any] = {"text": slack_escape(trigger.message)}
    elif webhook.kind == "discord":
        doc = {"content": trigger.message[:2000], "allowed_mentions": {"parse": []}}
    else:
        doc = {
            "type": "alert",
            "rule_id": trigger.rule_id,
            "rule_name": trigger.rule_name,
            "time": us_to_iso(trigger.ts),
            "ts": trigger.ts,
            "message": trigger.message,
            "values": trigger.values,
            "event_id": event_id,
        }
    return _signed(webhook, orjson.dumps(doc), timestamp)


def build_message_request(
    webhook: Webhook, message: Message, *, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers sent to ``webhook`` for a rendered notification.

    Slack and Discord get the message text (escaped, cut); a custom webhook gets
    ``message.doc`` (``"type": "alert"`` for one trigger, ``"alert_batch"`` for several), signed
    as in :func:`build_request`.
    """
    if webhook.kind == "slack":
        doc: dict[str, Any] = {"text": slack_escape(message.text)}
    elif webhook.kind == "discord":
        doc = {"content": message.text[:2000], "allowed_mentions": {"parse": []}}
    else:
        doc = message.doc
    return _signed(webhook, orjson.dumps(doc), timestamp)


def _signed(webhook: Webhook, body: bytes, timestamp: int | None) -> tuple[bytes, dict[str, str]]:
    headers = {"Content-Type": "application/json", "User-Agent": "statarb-alerts"}
    if webhook.kind == "custom" and webhook.secret:
        ts = int(time.time()) if timestamp is None else int(timestamp)
        headers[TIMESTAMP_HEADER] = str(ts)
        headers[SIGNATURE_HEADER] = sign(body, webhook.secret, ts)
    return body, headers


__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_S",
    "TIMESTAMP_HEADER",
    "build_message_request",
    "build_request",
    "sign",
    "slack_escape",
    "verify",
]
