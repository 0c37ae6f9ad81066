"""The WebSocket topics the engine publishes, and the check that refuses any other.

``ticks:<SYMBOL>``, ``bars:<SYMBOL>:<tf>``, ``pair:<A>:<B>``, ``book``, ``alerts`` and ``paper``
(see ``docs/websocket.md``). Symbols are upper case, as the engine publishes them.
"""

from __future__ import annotations

import re

_SYM = r"[A-Z0-9]{1,40}"
_TF = r"[0-9]{1,6}(?:ms|s|m|h|d|w)"
TOPIC_RE = re.compile(rf"^(?:ticks:{_SYM}|bars:{_SYM}:{_TF}|pair:{_SYM}:{_SYM}|book|alerts|paper)$")
#: what an error reply says a topic may be
TOPIC_FORMS = (
    "ticks:<SYMBOL>, bars:<SYMBOL>:<tf>, pair:<A>:<B>, book, alerts or paper "
    "(symbols in upper case)"
)


def unknown_topics(topics: list[str]) -> list[str]:
    """The topics of ``topics`` that the engine never publishes (at most 10, shortened)."""
    bad = [t for t in topics if not TOPIC_RE.match(t)]
    return [t if len(t) <= 80 else t[:77] + "..." for t in bad[:10]]


__all__ = ["TOPIC_FORMS", "TOPIC_RE", "unknown_topics"]
