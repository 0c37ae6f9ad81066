"""Alert outbox: the work a trigger costs on the event loop once it is recorded.

A book of 50 pairs fires at each of 200 bar closes; each trigger goes to one Slack webhook. Ours:
``Outbox.admit`` (policy decision, dedup group, message rendering) then
``Notifier.submit_message``. Baseline: what the engine did before the outbox,
``Notifier.submit(trigger, webhooks)``. Both run on the real ``Notifier`` with the HTTP exchange
replaced by building the request body (no network), every task run to its end. Three rule sets:
no policy (one message per trigger), a 30 s dedup window and a 15 min digest (one message per
bar close / per period). CPU time of this process (``time.process_time``). Target: no policy
costs at most 1.5x the old path (ratio >= 0.67); held ones cost less than it (ratio >= 1).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import paired, report
from statarb.alerts.evaluator import Trigger
from statarb.alerts.notify import Delivery, Notifier, build_message_request, build_request
from statarb.alerts.outbox import Outbox
from statarb.alerts.rules import Rule, parse_rule

PAIRS = 50
ROUNDS = 200  # bar closes
S = 1_000_000
T0 = 1_704_067_200 * S


class _Offline(Notifier):
    """The real notifier with the HTTP exchange replaced by building the request body."""

    async def deliver(self, webhook: Any, trigger: Any, *, event_id: int | None = None) -> Any:
        build_request(webhook, trigger, event_id=event_id)
        return Delivery(webhook.kind, "x", True, 1, 200, None, 0.0)

    async def deliver_message(self, channel: Any, message: Any) -> Any:
        build_message_request(channel, message)
        return Delivery(channel.kind, "x", True, 1, 200, None, 0.0)


def _rules(**policy: Any) -> list[Rule]:
    hook = {"kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/x"}
    return [parse_rule({"id": i + 1, "name": f"z wide {i}", "webhooks": [hook], **policy,
                        "condition": {"metric": "zscore", "target": f"S{i}A/S{i}B",
                                      "timeframe": "1m", "operator": ">=", "threshold": 2}})
            for i in range(PAIRS)]  # fmt: skip


def _triggers(rules: list[Rule]) -> list[tuple[Rule, Trigger]]:
    return [(r, Trigger(r.id, r.name, T0, {next(iter(r.metric_keys())): 2.5},
                        f"{r.name}: {r.condition.summary()}")) for r in rules]  # fmt: skip


def _run_outbox(rules: list[Rule], path: Path) -> int:
    async def go() -> int:
        note = _Offline(max_pending=10**6)
        box = Outbox(note, path, rules=lambda: rules, on_delivered=lambda *_: None,
                     clock=lambda: T0)  # fmt: skip
        trigs = _triggers(rules)
        eid = 0
        for k in range(ROUNDS):
            now = T0 + k * 60 * S
            for rule, trig in trigs:
                eid += 1
                box.admit(rule, trig, {"id": eid, "fired_at": now})
            await box.release(now + 3600 * S)
            await note.drain()
        return box.counts["messages"]

    return asyncio.run(go())


def _run_baseline(rules: list[Rule]) -> int:
    async def go() -> int:
        note = _Offline(max_pending=10**6)
        trigs = _triggers(rules)
        eid = 0
        for _ in range(ROUNDS):
            for rule, trig in trigs:
                eid += 1
                note.submit(trig, rule.webhooks, event_id=eid, done=lambda *_: None)
            await note.drain()
        return eid

    return asyncio.run(go())


def main() -> None:
    items = PAIRS * ROUNDS
    with tempfile.TemporaryDirectory() as tmp:
        for label, policy in [("now", {}), ("dedup 30 s", {"dedup_seconds": 30}),
                              ("digest 15 min", {"digest_minutes": 15})]:  # fmt: skip
            rules = _rules(**policy)
            ours, base, sent = paired(lambda r=rules: _run_outbox(r, Path(tmp) / "held"),
                                      lambda r=rules: _run_baseline(r), repeat=3,
                                      clock=time.process_time)  # fmt: skip
            print(f"  {label}: {sent} messages for {items} triggers; "
                  f"{ours['median'] / items * 1e6:.1f} µs CPU per trigger", flush=True)  # fmt: skip
            report("alerts", f"outbox admit, 50 pairs, {label}", ours, base,
                   ours_name="Outbox.admit", base_name="Notifier.submit per trigger",
                   target=f"(target: ratio >= {0.67 if label == 'now' else 1})",
                   items=items)  # fmt: skip


if __name__ == "__main__":
    main()
