"""Severity, dedup, quiet hours, digest and Telegram fields of a rule: parsing and time windows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statarb.alerts.policy import QuietHours, condition_signature, parse_quiet_hours
from statarb.alerts.rules import parse_rule
from statarb.errors import AlertRuleError

TOKEN = "123456789:AAH" + "x" * 32
COND = {"metric": "zscore", "target": "BTCUSDT/ETHUSDT", "timeframe": "1m", "operator": ">=",
        "threshold": 2}  # fmt: skip
BASE = {"name": "wide", "condition": COND}


def _us(zone: str, *args: int) -> int:
    stamp = dt.datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]
    return int(stamp.timestamp() * 1_000_000)


def test_policy_fields_round_trip_and_default() -> None:
    rule = parse_rule(BASE)
    assert (rule.severity, rule.dedup_seconds, rule.quiet_hours, rule.digest_minutes) == (
        "warning", 0.0, None, 0)  # fmt: skip
    data = {**BASE, "severity": "CRITICAL", "dedup_seconds": 30, "digest_minutes": 15,
            "quiet_hours": {"start": "22:00", "end": "07:30", "timezone": "Europe/London"},
            "telegram": [{"chat_id": -1001234567890, "token": TOKEN}]}  # fmt: skip
    rule = parse_rule(data)
    assert rule.severity == "critical" and rule.digest_minutes == 15
    assert rule.quiet_hours == QuietHours(22 * 60, 7 * 60 + 30, "Europe/London", True)
    assert rule.telegram[0].chat_id == "-1001234567890"
    again = parse_rule(rule.to_dict())
    assert again == rule
    public = rule.to_dict(public=True)
    assert public["telegram"] == [{"chat_id": "***", "token": "***"}]
    assert rule.to_dict(public=True, reveal_urls=True)["telegram"][0]["token"] == TOKEN


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"severity": "urgent"}, "severity"),
        ({"dedup_seconds": -1}, "dedup_seconds"),
        ({"dedup_seconds": 7200}, "dedup_seconds"),
        ({"digest_minutes": 2.5}, "digest_minutes"),
        ({"digest_minutes": 1441}, "digest_minutes"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Mars/Olympus"}},
         "quiet_hours.timezone"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00", "critical_bypass": "yes"}},
         "quiet_hours.critical_bypass"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00", "tz": "UTC"}}, "quiet_hours.tz"),
        ({"telegram": [{"chat_id": "x y", "token": TOKEN}]}, "telegram[0].chat_id"),
        ({"telegram": [{"chat_id": 1, "token": "nope"}]}, "telegram[0].token"),
        ({"telegram": {"chat_id": 1}}, "telegram"),
    ],
)  # fmt: skip
def test_bad_policy_fields_are_named(extra: dict, field: str) -> None:
    with pytest.raises(AlertRuleError) as err:
        parse_rule({**BASE, **extra})
    assert str(err.value).startswith(field + ":"), str(err.value)


def test_quiet_hours_across_midnight_follow_daylight_saving() -> None:
    q = parse_quiet_hours({"start": "22:00", "end": "07:00", "timezone": "Europe/London"})
    assert q is not None
    # winter (GMT): 22:30 local is 22:30 UTC; ends 07:00 GMT the next day
    t = _us("Europe/London", 2024, 1, 10, 22, 30)
    assert q.active(t) and q.ends_after(t) == _us("UTC", 2024, 1, 11, 7, 0)
    assert q.active(_us("Europe/London", 2024, 1, 11, 6, 59))
    assert not q.active(_us("Europe/London", 2024, 1, 11, 7, 0))
    assert not q.active(_us("Europe/London", 2024, 1, 11, 21, 59))
    # summer (BST, UTC+1): 07:00 local is 06:00 UTC
    t = _us("Europe/London", 2024, 7, 10, 23, 0)
    assert q.active(t) and q.ends_after(t) == _us("UTC", 2024, 7, 11, 6, 0)
    # the night the clocks go forward (31 March 2024, 01:00 -> 02:00)
    t = _us("Europe/London", 2024, 3, 30, 23, 0)
    assert q.ends_after(t) == _us("UTC", 2024, 3, 31, 6, 0)
    # a daytime window
    day = QuietHours(9 * 60, 17 * 60, "America/New_York")
    assert day.active(_us("America/New_York", 2024, 5, 1, 12, 0))
    assert not day.active(_us("America/New_York", 2024, 5, 1, 8, 59))
    t = _us("America/New_York", 2024, 5, 1, 18, 0)  # after today's end: tomorrow's
    assert day.ends_after(t) == _us("America/New_York", 2024, 5, 2, 17, 0)


def test_condition_signature_ignores_targets_only() -> None:
    a = parse_rule(BASE)
    b = parse_rule({**BASE, "condition": {**BASE["condition"], "target": "SOLUSDT/AVAXUSDT"}})
    c = parse_rule({**BASE, "condition": {**BASE["condition"], "threshold": 3}})
    assert a.group == b.group != c.group
    assert parse_rule({**BASE, "dedup_key": "z-book"}).group == "z-book"
    assert "*" in condition_signature(a.condition.to_dict())


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 1439),
    end=st.integers(0, 1439),
    zone=st.sampled_from(["UTC", "Europe/London", "America/New_York", "Australia/Sydney",
                          "Asia/Kolkata"]),
    ts=st.integers(1_577_836_800_000_000, 1_893_456_000_000_000),  # 2020..2030
)  # fmt: skip
def test_quiet_hours_end_after_now_and_not_inside_the_window(
    start: int, end: int, zone: str, ts: int
) -> None:
    if start == end:
        return
    q = QuietHours(start, end, zone)
    out = q.ends_after(ts)
    assert ts < out <= ts + 26 * 3600 * 1_000_000
    assert not q.active(out)  # the window is over at its end
    local = dt.datetime.fromtimestamp(out / 1e6, ZoneInfo(zone))
    assert local.hour * 60 + local.minute in (end, (end + 60) % 1440)  # +1 h in a DST gap
