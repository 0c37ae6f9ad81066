"""The dispatcher on a controlled clock: sent now, grouped, digested, held in quiet hours."""

from __future__ import annotations

from typing import Any

import orjson

from statarb.alerts.dispatch import MAX_BATCH, Dispatcher, Held, firing_targets, plan
from statarb.alerts.message import render
from statarb.alerts.rules import Rule, parse_rule

S = 1_000_000
T0 = 1_704_067_200 * S  # 2024-01-01 00:00:00 UTC


def _rule(rid: int, pair: str, **policy: Any) -> Rule:
    return parse_rule({"id": rid, "name": f"wide {pair}", **policy,
                       "condition": {"metric": "zscore", "target": pair, "timeframe": "1m",
                                     "operator": ">=", "threshold": 2}})  # fmt: skip


def _held(rule: Rule, eid: int, at: int) -> Held:
    return Held(eid, rule.id, rule.name, rule.severity, rule.group, tuple(rule.targets()), at,
                at, f"{rule.name}: z", {"z": 2.5})  # fmt: skip


def test_no_policy_sends_each_trigger_at_once_with_its_severity() -> None:
    d, r = Dispatcher(), _rule(1, "A/B", severity="critical")
    (batch,) = d.admit(r, _held(r, 1, T0), ["c1"], T0)
    assert batch.reason == "now" and d.held == 0 and d.next_due() is None
    assert render(batch).text == "[CRITICAL] wide A/B: z"
    assert render(batch).doc["severity"] == "critical"


def test_dedup_sends_one_message_naming_every_pair() -> None:
    d = Dispatcher()
    rules = [_rule(i, p, dedup_seconds=30) for i, p in enumerate(["A/B", "C/D", "E/F"], 1)]
    for i, r in enumerate(rules):
        assert d.admit(r, _held(r, i + 1, T0 + i * S), ["c1"], T0 + i * S) == []
    assert d.held == 3 and d.next_due() == T0 + 30 * S  # from the first trigger of the group
    assert d.due(T0 + 30 * S - 1) == []
    (batch,) = d.due(T0 + 30 * S)
    assert [h.event_id for h in batch.items] == [1, 2, 3] and d.held == 0
    msg = render(batch)
    assert msg.title.startswith("[WARNING] statarb: 3 alerts (grouped over 30 s)")
    assert "on A/B, C/D, E/F (3 triggers, 00:00:00-00:00:02 UTC)" in msg.body
    assert msg.doc["type"] == "alert_batch" and len(msg.doc["alerts"]) == 3
    # another condition is another group: two messages, one per condition
    other = _rule(9, "A/B", dedup_seconds=30, severity="info")
    other = parse_rule({**other.to_dict(), "condition": {**other.condition.to_dict(),
                                                         "threshold": 3}})  # fmt: skip
    d.admit(rules[0], _held(rules[0], 4, T0), ["c1"], T0)
    d.admit(other, _held(other, 5, T0), ["c1"], T0)
    assert len(d.due(T0 + 30 * S)) == 2


def test_digest_is_one_message_per_n_minutes_aligned_to_the_clock() -> None:
    d, r = Dispatcher(), _rule(1, "A/B", digest_minutes=15)
    for k, minute in enumerate([1, 7, 14]):
        d.admit(r, _held(r, k, T0 + minute * 60 * S), ["c1"], T0 + minute * 60 * S)
    assert d.next_due() == T0 + 15 * 60 * S
    (batch,) = d.due(T0 + 15 * 60 * S)
    assert len(batch.items) == 3 and batch.reason == "digest"
    assert "(digest of 15 min)" in render(batch).title
    d.admit(r, _held(r, 9, T0 + 15 * 60 * S), ["c1"], T0 + 15 * 60 * S)  # the next window
    assert d.next_due() == T0 + 30 * 60 * S


def test_quiet_hours_hold_until_the_end_and_critical_may_bypass() -> None:
    quiet = {"start": "22:00", "end": "07:00", "timezone": "UTC"}
    night = T0 + 23 * 3600 * S  # 23:00 UTC
    warn = _rule(1, "A/B", quiet_hours=quiet)
    crit = _rule(2, "C/D", quiet_hours=quiet, severity="critical")
    strict = _rule(3, "E/F", severity="critical",
                   quiet_hours={**quiet, "critical_bypass": False})  # fmt: skip
    d = Dispatcher()
    assert d.admit(warn, _held(warn, 1, night), ["c1"], night) == []
    assert [b.reason for b in d.admit(crit, _held(crit, 2, night), ["c1"], night)] == ["now"]
    assert d.admit(strict, _held(strict, 3, night), ["c1"], night) == []
    end = T0 + 31 * 3600 * S  # 07:00 the next day
    assert d.next_due() == end and plan(warn, night).due == end
    (batch,) = d.due(end)
    assert batch.reason == "quiet" and [h.event_id for h in batch.items] == [1, 3]
    assert render(batch).title.startswith("[CRITICAL] statarb: 2 alerts (quiet hours 22:00-07:00")
    assert plan(warn, end).reason == "now"  # the window is over


def test_channels_are_batched_apart_and_a_full_group_goes_at_once() -> None:
    d, r = Dispatcher(), _rule(1, "A/B", dedup_seconds=60)
    d.admit(r, _held(r, 1, T0), ["c1", "c2"], T0)
    assert d.held == 2
    assert sorted(b.channel for b in d.due(T0 + 60 * S)) == ["c1", "c2"]
    out = []
    for k in range(MAX_BATCH):
        out += d.admit(r, _held(r, k, T0), ["c1"], T0)
    assert len(out) == 1 and len(out[0].items) == MAX_BATCH and d.held == 0
    msg = render(out[0])
    assert f"… and {MAX_BATCH - 40} more" in msg.body


def test_snapshot_restores_the_held_set_through_json() -> None:
    d = Dispatcher()
    r = _rule(1, "A/B", digest_minutes=5)
    q = _rule(2, "C/D", dedup_seconds=10)
    d.admit(r, _held(r, 1, T0), ["c1"], T0)
    d.admit(q, _held(q, 2, T0), ["c2"], T0)
    again = Dispatcher()
    again.restore(orjson.loads(orjson.dumps(d.snapshot())))
    assert again.held == 2 and again.next_due() == d.next_due()
    assert [b.to_dict() for b in again.due(T0 + 3600 * S)] == [
        b.to_dict() for b in d.due(T0 + 3600 * S)]  # fmt: skip


def test_a_rule_over_many_pairs_names_the_pairs_that_hold() -> None:
    leaf = {"metric": "zscore", "timeframe": "1m", "operator": ">=", "threshold": 2}
    rule = parse_rule({"id": 1, "name": "book z", "condition": {"op": "or", "children": [
        {**leaf, "target": p} for p in ("A/B", "C/D", "E/F")]}})  # fmt: skip
    values = {"zscore:A/B:1m": 2.5, "zscore:C/D:1m": 0.3, "zscore:E/F:1m": 3.1}
    assert firing_targets(rule, values) == ("A/B", "E/F")
    assert firing_targets(rule, {}) == ("A/B", "C/D", "E/F")


def test_a_digest_due_inside_quiet_hours_waits_for_their_end() -> None:
    quiet = {"start": "22:00", "end": "07:00", "timezone": "UTC"}
    r = _rule(1, "A/B", digest_minutes=60, quiet_hours=quiet)
    evening = T0 + (21 * 3600 + 1800) * S  # 21:30: the hourly digest would go at 22:00
    p = plan(r, evening)
    assert p.reason == "quiet" and p.due == T0 + 31 * 3600 * S
    assert plan(r, T0 + 20 * 3600 * S).reason == "digest"  # due 21:00, before the window
    crit = _rule(2, "A/B", digest_minutes=60, quiet_hours=quiet, severity="critical")
    assert plan(crit, evening).reason == "digest"  # bypasses: its digest goes at 22:00


def test_a_trigger_alone_in_its_dedup_window_reads_as_sent_at_once() -> None:
    d, r = Dispatcher(), _rule(1, "A/B", dedup_seconds=30)
    d.admit(r, _held(r, 1, T0), ["c1"], T0)
    (batch,) = d.due(T0 + 30 * S)
    assert render(batch).text == "[WARNING] wide A/B: z"
