"""How a rule's notifications are sent: severity, deduplication, quiet hours and digest.

Pure: no clock, no I/O (times are passed in, epoch µs UTC). The fields live in the rule's JSON
body next to its condition::

    {"severity": "critical",                # info | warning (default) | critical
     "dedup_seconds": 30,                   # group triggers of the same condition for 30 s
     "dedup_key": null,                     # default: the condition with its targets left out
     "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/London",
                     "critical_bypass": true},
     "digest_minutes": 15}                  # one message per 15 minutes (clock-aligned)

Examples
--------
>>> q = parse_quiet_hours({"start": "22:00", "end": "07:00", "timezone": "UTC"})
>>> q.active(1_700_000_000_000_000)  # 2023-11-14 22:13 UTC
True
>>> q.ends_after(1_700_000_000_000_000)  # 2023-11-15 07:00 UTC
1700031600000000
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from statarb.errors import AlertRuleError

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
#: the severity of a rule that names none (and of rules stored before severities existed)
DEFAULT_SEVERITY: Severity = "warning"
#: bounds of the batching windows
MAX_DEDUP_SECONDS = 3600.0
MAX_DIGEST_MINUTES = 1440
_MAX_KEY = 100
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_US = 1_000_000


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for critical (for picking the highest of a group)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 1


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window, in a named time zone, during which notifications are held.

    Attributes
    ----------
    start, end
        Minutes after local midnight; ``start > end`` spans midnight (22:00-07:00).
    timezone
        An IANA zone name (``"Europe/London"``, ``"UTC"``); daylight saving is followed.
    critical_bypass
        Whether ``critical`` rules are still sent at once during the window.
    """

    start: int
    end: int
    timezone: str
    critical_bypass: bool = True

    def _local(self, ts: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts / _US, tz=ZoneInfo(self.timezone))

    def active(self, ts: int) -> bool:
        """Whether ``ts`` (epoch µs) falls inside the window."""
        local = self._local(ts)
        minute = local.hour * 60 + local.minute
        if self.start <= self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def ends_after(self, ts: int) -> int:
        """The first end of the window after ``ts`` (epoch µs), e.g. tomorrow's 07:00 local."""
        zone = ZoneInfo(self.timezone)
        local = self._local(ts)
        for days in range(3):
            day = local.date() + dt.timedelta(days=days)
            end = dt.datetime(day.year, day.month, day.day, self.end // 60, self.end % 60,
                              tzinfo=zone)  # fmt: skip
            end_us = int(end.timestamp() * _US)
            if end_us > ts:
                return end_us
        raise AssertionError("a daily window ends within two days")  # pragma: no cover

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the shape :func:`parse_quiet_hours` reads)."""
        return {
            "start": f"{self.start // 60:02d}:{self.start % 60:02d}",
            "end": f"{self.end // 60:02d}:{self.end % 60:02d}",
            "timezone": self.timezone,
            "critical_bypass": self.critical_bypass,
        }

    def summary(self) -> str:
        """E.g. ``22:00-07:00 Europe/London``."""
        d = self.to_dict()
        return f"{d['start']}-{d['end']} {self.timezone}"


def _hhmm(value: Any, where: str) -> int:
    if not isinstance(value, str) or not _HHMM.fullmatch(value.strip()):
        raise AlertRuleError(f"{where}: must be a time 'HH:MM' (00:00 to 23:59), got {value!r}")
    h, m = value.strip().split(":")
    return int(h) * 60 + int(m)


def parse_quiet_hours(data: Any, where: str = "quiet_hours") -> QuietHours | None:
    """Parse ``{"start": "HH:MM", "end": "HH:MM", "timezone": ..., "critical_bypass": ...}``.

    ``None`` (or an empty object) means no quiet hours.
    """
    if data is None or data == {}:
        return None
    if not isinstance(data, Mapping):
        raise AlertRuleError(f"{where}: must be an object or null, got {type(data).__name__}")
    unknown = sorted(set(data) - {"start", "end", "timezone", "critical_bypass"})
    if unknown:
        raise AlertRuleError(f"{where}.{unknown[0]}: unknown field (start, end, timezone, "
                             "critical_bypass)")  # fmt: skip
    start = _hhmm(data.get("start"), f"{where}.start")
    end = _hhmm(data.get("end"), f"{where}.end")
    if start == end:
        raise AlertRuleError(f"{where}.end: must differ from start (an empty window)")
    tz = data.get("timezone", "UTC")
    if not isinstance(tz, str) or not 1 <= len(tz) <= 64:
        raise AlertRuleError(f"{where}.timezone: must be an IANA zone name such as 'UTC'")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise AlertRuleError(
            f"{where}.timezone: {tz!r} is not a known time zone (e.g. 'UTC', 'Europe/London', "
            "'America/New_York')"
        ) from None
    bypass = data.get("critical_bypass", True)
    if not isinstance(bypass, bool):
        raise AlertRuleError(f"{where}.critical_bypass: must be true or false, got {bypass!r}")
    return QuietHours(start, end, tz, bypass)


def parse_severity(value: Any, where: str = "severity") -> Severity:
    """``info``, ``warning`` or ``critical`` (``None``: the default, ``warning``)."""
    if value is None:
        return DEFAULT_SEVERITY
    if not isinstance(value, str) or value.lower() not in SEVERITIES:
        raise AlertRuleError(f"{where}: {value!r} is not one of {list(SEVERITIES)}")
    return value.lower()  # type: ignore[return-value]


def parse_dedup_key(value: Any, where: str = "dedup_key") -> str | None:
    """A free group name of at most 100 printable characters, or ``None``."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _MAX_KEY or not value.isprintable():
        raise AlertRuleError(f"{where}: must be text of at most {_MAX_KEY} printable characters")
    return value


def parse_digest_minutes(value: Any, where: str = "digest_minutes") -> int:
    """Whole minutes from 0 (no digest) to 1440."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise AlertRuleError(f"{where}: must be a whole number of minutes, got {value!r}")
    if not 0 <= value <= MAX_DIGEST_MINUTES:
        raise AlertRuleError(f"{where}: must be from 0 to {MAX_DIGEST_MINUTES}, got {value!r}")
    return int(value)


def condition_signature(condition: Mapping[str, Any]) -> str:
    """The condition JSON with every ``target`` replaced by ``*``: rules watching the same
    metric at the same threshold on different pairs share it (the default dedup key)."""

    def strip(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {k: ("*" if k == "target" else strip(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return orjson.dumps(strip(condition), option=orjson.OPT_SORT_KEYS).decode()


__all__ = [
    "DEFAULT_SEVERITY",
    "MAX_DEDUP_SECONDS",
    "MAX_DIGEST_MINUTES",
    "SEVERITIES",
    "QuietHours",
    "Severity",
    "condition_signature",
    "parse_dedup_key",
    "parse_digest_minutes",
    "parse_quiet_hours",
    "parse_severity",
    "severity_rank",
]
