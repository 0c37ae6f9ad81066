"""The text and JSON of one notification (a :class:`~statarb.alerts.dispatch.Batch`). Pure.

One trigger sent at once (or alone in its dedup window) reads
``[WARNING] <rule>: <condition> | <values>``. A batch (dedup,
digest or quiet-hours summary) has a title naming the highest severity, the number of triggers
and why they were held, then one line per dedup group naming every pair that fired, then the
triggers themselves (at most :data:`MAX_LINES`, then ``… and N more``). Times are UTC.

Examples
--------
>>> from statarb.alerts.dispatch import Batch, Held
>>> h = Held(1, 1, "wide z", "critical", "g", ("A/B",), 0, 0, "wide z: zscore > 2")
>>> render(Batch("c", "now", 0, (h,))).text
'[CRITICAL] wide z: zscore > 2'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from statarb.alerts.dispatch import Batch, Held
from statarb.alerts.policy import SEVERITIES, severity_rank
from statarb.timeutil import us_to_datetime, us_to_iso

#: trigger lines listed in one batch message
MAX_LINES = 40


@dataclass(frozen=True, slots=True)
class Message:
    """What a channel receives: a ``title`` and a ``body`` (``text`` is both on one screen),
    the highest severity, and the structured document of custom webhooks."""

    title: str
    body: str
    severity: str
    doc: dict[str, Any]

    @property
    def text(self) -> str:
        """Title and body as plain text."""
        return f"{self.title}\n{self.body}" if self.body else self.title


def _hms(ts: int) -> str:
    return us_to_datetime(ts).strftime("%H:%M:%S")


def _item_doc(h: Held) -> dict[str, Any]:
    return {"event_id": h.event_id, "rule_id": h.rule_id, "rule_name": h.rule_name,
            "severity": h.severity, "targets": list(h.targets), "time": us_to_iso(h.ts),
            "ts": h.ts, "message": h.message, "values": dict(h.values)}  # fmt: skip


def group_lines(items: tuple[Held, ...]) -> list[str]:
    """One line per dedup group: highest severity, rule names, every target, count, span."""
    groups: dict[str, list[Held]] = {}
    for h in items:
        groups.setdefault(h.group, []).append(h)
    lines = []
    for members in groups.values():
        sev = max((m.severity for m in members), key=severity_rank)
        names = list(dict.fromkeys(m.rule_name for m in members))
        targets = list(dict.fromkeys(t for m in members for t in m.targets))
        first, last = min(m.fired_at for m in members), max(m.fired_at for m in members)
        span = _hms(first) if first == last else f"{_hms(first)}-{_hms(last)}"
        lines.append(f"[{sev.upper()}] {', '.join(names)} on {', '.join(targets)} "
                     f"({len(members)} trigger{'s' * (len(members) > 1)}, {span} UTC)")  # fmt: skip
    return lines


def render(batch: Batch) -> Message:
    """The message for ``batch`` (see the module docs)."""
    items = batch.items
    sev = max((h.severity for h in items), key=severity_rank, default=SEVERITIES[1])
    if len(items) == 1 and batch.reason in ("now", "dedup"):  # nothing to group: as it fired
        h = items[0]
        doc = {"type": "alert", **_item_doc(h)}
        return Message(f"[{h.severity.upper()}] {h.message}", "", sev, doc)
    title = f"[{sev.upper()}] statarb: {len(items)} alert{'s' * (len(items) > 1)}"
    if batch.note:
        title += f" ({batch.note})"
    lines = group_lines(items)
    shown = sorted(items, key=lambda h: h.fired_at)
    lines += [f"{_hms(h.fired_at)} [{h.severity.upper()}] {h.message}"
              for h in shown[:MAX_LINES]]  # fmt: skip
    if len(shown) > MAX_LINES:
        lines.append(f"… and {len(shown) - MAX_LINES} more (see the alert history)")
    doc = {"type": "alert_batch", "reason": batch.reason, "note": batch.note, "severity": sev,
           "time": us_to_iso(batch.due), "alerts": [_item_doc(h) for h in items]}  # fmt: skip
    body = "\n".join(lines)
    doc["message"] = f"{title}\n{body}"
    return Message(title, body, sev, doc)


__all__ = ["MAX_LINES", "Message", "group_lines", "render"]
