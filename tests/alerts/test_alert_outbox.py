"""The outbox on a controlled clock, delivering to the fake Bot API: dedup, quiet hours across a
restart, digest released by its own task; every event's delivery recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _telegram_fake import FakeBotAPI
from statarb.alerts.evaluator import Trigger
from statarb.alerts.notify import Notifier
from statarb.alerts.outbox import Outbox, delivery_status
from statarb.alerts.rules import Rule, parse_rule

S = 1_000_000
T0 = 1_704_067_200 * S  # 2024-01-01 00:00 UTC
TOKEN = "7000000001:AAHsecretSECRETsecretSECRET_-42"
CHAT = {"chat_id": "-100777", "token": TOKEN}


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _rule(rid: int, pair: str, **policy: Any) -> Rule:
    return parse_rule({"id": rid, "name": f"wide {pair}", "telegram": [CHAT], **policy,
                       "condition": {"metric": "zscore", "target": pair, "timeframe": "1m",
                                     "operator": ">=", "threshold": 2}})  # fmt: skip


def _event(rule: Rule, eid: int, at: int) -> tuple[Trigger, dict[str, Any]]:
    trig = Trigger(rule.id, rule.name, at, {f"zscore:{rule.targets()[0]}:1m": 2.5},
                   f"{rule.name}: z >= 2")  # fmt: skip
    return trig, {"id": eid, "fired_at": at, "delivery": delivery_status(rule, at)}


@pytest.fixture
def bot() -> Iterator[FakeBotAPI]:
    fake = FakeBotAPI()
    yield fake
    fake.close()


class Rig:
    def __init__(self, bot: FakeBotAPI, path: Path, rules: list[Rule], now: int) -> None:
        self.clock = Clock(now)
        self.notifier = Notifier(backoff=0.0, allow=("127.0.0.0/8",), telegram_api=bot.url)
        self.updates: dict[int, dict[str, Any]] = {}
        self.outbox = Outbox(self.notifier, path, rules=lambda: rules, clock=self.clock,
                             on_delivered=self.updates.__setitem__)  # fmt: skip

    async def close(self) -> None:
        await self.outbox.close()
        await self.notifier.aclose()


async def test_dedup_sends_one_message_naming_both_pairs(bot: FakeBotAPI, tmp_path: Path) -> None:
    rules = [_rule(1, "BTCUSDT/ETHUSDT", dedup_seconds=30),
             _rule(2, "SOLUSDT/AVAXUSDT", dedup_seconds=30)]  # fmt: skip
    rig = Rig(bot, tmp_path / "held", rules, T0)
    for eid, (rule, at) in enumerate(zip(rules, [T0, T0 + S], strict=True), 1):
        trig, ev = _event(rule, eid, at)
        assert ev["delivery"].startswith("held: grouped over 30 s")
        rig.outbox.admit(rule, trig, ev)
    assert rig.outbox.held == 2 and await rig.outbox.release(T0 + 29 * S) == 0
    assert await rig.outbox.release(T0 + 30 * S) == 1
    await rig.notifier.drain(60)
    (req,) = bot.requests
    text = req["json"]["text"]
    assert "statarb: 2 alerts" in text and "BTCUSDT/ETHUSDT, SOLUSDT/AVAXUSDT" in text
    assert req["json"]["chat_id"] == -100777 and bot.errors == []
    assert {k: v["delivery"] for k, v in rig.updates.items()} == {1: "delivered", 2: "delivered"}
    assert rig.updates[1]["deliveries"][0]["batched"] == 2
    await rig.close()


async def test_quiet_hours_survive_a_restart_and_end_in_one_summary(
    bot: FakeBotAPI, tmp_path: Path
) -> None:
    quiet = {"start": "22:00", "end": "07:00", "timezone": "UTC"}
    rules = [_rule(1, "BTCUSDT/ETHUSDT", quiet_hours=quiet),
             _rule(2, "SOLUSDT/AVAXUSDT", quiet_hours=quiet, severity="critical")]  # fmt: skip
    night = T0 + 23 * 3600 * S
    path = tmp_path / "statarb.spill.held"
    rig = Rig(bot, path, rules, night)
    trig, ev = _event(rules[0], 1, night)
    assert ev["delivery"] == "held: quiet hours 22:00-07:00 UTC, until 2024-01-02T07:00:00.000Z"
    rig.outbox.admit(rules[0], trig, ev)
    trig, ev = _event(rules[1], 2, night)
    assert ev["delivery"] == "pending"  # critical bypasses the quiet hours
    rig.outbox.admit(rules[1], trig, ev)
    await rig.notifier.drain(60)
    assert len(bot.requests) == 1 and "[CRITICAL]" in bot.requests[0]["json"]["text"]
    await rig.close()  # a restart: the held one is on disk, nothing else
    assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert TOKEN not in path.read_text() and "-100777" not in path.read_text()

    again = Rig(bot, path, rules, T0 + 31 * 3600 * S)
    assert await asyncio.to_thread(again.outbox.load) == 1
    assert await again.outbox.release(T0 + 31 * 3600 * S - 1) == 0
    assert await again.outbox.release() == 1  # 07:00
    await again.notifier.drain(60)
    assert len(bot.requests) == 2
    text = bot.requests[1]["json"]["text"]
    assert "statarb: 1 alert (quiet hours 22:00-07:00 UTC)" in text and "23:00:00" in text
    assert again.updates == {1: again.updates[1]} and again.updates[1]["delivery"] == "delivered"
    await again.close()
    assert not path.exists()  # nothing held any more


async def test_the_digest_task_releases_on_its_own_and_orphans_are_reported(
    bot: FakeBotAPI, tmp_path: Path
) -> None:
    rules = [_rule(1, "BTCUSDT/ETHUSDT", digest_minutes=5)]
    rig = Rig(bot, tmp_path / "held", rules, T0 + 60 * S)
    rig.outbox.start()
    for eid in (1, 2, 3):
        rig.outbox.admit(rules[0], *_event(rules[0], eid, T0 + eid * 60 * S))
    rig.clock.now = T0 + 300 * S  # 00:05: the digest is due
    rig.outbox.wake()
    (req,) = await asyncio.to_thread(bot.wait_for, 1)
    assert "statarb: 3 alerts (digest of 5 min)" in req["json"]["text"]
    # a held message whose rule is gone is not sent, and says so in the history
    rig.outbox.admit(rules[0], *_event(rules[0], 4, T0 + 400 * S))
    rules.clear()
    assert await rig.outbox.release(T0 + 600 * S) == 1
    assert rig.updates[4]["delivery"] == "failed"
    assert "no rule has this channel" in rig.updates[4]["deliveries"][0]["error"]
    await rig.notifier.drain(60)
    assert {k: v["delivery"] for k, v in rig.updates.items() if k < 4} == {
        1: "delivered", 2: "delivered", 3: "delivered"}  # fmt: skip
    await rig.close()


async def test_an_unwritable_held_file_is_logged_and_the_task_goes_on(
    bot: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    rules = [_rule(1, "BTCUSDT/ETHUSDT", digest_minutes=5)]
    rig = Rig(bot, blocker / "held", rules, T0)
    rig.outbox.start()
    rig.outbox.admit(rules[0], *_event(rules[0], 1, T0))
    rig.clock.now = T0 + 300 * S
    rig.outbox.wake()
    (req,) = await asyncio.to_thread(bot.wait_for, 1)  # delivery does not depend on the disk
    assert "statarb: 1 alert (digest of 5 min)" in req["json"]["text"]
    rig.outbox.admit(rules[0], *_event(rules[0], 2, T0 + 301 * S))
    await rig.close()  # the stop goes on, and says what it could not keep
    assert "1 held alert notifications could not be kept" in caplog.text
