"""The book of watched pairs: the same contract on SQLite and PostgreSQL."""

from __future__ import annotations

from statarb.store import open_store
from statarb.store.base import TickStore


def test_book_pairs_are_saved_replaced_listed_and_deleted(store: TickStore, store_url: str) -> None:
    first = store.save_book_pair("BTCUSDT", "ETHUSDT", "1m", {"window": 120, "entry": 2.0})
    other = store.save_book_pair("BTCUSDT", "ETHUSDT", "1s", {"window": 600})
    again = store.save_book_pair("BTCUSDT", "ETHUSDT", "1m", {"window": 240, "entry": 2.5})
    assert again == first != other
    rows = store.list_book_pairs()
    assert [(r["id"], r["timeframe"], r["settings"]) for r in rows] == [
        (first, "1m", {"window": 240, "entry": 2.5}),
        (other, "1s", {"window": 600}),
    ]
    store.close()
    reopened = open_store(store_url)  # survives a restart
    try:
        assert reopened.list_book_pairs() == rows
        assert reopened.delete_book_pair(first) is True
        assert reopened.delete_book_pair(first) is False
        assert [r["id"] for r in reopened.list_book_pairs()] == [other]
    finally:
        reopened.close()
