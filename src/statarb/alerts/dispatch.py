"""Which notifications go out now and which are held: a pure state machine (no clock, no I/O).

Each recorded trigger is admitted with the wall-clock time it fired and the channels of its
rule. By the rule's policy (:mod:`statarb.alerts.policy`), checked in this order:

1. **quiet hours** active (and not a ``critical`` rule allowed to bypass them): held per channel
   until the window ends, then sent as one summary;
2. **digest** of N minutes: held per channel until the next multiple of N minutes of UTC time
   (``digest_minutes: 15`` sends at :00, :15, :30, :45), then sent as one message;
3. **dedup** window of S seconds: held per channel and dedup key from the first trigger of the
   group for S seconds, then sent as one message naming every pair;
4. otherwise sent at once.

A held group that reaches :data:`MAX_BATCH` triggers is sent at once (bounded memory). The held
set round-trips through :meth:`Dispatcher.snapshot` / :meth:`Dispatcher.restore` (JSON), so a
restart does not lose it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from statarb.alerts.rules import Rule
from statarb.errors import InputError

Reason = Literal["now", "dedup", "digest", "quiet"]
#: triggers held in one group before it is sent anyway
MAX_BATCH = 500
_US = 1_000_000


@dataclass(frozen=True, slots=True)
class Held:
    """One recorded trigger on its way to a channel (what a message says about it)."""

    event_id: int | None
    rule_id: int | None
    rule_name: str
    severity: str
    group: str
    targets: tuple[str, ...]
    ts: int
    fired_at: int
    message: str
    values: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {**asdict(self), "targets": list(self.targets), "values": dict(self.values)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Held:
        """The inverse of :meth:`to_dict`."""
        return cls(**{**data, "targets": tuple(data["targets"]), "values": dict(data["values"])})


@dataclass(frozen=True, slots=True)
class Batch:
    """One message to one channel: the triggers it reports and why they were held."""

    channel: str
    reason: Reason
    due: int
    items: tuple[Held, ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"channel": self.channel, "reason": self.reason, "due": self.due,
                "note": self.note, "items": [i.to_dict() for i in self.items]}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Plan:
    """What happens to a rule's trigger admitted now: the reason, when it is sent, a note."""

    reason: Reason
    due: int
    note: str = ""


def firing_targets(rule: Rule, values: Mapping[str, float]) -> tuple[str, ...]:
    """The targets whose conditions hold at ``values`` (what a message names), else all of the
    rule's targets (a cross, or values missing)."""
    out = []
    for c in rule.conditions():
        v = values.get(c.key)
        if v is None:
            continue
        op = {"crosses_above": ">=", "crosses_below": "<="}.get(c.operator, c.operator)
        hit = {">": v > c.threshold, ">=": v >= c.threshold, "<": v < c.threshold,
               "<=": v <= c.threshold}[op]  # fmt: skip
        if hit and c.target not in out:
            out.append(c.target)
    return tuple(sorted(out)) if out else tuple(rule.targets())


def plan(rule: Rule, now: int) -> Plan:
    """The policy decision for a trigger of ``rule`` fired at ``now`` (epoch µs, wall clock).

    A digest or dedup window that would end inside the rule's quiet hours is held to their end.
    """
    q = rule.quiet_hours
    if q is not None and (rule.severity != "critical" or not q.critical_bypass):
        if q.active(now):
            return Plan("quiet", q.ends_after(now), f"quiet hours {q.summary()}")
    else:
        q = None
    if rule.digest_minutes:
        step = rule.digest_minutes * 60 * _US
        p = Plan("digest", (now // step + 1) * step, f"digest of {rule.digest_minutes} min")
    elif rule.dedup_seconds:
        window = round(rule.dedup_seconds * _US)
        p = Plan("dedup", now + window, f"grouped over {rule.dedup_seconds:g} s")
    else:
        return Plan("now", now)
    if q is not None and q.active(p.due):
        return Plan("quiet", q.ends_after(p.due), f"quiet hours {q.summary()}")
    return p


@dataclass(slots=True)
class _Bucket:
    reason: Reason
    due: int
    note: str
    items: list[Held]


class Dispatcher:
    """The held notifications, by channel (see the module docs)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}

    def admit(self, rule: Rule, item: Held, channels: Sequence[str], now: int) -> list[Batch]:
        """Admit ``item`` for ``channels``; return the messages to send at once."""
        p = plan(rule, now)
        if p.reason == "now":
            return [Batch(ch, "now", now, (item,)) for ch in channels]
        out = []
        for ch in channels:
            key = (ch, p.reason, item.group if p.reason == "dedup" else str(p.due))
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = _Bucket(p.reason, p.due, p.note, [])
            b.items.append(item)
            if len(b.items) >= MAX_BATCH:
                del self._buckets[key]
                out.append(Batch(ch, b.reason, now, tuple(b.items), b.note))
        return out

    def due(self, now: int) -> list[Batch]:
        """Remove and return the held messages due at ``now``, oldest due first."""
        ready = sorted((b.due, k) for k, b in self._buckets.items() if b.due <= now)
        out = []
        for _, key in ready:
            b = self._buckets.pop(key)
            out.append(Batch(key[0], b.reason, b.due, tuple(b.items), b.note))
        return out

    def next_due(self) -> int | None:
        """When the next held message is due (epoch µs), ``None`` when nothing is held."""
        return min((b.due for b in self._buckets.values()), default=None)

    @property
    def held(self) -> int:
        """Triggers held (counted once per channel)."""
        return sum(len(b.items) for b in self._buckets.values())

    def pending(self) -> list[Batch]:
        """The held messages as they stand (nothing removed)."""
        return [Batch(k[0], b.reason, b.due, tuple(b.items), b.note)
                for k, b in self._buckets.items()]  # fmt: skip

    def snapshot(self) -> list[dict[str, Any]]:
        """The held set as JSON-ready dicts (load with :meth:`restore`)."""
        return [{"key": list(k), **asdict(b), "items": [i.to_dict() for i in b.items]}
                for k, b in self._buckets.items()]  # fmt: skip

    def restore(self, snapshot: Sequence[Mapping[str, Any]]) -> None:
        """Add the held messages of a :meth:`snapshot` (merged with what is held now)."""
        try:
            for data in snapshot:
                key = (str(data["key"][0]), str(data["key"][1]), str(data["key"][2]))
                items = [Held.from_dict(i) for i in data["items"]]
                b = self._buckets.get(key)
                if b is None:
                    b = self._buckets[key] = _Bucket(data["reason"], int(data["due"]),
                                                     str(data["note"]), [])  # fmt: skip
                b.items.extend(items)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InputError(f"held alert notifications are malformed: {exc}") from exc


__all__ = ["MAX_BATCH", "Batch", "Dispatcher", "Held", "Plan", "Reason", "firing_targets", "plan"]
