"""Telegram chats as alert channels: the model, HTML escaping and the ``sendMessage`` request.

Pure (the HTTP call is :meth:`statarb.alerts.notify.Notifier.deliver_telegram`). A chat is
``{"chat_id": "-1001234567890", "token": "123456:ABC..."}`` in a rule's ``telegram`` list: the
bot token is the credential of the bot and the chat id says where the alerts go, so both are
secrets, masked like webhook URLs (shown only to callers holding the API token, never logged).

The request is ``POST <base>/bot<token>/sendMessage`` with the JSON document
``{"chat_id": ..., "text": ..., "parse_mode": "HTML", "disable_web_page_preview": true}``, the
text escaped for Telegram's HTML mode (``&``, ``<``, ``>``) and cut to fit its 4096 characters.
``base`` is ``https://api.telegram.org`` unless ``STATARB_TELEGRAM_API`` says otherwise.

Examples
--------
>>> chat = parse_telegram({"chat_id": -100123, "token": "123456:" + "A" * 35})
>>> chat.public_dict()
{'chat_id': '***', 'token': '***'}
>>> telegram_escape("z < -2 & <b>")
'z &lt; -2 &amp; &lt;b&gt;'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from statarb.errors import AlertRuleError

#: the official Bot API host (the SSRF guard is not applied to it)
TELEGRAM_API = "https://api.telegram.org"
#: longest text Telegram accepts in one message, characters
MAX_TEXT = 4096
_TOKEN_RE = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")
_CHAT_RE = re.compile(r"^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")


@dataclass(frozen=True, slots=True)
class TelegramChat:
    """One chat (user, group or channel) a bot posts alerts to."""

    chat_id: str
    token: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the token (the stored form)."""
        return {"chat_id": self.chat_id, "token": self.token}

    def public_dict(self, *, reveal: bool = False) -> dict[str, Any]:
        """For display: both fields masked unless ``reveal`` (callers holding the API token)."""
        return self.to_dict() if reveal else {"chat_id": "***", "token": "***"}

    def summary(self) -> str:
        """``telegram`` (nothing secret)."""
        return "telegram"


def parse_telegram(data: Any, where: str = "telegram[0]") -> TelegramChat:
    """Parse ``{"chat_id": int or "@channel", "token": "<digits>:<secret>"}``."""
    if not isinstance(data, Mapping):
        raise AlertRuleError(f"{where}: must be an object, got {type(data).__name__}")
    unknown = sorted(set(data) - {"chat_id", "token", "kind"})
    if unknown:
        raise AlertRuleError(f"{where}.{unknown[0]}: unknown field (chat_id, token)")
    chat = data.get("chat_id")
    if isinstance(chat, int) and not isinstance(chat, bool):
        chat = str(chat)
    if not isinstance(chat, str) or not _CHAT_RE.fullmatch(chat.strip()):
        raise AlertRuleError(
            f"{where}.chat_id: must be a numeric chat id (e.g. -1001234567890) or a channel '@name'"
        )
    token = data.get("token")
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token.strip()):
        raise AlertRuleError(
            f"{where}.token: must be a bot token '<digits>:<secret>' as @BotFather gives it"
        )
    return TelegramChat(chat.strip(), token.strip())


def telegram_escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for Telegram's HTML parse mode."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def telegram_text(title: str, body: str) -> str:
    """The HTML message: ``title`` in bold, then ``body``; both escaped, cut to fit."""
    room = MAX_TEXT - len(title) - 16
    if len(body) > room:
        body = body[: max(0, room - 2)] + " …"
    head = f"<b>{telegram_escape(title)}</b>"
    return f"{head}\n{telegram_escape(body)}" if body else head


def telegram_request(
    chat: TelegramChat, text: str, *, base: str = TELEGRAM_API
) -> tuple[str, bytes, dict[str, str]]:
    """URL, JSON body and headers of the ``sendMessage`` call posting ``text`` (HTML)."""
    url = f"{base.rstrip('/')}/bot{chat.token}/sendMessage"
    chat_id: int | str = int(chat.chat_id) if chat.chat_id.lstrip("-").isdigit() else chat.chat_id
    doc = {"chat_id": chat_id, "text": text, "parse_mode": "HTML",
           "disable_web_page_preview": True}  # fmt: skip
    headers = {"Content-Type": "application/json", "User-Agent": "statarb-alerts"}
    return url, orjson.dumps(doc), headers


def telegram_retry_after(body: bytes) -> float | None:
    """``parameters.retry_after`` (seconds) of a Bot API error answer, else ``None``."""
    try:
        doc = orjson.loads(body)
        value = doc["parameters"]["retry_after"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


__all__ = [
    "MAX_TEXT",
    "TELEGRAM_API",
    "TelegramChat",
    "parse_telegram",
    "telegram_escape",
    "telegram_request",
    "telegram_retry_after",
    "telegram_text",
]
