"""The alert outbox: recorded triggers -> messages on their channels, held ones kept on disk.

The engine records every trigger first (the alert history has each one); then it hands the
recorded event to :meth:`Outbox.admit`, which asks the :class:`~statarb.alerts.dispatch.Dispatcher`
whether to send it now or hold it (quiet hours, digest, dedup window). A task releases held
messages when they fall due and delivers them through the :class:`~statarb.alerts.notify.Notifier`;
once every channel of an event has answered, the event's ``delivery`` and ``deliveries`` fields
are updated in the history.

The held messages are written to a JSON file next to the alert journal's spill file
(``<spill>.held``, mode 0600) whenever they change, atomically (temporary file, then rename),
and read back at the next start, so a restart neither loses nor repeats them. The file names
channels by a digest of their settings, never by their URLs or tokens; a channel no rule has any
more (rule deleted or edited) is reported as ``not sent`` in the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from statarb.alerts.dispatch import Batch, Dispatcher, Held, firing_targets, plan
from statarb.alerts.evaluator import Trigger
from statarb.alerts.message import render
from statarb.alerts.notify import Channel, Delivery, Notifier
from statarb.alerts.rules import Rule
from statarb.alerts.telegram import TelegramChat
from statarb.errors import InputError
from statarb.timeutil import us_to_iso

log = logging.getLogger(__name__)

#: longest sleep of the release task between two checks, seconds
MAX_WAIT_S = 30.0
_VERSION = 1


def channel_key(channel: Channel) -> str:
    """A stable name of a channel that reveals nothing of it (SHA-256 of its settings)."""
    kind = "telegram" if isinstance(channel, TelegramChat) else channel.kind
    raw = orjson.dumps({"kind": kind, **channel.to_dict()}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(raw).hexdigest()[:24]


def channels_of(rule: Rule) -> dict[str, Channel]:
    """The rule's webhooks and Telegram chats by :func:`channel_key`."""
    chans: list[Channel] = [*rule.webhooks, *rule.telegram]
    return {channel_key(c): c for c in chans}


def delivery_status(rule: Rule, now: int) -> str:
    """The ``delivery`` field of a new event of ``rule`` fired at ``now`` (epoch µs)."""
    if not (rule.webhooks or rule.telegram):
        return "none"
    p = plan(rule, now)
    if p.reason == "now":
        return "pending"
    return f"held: {p.note}, until {us_to_iso(p.due)}"


class Outbox:
    """Admit recorded triggers, hold or send them, keep the held ones (see the module docs).

    Parameters
    ----------
    notifier
        Delivers each message.
    path
        The file of held messages.
    rules
        The rules in force (held messages find their channels there when they fall due).
    on_delivered
        ``on_delivered(event_id, changes)`` merges the outcome into the recorded event.
    clock
        Wall clock, epoch µs.
    """

    def __init__(
        self,
        notifier: Notifier,
        path: str | Path,
        *,
        rules: Callable[[], list[Rule]],
        on_delivered: Callable[[int, dict[str, Any]], None],
        clock: Callable[[], int],
    ) -> None:
        self.notifier, self.path = notifier, Path(path)
        self.rules, self.on_delivered, self.clock = rules, on_delivered, clock
        self.dispatcher = Dispatcher()
        # per event: channels still to answer and the answers so far
        self._open: dict[int, dict[str, Any]] = {}
        self._wake = asyncio.Event()
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self._file_lock = threading.Lock()
        # per rule object: its dedup group and channels (digests are not free to recompute)
        self._derived: dict[int, tuple[Rule, str, dict[str, Channel]]] = {}
        self.counts = {"messages": 0, "held": 0, "released": 0, "orphaned": 0}

    # -- lifecycle -----------------------------------------------------------------------------
    def load(self) -> int:
        """Read the held messages of a previous run (call in a thread before :meth:`start`)."""
        if not self.path.is_file():
            return 0
        try:
            doc = orjson.loads(self.path.read_bytes())
            self.dispatcher.restore(doc["held"])
            for eid, acc in doc.get("open", {}).items():
                self._open.setdefault(int(eid), {"left": int(acc["left"]),
                                                 "results": list(acc["results"])})  # fmt: skip
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError,
                InputError) as exc:  # fmt: skip
            log.error("held alert notifications in %s are unreadable (kept aside): %s",
                      self.path, exc)  # fmt: skip
            with contextlib.suppress(OSError):
                self.path.replace(self.path.with_name(self.path.name + ".bad"))
            return 0
        held = self.dispatcher.held
        if held:
            log.warning("%d held alert notifications read back from %s", held, self.path)
        return held

    def start(self) -> None:
        """Start the release task (on the running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="alert-outbox")

    async def close(self) -> None:
        """Stop releasing; write what is still held for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await asyncio.to_thread(self._write, self._snapshot())
        except OSError as exc:  # the stop goes on; say what is lost
            log.error("%d held alert notifications could not be kept in %s: %s",
                      self.dispatcher.held, self.path, exc)  # fmt: skip

    def wake(self) -> None:
        """Re-check what is due now (after the clock moved, in tests)."""
        self._wake.set()

    @property
    def held(self) -> int:
        """Triggers held, counted once per channel."""
        return self.dispatcher.held

    # -- admission -----------------------------------------------------------------------------
    def admit(self, rule: Rule, trig: Trigger, event: dict[str, Any]) -> None:
        """Send or hold the recorded ``event`` (with its ``id`` and ``fired_at``) of ``rule``."""
        group, chans = self._derive(rule)
        eid = event.get("id")
        if not chans:
            return
        now = int(event.get("fired_at") or self.clock())
        item = Held(eid, rule.id, rule.name, rule.severity, group,
                    firing_targets(rule, trig.values), trig.ts, now, trig.message,
                    dict(trig.values))  # fmt: skip
        if isinstance(eid, int):
            self._open[eid] = {"left": len(chans), "results": []}
        ready = self.dispatcher.admit(rule, item, list(chans), now)
        if len(ready) < len(chans):
            self.counts["held"] += 1
            self._dirty = True
            self._wake.set()
        for batch in ready:
            self._send(batch, chans.get(batch.channel))

    def _derive(self, rule: Rule) -> tuple[str, dict[str, Channel]]:
        got = self._derived.get(id(rule))
        if got is None or got[0] is not rule:
            if len(self._derived) > 10_000:  # rules replaced many times: start over
                self._derived.clear()
            got = self._derived[id(rule)] = (rule, rule.group, channels_of(rule))
        return got[1], got[2]

    async def release(self, now: int | None = None) -> int:
        """Send the held messages due at ``now`` (default: the clock); return how many."""
        batches = self.dispatcher.due(self.clock() if now is None else now)
        if not batches:
            return 0
        known: dict[str, Channel] = {}
        for r in self.rules():
            known.update(self._derive(r)[1])
        for batch in batches:
            self._send(batch, known.get(batch.channel))
        self.counts["released"] += len(batches)
        self._dirty = True
        return len(batches)

    def _send(self, batch: Batch, channel: Channel | None) -> None:
        if channel is None:
            self.counts["orphaned"] += 1
            why = "not sent: no rule has this channel any more"
            self._done(batch, Delivery("?", "?", False, 0, None, why, 0.0))
            return
        self.counts["messages"] += 1
        self.notifier.submit_message(channel, render(batch), lambda d: self._done(batch, d))

    def _done(self, batch: Batch, result: Delivery) -> None:
        for item in batch.items:
            eid = item.event_id
            acc = self._open.get(eid) if eid is not None else None
            if eid is None or acc is None:
                continue
            acc["results"].append({**result.to_dict(), "batch": batch.reason,
                                   "batched": len(batch.items)})  # fmt: skip
            acc["left"] -= 1
            if acc["left"] <= 0:
                del self._open[eid]
                ok = all(r["ok"] for r in acc["results"])
                changes = {"delivery": "delivered" if ok else "failed",
                           "deliveries": acc["results"]}  # fmt: skip
                self.on_delivered(eid, changes)

    # -- the release task and the file ---------------------------------------------------------
    async def _run(self) -> None:
        while True:
            self._wake.clear()
            failed = False
            try:
                await self.release()
                if self._dirty:
                    self._dirty = False
                    await asyncio.to_thread(self._write, self._snapshot())
            except Exception:  # the task must survive a failing disk or channel
                log.exception("alert outbox: releasing or keeping held notifications failed")
                failed = self._dirty = True  # written again at the next pass
            nxt = self.dispatcher.next_due()
            wait = MAX_WAIT_S if nxt is None else (nxt - self.clock()) / 1e6
            if failed:
                wait = max(wait, 1.0)  # no busy loop on a disk that keeps failing
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(MAX_WAIT_S, max(0.0, wait))):
                    await self._wake.wait()

    def _snapshot(self) -> dict[str, Any]:
        held = self.dispatcher.snapshot()
        ids = {i["event_id"] for b in held for i in b["items"]}
        return {"version": _VERSION, "held": held,
                "open": {str(k): v for k, v in self._open.items() if k in ids}}  # fmt: skip

    def _write(self, snapshot: dict[str, Any]) -> None:
        with self._file_lock:
            self._write_locked(snapshot)

    def _write_locked(self, snapshot: dict[str, Any]) -> None:
        if not snapshot["held"]:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(orjson.dumps(snapshot))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


def held_path_for(spill_path: str | Path) -> Path:
    """The file of held notifications: ``<spill file>.held``."""
    p = Path(spill_path)
    return p.with_name(p.name + ".held")


__all__ = ["MAX_WAIT_S", "Outbox", "channel_key", "channels_of", "delivery_status", "held_path_for"]
