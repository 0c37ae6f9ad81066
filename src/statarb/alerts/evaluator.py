"""Edge-triggered evaluation of alert rules: a pure state machine (no clock, no I/O).

The caller passes the live metric values and the time of each evaluation. A rule **fires** when
its condition tree *becomes* true; it does not fire again while the condition stays true. It is
**re-armed** when the condition turns false; a condition with hysteresis only turns false once the
value has left the band ``threshold -/+ hysteresis`` (so a z-score hovering at the threshold does
not storm). A rising edge that falls inside the rule's cooldown is held back and fires at the first
evaluation after the cooldown ends, if the condition still holds then.

``crosses_above`` is true on exactly the update where ``previous < threshold <= current``
(``crosses_below``: ``previous > threshold >= current``), i.e. on the bar of the cross.

Examples
--------
>>> from statarb.alerts.rules import parse_rule
>>> rule = parse_rule({"id": 1, "name": "hot", "condition": {"metric": "price",
...     "target": "BTCUSDT", "operator": ">", "threshold": 100}})
>>> ev = AlertEvaluator([rule])
>>> [t.rule_id for t in ev.evaluate({"price:BTCUSDT:tick": 101.0}, ts=1)]
[1]
>>> ev.evaluate({"price:BTCUSDT:tick": 102.0}, ts=2)  # still true: no new trigger
[]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from statarb.alerts.rules import Condition, Group, Node, Rule
from statarb.errors import InputError


@dataclass(frozen=True, slots=True)
class Trigger:
    """One firing of a rule.

    Attributes
    ----------
    rule_id, rule_name
        The rule that fired.
    ts
        Evaluation time (epoch µs) passed by the caller.
    values
        The metric values the rule read at that moment (key -> value).
    message
        Human-readable line for notifications.
    """

    rule_id: int | None
    rule_name: str
    ts: int
    values: dict[str, float]
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "ts": self.ts,
            "values": dict(self.values),
            "message": self.message,
        }

    def summary(self) -> str:
        """The message."""
        return self.message


@dataclass(slots=True)
class _LeafState:
    active: bool = False  # latched truth of a threshold leaf (hysteresis)
    armed: bool = True  # a cross may fire
    prev: float | None = None  # previous observed value


@dataclass(slots=True)
class _RuleState:
    leaves: dict[int, _LeafState] = field(default_factory=dict)
    was_true: bool = False  # condition truth at the previous evaluation
    pending: bool = False  # true edge held back by the cooldown
    last_fired: int | None = None
    fired: int = 0
    suppressed: int = 0


def _order(rule_id: int | None) -> int:
    return -1 if rule_id is None else rule_id


def _compare(op: str, v: float, thr: float) -> bool:
    if op == ">":
        return v > thr
    if op == ">=":
        return v >= thr
    if op == "<":
        return v < thr
    return v <= thr


def _leaf_step(c: Condition, st: _LeafState, v: float | None) -> bool:
    """Advance one leaf with the current value; return its truth now."""
    if v is None or not math.isfinite(v):
        return st.active if c.operator in (">", ">=", "<", "<=") else False
    if c.operator in ("crosses_above", "crosses_below"):
        up = c.operator == "crosses_above"
        prev, st.prev = st.prev, v
        if not st.armed:
            back = v <= c.threshold - c.hysteresis if up else v >= c.threshold + c.hysteresis
            if back:
                st.armed = True
            return False
        if prev is None or prev == v:
            return False
        crossed = prev < c.threshold <= v if up else prev > c.threshold >= v
        if crossed:
            st.armed = c.hysteresis == 0.0
            return True
        return False
    st.prev = v
    if _compare(c.operator, v, c.threshold):
        st.active = True
    elif st.active:
        above = c.operator in (">", ">=")
        band = c.threshold - c.hysteresis if above else c.threshold + c.hysteresis
        # leave the latched state only once the value is past the band (strictly for 0 width)
        st.active = not (v <= band if above else v >= band) and c.hysteresis > 0.0
    return st.active


class AlertEvaluator:
    """Evaluate many rules against live metric values, edge-triggered (see module docs).

    Parameters
    ----------
    rules
        Initial rules; each needs a distinct ``id`` (``None`` is allowed for one-off use).
    """

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._rules: dict[int | None, Rule] = {}
        self._state: dict[int | None, _RuleState] = {}
        self._by_key: dict[str, set[int | None]] = {}
        self._pending: set[int | None] = set()  # rules with a trigger held by the cooldown
        for r in rules:
            self.add(r)

    # -- rule set ------------------------------------------------------------------------------
    @property
    def rules(self) -> list[Rule]:
        """The rules, by id."""
        return list(self._rules.values())

    def metric_keys(self) -> set[str]:
        """Every metric key read by an enabled rule."""
        return {k for k, ids in self._by_key.items() if ids}

    def reads(self, key: str) -> bool:
        """Whether an enabled rule reads the metric ``key`` (O(1))."""
        return bool(self._by_key.get(key))

    def rule(self, rule_id: int | None) -> Rule | None:
        """The rule with this id, or ``None`` (O(1))."""
        return self._rules.get(rule_id)

    def add(self, rule: Rule) -> None:
        """Add or replace a rule; a replaced rule with the same condition keeps its state."""
        old = self._rules.get(rule.id)
        if old is not None:
            self._unindex(old)
            if old.condition != rule.condition:
                self._state[rule.id] = _RuleState()
                self._pending.discard(rule.id)
        else:
            self._state[rule.id] = _RuleState()
        self._rules[rule.id] = rule
        if rule.enabled:
            for k in rule.metric_keys():
                self._by_key.setdefault(k, set()).add(rule.id)

    def remove(self, rule_id: int | None) -> bool:
        """Drop a rule and its state; return whether it existed."""
        rule = self._rules.pop(rule_id, None)
        self._state.pop(rule_id, None)
        self._pending.discard(rule_id)
        if rule is not None:
            self._unindex(rule)
        return rule is not None

    def _unindex(self, rule: Rule) -> None:
        for k in rule.metric_keys():
            self._by_key.get(k, set()).discard(rule.id)

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(
        self, values: Mapping[str, float], ts: int, *, changed: Iterable[str] | None = None
    ) -> list[Trigger]:
        """Advance every rule that reads a changed key; return the rules that fire now.

        Parameters
        ----------
        values
            Current metric values by key (missing keys make their conditions false).
        ts
            The time of this evaluation (epoch µs); drives cooldowns.
        changed
            Keys updated since the last call; ``None`` evaluates every enabled rule. Rules
            with a pending (cooldown-held) trigger are always evaluated.
        """
        if changed is None:
            ids = {rid for rid, r in self._rules.items() if r.enabled}
        else:  # O(rules reading the changed keys), not O(all rules): this runs per tick
            ids = set(self._pending)
            for k in changed:
                ids.update(self._by_key.get(k, ()))
            if not ids:
                return []
        out = []
        for rid in sorted(ids, key=_order) if len(ids) > 1 else ids:
            rule = self._rules[rid]
            if rule.enabled:
                trig = self._step(rule, self._state[rid], values, ts)
                if trig is not None:
                    out.append(trig)
        return out

    def _step(
        self, rule: Rule, st: _RuleState, values: Mapping[str, float], ts: int
    ) -> Trigger | None:
        now = self._node(rule.condition, st, values, [0])
        rising = now and not st.was_true
        st.was_true = now
        if not now:
            st.pending = False
            self._pending.discard(rule.id)
            return None
        if not (rising or st.pending):
            return None
        cool_us = int(rule.cooldown_seconds * 1_000_000)
        if st.last_fired is not None and ts - st.last_fired < cool_us:
            if rising:
                st.suppressed += 1
            st.pending = True
            self._pending.add(rule.id)
            return None
        st.pending = False
        self._pending.discard(rule.id)
        st.last_fired = ts
        st.fired += 1
        read = {c.key: float(values[c.key]) for c in rule.conditions() if c.key in values}
        msg = f"{rule.name}: {rule.condition.summary()} | " + ", ".join(
            f"{k}={v:.6g}" for k, v in sorted(read.items())
        )
        return Trigger(rule.id, rule.name, ts, read, msg)

    def _node(
        self, node: Node, st: _RuleState, values: Mapping[str, float], counter: list[int]
    ) -> bool:
        if isinstance(node, Condition):
            i = counter[0]
            counter[0] += 1
            leaf = st.leaves.setdefault(i, _LeafState())
            v = values.get(node.key)
            return _leaf_step(node, leaf, None if v is None else float(v))
        assert isinstance(node, Group)
        # every child advances (no short-circuit) so crosses and latches see every update
        results = [self._node(c, st, values, counter) for c in node.children]
        return all(results) if node.op == "and" else any(results)

    # -- persistence ---------------------------------------------------------------------------
    def prime(self, rule_id: int | None, *, last_fired: int) -> None:
        """Set when a rule last fired (e.g. from the alert history after a restart)."""
        st = self._state.get(rule_id)
        if st is None:
            raise InputError(f"no rule with id {rule_id}")
        st.last_fired = last_fired

    def stats(self) -> dict[int | None, dict[str, Any]]:
        """Per rule: times fired, suppressed by cooldown, last firing time, current truth."""
        return {
            rid: {
                "fired": s.fired,
                "suppressed": s.suppressed,
                "last_fired": s.last_fired,
                "active": s.was_true,
            }
            for rid, s in self._state.items()
        }

    def snapshot(self) -> dict[str, Any]:
        """The evaluation state as a JSON-ready dict (restore with :meth:`restore`)."""
        return {
            str(rid): {
                "was_true": s.was_true,
                "pending": s.pending,
                "last_fired": s.last_fired,
                "fired": s.fired,
                "suppressed": s.suppressed,
                "leaves": {str(i): [lf.active, lf.armed, lf.prev] for i, lf in s.leaves.items()},
            }
            for rid, s in self._state.items()
        }

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Load a :meth:`snapshot` for the rules currently held (others are ignored)."""
        for key, data in snapshot.items():
            rid: int | None = None if key == "None" else int(key)
            if rid not in self._rules:
                continue
            try:
                leaves = {
                    int(i): _LeafState(bool(a), bool(b), None if p is None else float(p))
                    for i, (a, b, p) in data["leaves"].items()
                }
                self._state[rid] = _RuleState(
                    leaves,
                    bool(data["was_true"]),
                    bool(data["pending"]),
                    data["last_fired"],
                    int(data["fired"]),
                    int(data["suppressed"]),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(f"alert evaluator snapshot for rule {key} is malformed") from exc
            if self._state[rid].pending:
                self._pending.add(rid)
            else:
                self._pending.discard(rid)


__all__ = ["AlertEvaluator", "Trigger"]
