"""The demo's book: 50 distinct entries, seeded once, warm from the packaged history at start."""

from __future__ import annotations

import asyncio
from itertools import combinations

from typer.testing import CliRunner

from statarb import sample
from statarb.cli._demo_book import DEMO_BOOK_SIZE, demo_book, seed_demo_book
from statarb.cli.main import build_app
from statarb.config import Settings
from statarb.engine._book import PairBook

#: bars a pair of the default settings warms on (max(warmup, coint_window) + coint_every), at 5m
HISTORY_DAYS = 2


def test_the_demo_book_is_every_pair_at_1m_then_kline_pairs_at_5m() -> None:
    entries = demo_book(sample.DEMO_SYMBOLS, sample.HISTORY_SYMBOLS)
    assert len(entries) == len(set(entries)) == DEMO_BOOK_SIZE
    assert [e for e in entries if e[2] == "1m"] == [
        (a, b, "1m") for a, b in combinations(sample.DEMO_SYMBOLS, 2)
    ]
    five = [(a, b) for a, b, tf in entries if tf == "5m"]
    assert len(five) == 14 and set(five) <= set(combinations(sample.HISTORY_SYMBOLS, 2))


def test_kline_pairs_are_warm_at_start_and_the_recorded_ones_wait_for_live_bars(
    sqlite_url: str,
) -> None:
    from statarb.store import open_store

    store = open_store(sqlite_url)
    try:
        for bars in sample.history_bars(end_us=sample.TAPE_START_US):
            store.write_bars(bars.take(slice(-HISTORY_DAYS * 1440, None)))
        assert seed_demo_book(store, demo_book(sample.DEMO_SYMBOLS, sample.HISTORY_SYMBOLS)) == 50
        now = sample.TAPE_START_US + 86_400_000_000 * 30  # the demo runs on today's clock
        book = PairBook(store, lambda: None, timeframes=["1m", "5m"],  # type: ignore[arg-type,return-value]
                        on_metrics=lambda *a: None, on_latency=lambda *a: None,
                        clock=lambda: now)  # fmt: skip
        asyncio.run(book.load())
        rows = book.rows()
    finally:
        store.close()
    warm = [r for r in rows if r["analytics"] and r["analytics"]["zscore"] is not None]
    recorded = [r for r in rows if {r["a"], r["b"]} & set(sample.SYMBOLS)]
    assert len(warm) == 35 and len(recorded) == 15  # no history of BTCUSDT and ETHUSDT
    assert all(r["analytics"] is None for r in recorded)
    last = {r["timeframe"]: r["analytics"]["time"] for r in warm}
    assert last == {
        "1m": sample.TAPE_START_US - 60_000_000,
        "5m": sample.TAPE_START_US - 300_000_000,
    }
    assert all(len(r["zscores"]) > 0 for r in warm)


def test_the_seeding_can_be_turned_off() -> None:
    assert Settings().demo_book
    assert not Settings(demo_book="false").demo_book  # STATARB_DEMO_BOOK=false
    out = CliRunner().invoke(build_app(), ["up", "--help"], env={"COLUMNS": "200"})
    assert "--no-demo-book" in out.output
