"""WebSocket subscriptions: topics the engine never publishes are refused with an error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from statarb.api.topics import unknown_topics


@pytest.mark.parametrize(
    "topic",
    [
        "bogus:topic",
        "ticks:",
        "ticks:btcusdt",
        "bars:BTCUSDT",
        "bars:BTCUSDT:1x",
        "pair:BTCUSDT",
        "alerts:all",
        "x" * 5000,
    ],
)
def test_unknown_topic_is_named(topic: str) -> None:  # fmt: skip
    assert unknown_topics(["alerts", topic]) == [topic if len(topic) <= 80 else topic[:77] + "..."]


def test_known_topics_pass() -> None:
    good = ["ticks:BTCUSDT", "bars:BTCUSDT:1m", "bars:1000PEPEUSDT:250ms", "pair:BTCUSDT:ETHUSDT",
            "alerts"]  # fmt: skip
    assert unknown_topics(good) == []


def test_subscribe_with_an_unknown_topic_is_refused_whole(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"action": "subscribe", "topics": ["ticks:BTCUSDT", "bogus:topic"]})
        err = ws.receive_json()
        assert err["topic"] == "control" and err["type"] == "error"
        assert (
            err["data"]["topics"] == ["bogus:topic"] and "ticks:<SYMBOL>" in err["data"]["message"]
        )
        ws.send_json({"action": "subscribe", "topics": ["ticks:BTCUSDT"]})
        assert ws.receive_json() == {"topic": "control", "type": "subscribed",
                                     "data": ["ticks:BTCUSDT"]}  # fmt: skip


def test_protocol_page_documents_every_topic_and_reply() -> None:
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "websocket.md").read_text()
    for name in ("`ticks:<SYMBOL>`", "`bars:<SYMBOL>:<tf>`", "`pair:<A>:<B>`", "`book`", "`alerts`",
                 "`subscribed`", "`ack`", "`error`", "`1013`"):  # fmt: skip
        assert name in page, name
