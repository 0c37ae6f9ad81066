"""Alert rules and triggers of the engine (a part of :class:`~statarb.engine.Engine`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from statarb.alerts.evaluator import AlertEvaluator, Trigger
from statarb.alerts.notify import Notifier
from statarb.alerts.outbox import Outbox, delivery_status
from statarb.alerts.policy import DEFAULT_SEVERITY
from statarb.alerts.rules import Rule, parse_rule
from statarb.engine._alert_journal import AlertJournal
from statarb.engine._book import BOOK_ONLY_METRICS
from statarb.errors import AlertRuleError
from statarb.timeutil import us_to_iso

if TYPE_CHECKING:
    from statarb.engine._events import Hub
    from statarb.engine._latency import LatencyStats
    from statarb.store.base import TickStore

log = logging.getLogger(__name__)


class AlertsMixin:
    """Persist and evaluate rules; publish and deliver each trigger at once, then record it.

    Store calls never run on the event loop: rule writes go to a worker thread
    (:meth:`save_rule`, :meth:`delete_rule`) and triggers through the :class:`AlertJournal`,
    which gives each its store id up front and records it right after (never dropped).
    """

    store: TickStore
    hub: Hub
    notifier: Notifier
    evaluator: AlertEvaluator
    values: dict[str, float]
    counts: dict[str, int]
    latency: LatencyStats
    timeframes: list[str]
    analytics_timeframes: list[str]
    clock: Any
    bus: Any
    journal: AlertJournal
    outbox: Outbox

    if TYPE_CHECKING:  # provided by PairsMixin and ClusterMixin

        def watch_pair(self, a: str, b: str) -> tuple[str, str]: ...

        def _announce_rule(self, op: str, rule_id: int | None) -> None: ...

        def _claim_and_fire(self, trig: Trigger, recv_ts: int) -> None: ...

    def rules(self) -> list[Rule]:
        """The alert rules in force."""
        return self.evaluator.rules

    def _check_rule(self, rule: Rule) -> None:
        for c in rule.conditions():
            if c.timeframe is None:
                continue
            pair = "/" in c.target
            per_bar = c.metric == "price" or c.metric in BOOK_ONLY_METRICS  # any built timeframe
            live = self.analytics_timeframes if pair and not per_bar else self.timeframes
            if c.timeframe not in live:
                raise AlertRuleError(
                    f"condition.timeframe: {c.timeframe!r} is not computed live for "
                    f"{'pairs' if pair else 'symbols'}; use one of {live}"
                )

    def _install_rule(self, rule: Rule) -> None:
        self._check_rule(rule)
        for c in rule.conditions():
            if "/" in c.target and c.metric not in BOOK_ONLY_METRICS:
                self.watch_pair(*c.target.split("/"))
        self.evaluator.add(rule)

    def add_rule(self, data: Mapping[str, Any]) -> Rule:
        """Validate, persist and activate a rule (replaces the rule with the same ``id``)."""
        rule = parse_rule(data)
        self._check_rule(rule)
        body = rule.to_dict()
        rid = self.store.save_alert_rule(body)
        saved = parse_rule({**body, "id": rid})
        self._install_rule(saved)
        self._announce_rule("saved", saved.id)
        return saved

    async def save_rule(self, data: Mapping[str, Any]) -> Rule:
        """Like :meth:`add_rule`, with the store write in a worker thread."""
        import asyncio

        rule = parse_rule(data)
        self._check_rule(rule)
        body = rule.to_dict()
        rid = await asyncio.to_thread(self.store.save_alert_rule, body)
        saved = parse_rule({**body, "id": rid})
        self._install_rule(saved)
        self._announce_rule("saved", saved.id)
        return saved

    async def delete_rule(self, rule_id: int) -> bool:
        """Like :meth:`remove_rule`, with the store write in a worker thread."""
        import asyncio

        self.evaluator.remove(rule_id)
        removed = await asyncio.to_thread(self.store.delete_alert_rule, rule_id)
        self._announce_rule("deleted", rule_id)
        return removed

    def remove_rule(self, rule_id: int) -> bool:
        """Delete a rule from the store and stop evaluating it."""
        self.evaluator.remove(rule_id)
        removed = self.store.delete_alert_rule(rule_id)
        self._announce_rule("deleted", rule_id)
        return removed

    def _evaluate(self, changed: set[str], ts: int, recv_ts: int) -> None:
        if not changed:  # the evaluator answers in O(rules reading `changed`), once per tick
            return
        for trig in self.evaluator.evaluate(self.values, ts, changed=changed):
            self._fire(trig, recv_ts)

    def _fire(self, trig: Trigger, recv_ts: int) -> None:
        if self.bus is not None:  # several engines may see this trigger: the first claim fires
            self._claim_and_fire(trig, recv_ts)
        else:
            self._record_fire(trig, recv_ts)

    def _record_fire(self, trig: Trigger, recv_ts: int) -> None:
        rule = self.evaluator.rule(trig.rule_id)
        fired_at = self.clock()
        severity = rule.severity if rule is not None else DEFAULT_SEVERITY
        delivery = "none" if rule is None else delivery_status(rule, fired_at)
        event = {**trig.to_dict(), "time": us_to_iso(trig.ts), "fired_at": fired_at,
                 "severity": severity, "delivery": delivery}  # fmt: skip
        self.counts["alerts"] += 1

        def publish(ev: dict[str, Any]) -> None:  # it has its id: the store write follows
            self.hub.publish("alerts", "alert", ev)
            if recv_ts:
                self.latency.add("alert", max(0, self.clock() - recv_ts))
            if rule is not None and ev["delivery"] != "none":
                self.outbox.admit(rule, trig, ev)

        self.journal.record(event, publish)
