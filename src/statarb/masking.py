"""Masking of secrets before anything is shown or logged.

Every banner, dashboard caption and log line that names a store, an API or a webhook passes the
URL through :func:`mask_url` (credentials in URLs) or :func:`mask_webhook_url` (URLs that are a
credential themselves, such as Slack and Discord webhooks).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

MASK = "***"
_SECRET_KEYS = re.compile(r"pass|secret|token|key|sig|auth|credential", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with its password and secret-looking query values replaced by ``***``.

    Examples
    --------
    >>> mask_url("postgresql://app:hunter2@db:5432/prices?sslmode=require&password=x")
    'postgresql://app:***@db:5432/prices?sslmode=require&password=%2A%2A%2A'
    >>> mask_url("sqlite:///data/statarb.db")
    'sqlite:///data/statarb.db'
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return MASK
    netloc = parts.netloc
    if password is not None or "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{hostport}" if password is not None else f"{user}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if _SECRET_KEYS.search(k) else v) for k, v in pairs])
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing secret (urlunsplit would also drop the // of sqlite:///path)
    out = f"{parts.scheme}://{netloc}{parts.path}"
    return out + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


#: a Telegram bot token as it appears in Bot API URLs (``/bot<digits>:<secret>/``)
_BOT_TOKEN = re.compile(r"bot[0-9]{1,20}:[A-Za-z0-9_-]{20,100}")


def mask_bot_token(text: str) -> str:
    """``text`` with every Telegram bot token in it replaced by ``bot***``.

    Examples
    --------
    >>> mask_bot_token("POST https://api.telegram.org/bot123456:AAH" + "x" * 30 + "/sendMessage")
    'POST https://api.telegram.org/bot***/sendMessage'
    """
    return _BOT_TOKEN.sub("bot***", text)


def mask_webhook_url(url: str) -> str:
    """Scheme and host of a webhook URL; its path and query (the credential) become ``***``.

    Examples
    --------
    >>> mask_webhook_url("https://hooks.slack.com/services/T000/B000/abcd")
    'https://hooks.slack.com/***'
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    if not host:
        return MASK
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}{f':{port}' if port else ''}/{MASK}"


__all__ = ["MASK", "mask_bot_token", "mask_url", "mask_webhook_url"]
