"""The engine's alert path on a controlled clock: two rules firing for the same condition send one
Telegram message, a trigger in quiet hours is held across a restart and sent at their end, and
the history records every event with its severity and delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from _telegram_fake import FakeBotAPI
from statarb.alerts.notify import Notifier
from statarb.config import Settings
from statarb.engine import Engine
from statarb.model import Tick
from statarb.store import open_store

S = 1_000_000
T0 = 1_723_118_400 * S  # exchange time of the ticks
NIGHT = 1_704_150_000 * S  # 2024-01-01 23:00 UTC on the wall clock
MORNING = 1_704_178_800 * S  # 2024-01-02 07:00 UTC
TOKEN = "7000000001:AAHengineSECRETtokenSECRETtok_1"
CHAT = {"chat_id": "-100555", "token": TOKEN}


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _rule(sym: str, **policy: Any) -> dict[str, Any]:
    cond = {"metric": "price", "target": sym, "operator": ">", "threshold": 10}
    return {"name": f"{sym} up", "telegram": [CHAT], **policy, "condition": cond}


def _ticks(sym: str, prices: list[float], first: int) -> list[Tick]:
    return [Tick(sym, T0 + (first + i) * S, p, 1.0, None, first + i)
            for i, p in enumerate(prices)]  # fmt: skip


@pytest.fixture
def bot() -> Iterator[FakeBotAPI]:
    fake = FakeBotAPI()
    yield fake
    fake.close()


def _engine(url: str, bot: FakeBotAPI, clock: Clock) -> Engine:
    settings = Settings(store_url=url, timeframes=["1s"], flush_interval=0.02)
    notifier = Notifier(backoff=0.0, allow=("127.0.0.0/8",), telegram_api=bot.url)
    return Engine(settings, open_store(url), notifier=notifier, clock=clock)


async def test_dedup_and_quiet_hours_through_the_engine_and_a_restart(
    sqlite_url: str, bot: FakeBotAPI
) -> None:
    clock = Clock(NIGHT)
    engine = _engine(sqlite_url, bot, clock)
    await engine.start()
    try:
        btc = engine.add_rule(_rule("BTCUSDT", dedup_seconds=30))
        eth = engine.add_rule(_rule("ETHUSDT", dedup_seconds=30, severity="critical"))
        quiet = engine.add_rule(_rule("SOLUSDT", quiet_hours={"start": "22:00", "end": "07:00"}))
        await engine.ingest(_ticks("BTCUSDT", [9.0, 11.0], 1))
        await engine.ingest(_ticks("ETHUSDT", [9.0, 12.0], 3))
        await engine.ingest(_ticks("SOLUSDT", [9.0, 13.0], 5))
        events = {e["rule_id"]: e for e in engine.store.list_alert_events()}
        assert set(events) == {btc.id, eth.id, quiet.id}  # every trigger is in the history
        assert events[eth.id]["severity"] == "critical"
        assert events[btc.id]["delivery"].startswith("held: grouped over 30 s")
        assert events[quiet.id]["delivery"].startswith("held: quiet hours 22:00-07:00 UTC")
        assert bot.requests == [] and engine.outbox.held == 3
        clock.now = NIGHT + 30 * S  # the dedup window is over: one message for both
        engine.outbox.wake()
        (req,) = await asyncio.to_thread(bot.wait_for, 1)
        text = req["json"]["text"]
        assert text.startswith("<b>[CRITICAL] statarb: 2 alerts (grouped over 30 s)</b>")
        assert "BTCUSDT up, ETHUSDT up on BTCUSDT, ETHUSDT (2 triggers" in text
        await engine.notifier.drain(30)
        await engine.journal.flush()
        events = {e["rule_id"]: e for e in engine.store.list_alert_events()}
        assert events[btc.id]["delivery"] == events[eth.id]["delivery"] == "delivered"
    finally:
        await engine.stop()
        engine.store.close()
    assert len(bot.requests) == 1  # the quiet one is still held, on disk

    clock.now = MORNING
    again = _engine(sqlite_url, bot, clock)
    await again.start()  # reads the held message back; it is due: sent at once
    try:
        (_, req) = await asyncio.to_thread(bot.wait_for, 2)
        assert "statarb: 1 alert (quiet hours 22:00-07:00 UTC)" in req["json"]["text"]
        assert "SOLUSDT up" in req["json"]["text"] and bot.errors == []
        await again.notifier.drain(30)
        await again.journal.flush()
        (event,) = again.store.list_alert_events(rule_id=quiet.id)
        assert event["delivery"] == "delivered"
        assert event["deliveries"][0]["batch"] == "quiet"
    finally:
        await again.stop()
        again.store.close()


def test_a_held_event_spilled_at_shutdown_is_recorded_as_not_sent(
    sqlite_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import orjson

    from statarb.engine._alert_journal import AlertJournal

    spill = tmp_path / "x.spill"
    held = "held: digest of 15 min, until 2024-01-01T00:15:00.000Z"
    event = {"rule_id": 1, "ts": T0, "values": {}, "message": "m", "severity": "info",
             "delivery": held, "id": 9}  # fmt: skip
    spill.write_bytes(orjson.dumps({"op": "add", "event": event}) + b"\n")
    store = open_store(sqlite_url)
    try:
        assert AlertJournal(store, spill).replay_spill() == 1
        (stored,) = store.list_alert_events()
        assert stored["delivery"] == "not sent (recorded after a restart)"
        assert stored["severity"] == "info"
    finally:
        store.close()
