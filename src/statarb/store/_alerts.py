"""Alert rules and trigger history, shared by both stores (the SQL is plain and portable)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any

from statarb.errors import InputError, StoreError
from statarb.store import _common as c

#: largest id a caller may give a NEW rule: the ids the store assigns after it must still fit
MAX_NEW_RULE_ID = 2**53 - 1


class AlertPersistence(ABC):
    """The alert part of the :class:`~statarb.store.base.TickStore` contract.

    A store mixing this in provides :meth:`transaction` and :meth:`_execute` (SQL with ``?``
    placeholders; returns every result row and the row count) and :meth:`_reserve_ids`, and may
    override :meth:`_sync_ids`.
    """

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group the writes inside the ``with`` block into one atomic transaction."""

    @abstractmethod
    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[tuple[Any, ...]], int]:
        """Run one SQL statement; return the result rows and the row count."""

    def _sync_ids(self, table: str) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook run after rows of ``table`` were stored under ids chosen by the caller."""

    def save_alert_rule(self, rule: dict[str, Any]) -> int:
        """Insert a rule (no ``"id"`` key) or replace the rule with that ``"id"``; return its id."""
        rid, body = c.rule_body(rule)
        now = c.now_us()
        with self.transaction():
            if rid is not None and not 1 <= rid <= MAX_NEW_RULE_ID:
                ok = 1 <= rid < 2**63  # replacing a stored rule keeps its id, whatever it is
                if not (ok and self._execute("SELECT 1 FROM alert_rules WHERE id = ?", (rid,))[0]):
                    shown = rid if abs(rid) < 2**64 else "beyond 64 bits"
                    raise InputError(
                        f"alert rule id {shown} is not valid for a new rule: use 1 to "
                        f"{MAX_NEW_RULE_ID}, or no id to have one assigned"
                    )
            if rid is None:
                rows, _ = self._execute(
                    "INSERT INTO alert_rules (body, created_us, updated_us) VALUES (?, ?, ?) "
                    "RETURNING id",
                    (body, now, now),
                )
                return int(rows[0][0])
            self._execute(
                "INSERT INTO alert_rules (id, body, created_us, updated_us) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET body = excluded.body, "
                "updated_us = excluded.updated_us",
                (rid, body, now, now),
            )
            self._sync_ids("alert_rules")
            return rid

    def list_alert_rules(self) -> list[dict[str, Any]]:
        """Every stored rule as saved, each with its ``"id"``, ordered by id."""
        rows, _ = self._execute("SELECT id, body FROM alert_rules ORDER BY id")
        return [{**c.load_json(body), "id": int(rid)} for rid, body in rows]

    def delete_alert_rule(self, rule_id: int) -> bool:
        """Delete a rule (its history stays); return whether it existed."""
        with self.transaction():
            _, count = self._execute("DELETE FROM alert_rules WHERE id = ?", (int(rule_id),))
            return count > 0

    @abstractmethod
    def _reserve_ids(self, table: str, n: int) -> list[int]:
        """Take ``n`` ids of ``table`` that the store will never assign itself (inside a
        transaction); each store knows its own id generator."""

    def reserve_alert_event_ids(self, n: int) -> list[int]:
        """Reserve ``n`` ids for alert events recorded later with :meth:`add_alert_event`.

        The ids are ascending and the store never assigns them to another event, in this
        process or any other writing the same store; unused ones are simply skipped.
        """
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 100_000:
            raise InputError(f"n must be an int from 1 to 100000, got {n!r}")
        with self.transaction():
            return self._reserve_ids("alert_events", n)

    def add_alert_event(self, event: dict[str, Any]) -> int:
        """Record a trigger (``rule_id``, ``ts`` in epoch µs, any JSON payload); return its id.

        An ``"id"`` in the event must come from :meth:`reserve_alert_event_ids`: the event is
        stored under it, and recording the same event again (a retry after a lost reply) is a
        no-op. Without one the store assigns the id.
        """
        rule_id, ts, payload = c.event_parts(event)
        eid = event.get("id")
        if eid is not None:
            return self._add_reserved_event(eid, rule_id, ts, payload)
        with self.transaction():
            rows, _ = self._execute(
                "INSERT INTO alert_events (rule_id, ts, payload) VALUES (?, ?, ?) RETURNING id",
                (rule_id, ts, payload),
            )
            return int(rows[0][0])

    def _add_reserved_event(self, eid: Any, rule_id: int, ts: int, payload: str) -> int:
        if isinstance(eid, bool) or not isinstance(eid, int) or not 1 <= eid < 2**63:
            raise InputError(f"alert event id must be an int from reserve_alert_event_ids, "
                             f"got {eid!r}")  # fmt: skip
        with self.transaction():
            _, count = self._execute(
                "INSERT INTO alert_events (id, rule_id, ts, payload) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (eid, rule_id, ts, payload),
            )
            if count == 0:
                rows, _ = self._execute(
                    "SELECT rule_id, ts FROM alert_events WHERE id = ?", (eid,)
                )  # fmt: skip
                if not rows or (int(rows[0][0]), int(rows[0][1])) != (rule_id, ts):
                    raise StoreError(f"alert event id {eid} is taken by another event")
        return eid

    def update_alert_event(self, event_id: int, changes: dict[str, Any]) -> None:
        """Merge ``changes`` (e.g. delivery status) into a recorded trigger."""
        if not isinstance(changes, dict):
            raise TypeError(f"changes must be a dict, got {type(changes).__name__}")
        with self.transaction():
            rows, _ = self._execute(
                "SELECT id, rule_id, ts, payload FROM alert_events WHERE id = ?", (int(event_id),)
            )
            if not rows:
                raise StoreError(f"alert event {event_id} does not exist")
            rule_id, ts, payload = c.event_parts({**c.event_dict(rows[0]), **changes})
            self._execute(
                "UPDATE alert_events SET rule_id = ?, ts = ?, payload = ? WHERE id = ?",
                (rule_id, ts, payload, int(event_id)),
            )

    def list_alert_events(
        self,
        *,
        rule_id: int | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Recorded triggers, newest first, each with ``"id"``, ``"rule_id"`` and ``"ts"``."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise InputError(f"limit must be an int >= 0, got {limit!r}")
        c.check_range(start, end)
        where, params = "", list[int]()
        for clause, value in (("ts >= ?", start), ("ts < ?", end), ("rule_id = ?", rule_id)):
            if value is not None:
                where, params = f"{where} AND {clause}", [*params, int(value)]
        rows, _ = self._execute(
            f"SELECT id, rule_id, ts, payload FROM alert_events WHERE 1 = 1{where} "
            "ORDER BY ts DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [c.event_dict(r) for r in rows]


__all__ = ["AlertPersistence"]
