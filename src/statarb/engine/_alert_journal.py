"""Alert events on their way to the store: published at once, recorded in order, never lost.

The same spill file also keeps the ticks and quotes the tick writer could not store at shutdown
(:meth:`AlertJournal.spill_rows`); they are stored again at the next start.

A trigger takes its id from a pool the store reserved ahead of time
(:meth:`~statarb.store.base.TickStore.reserve_alert_event_ids`), is handed back to the engine to
publish and deliver **at once** (no I/O, no thread hop on the way from tick to alert), and is
appended to the journal. One task writes the journal to the store in a worker thread, oldest
first (what queued up meanwhile in one transaction), retrying a failing store (locked, disk
full, connection lost) with backoff until it takes the events, exactly as the tick writer does.
An event is stored under the id it was published with, so subscribers and the history agree,
and a retried write never records it twice. When the pool is empty (a store that refused the
last refill, a burst larger than the pool) triggers wait, in firing order, until the store
reserves more ids. Delivery results go through the same journal, after the event they update.

At shutdown the journal is given :data:`CLOSE_GRACE_S`; what the store still refuses then is
appended to a spill file (JSON lines), which :meth:`AlertJournal.replay_spill` records at the
next start before anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from statarb.errors import StatarbError

if TYPE_CHECKING:
    from statarb.store.base import TickStore

log = logging.getLogger(__name__)

#: seconds the journal gets at shutdown before what is left goes to the spill file
CLOSE_GRACE_S = 5.0
_MAX_PAUSE_S = 2.0
#: ids reserved at a time; the pool is refilled once it is down to half
ID_POOL = 256
#: queued writes committed in one transaction, at most
WRITE_BATCH = 512


@dataclass
class _Entry:
    """One pending store operation: record an event, or merge changes into a recorded one."""

    op: str
    event: dict[str, Any]
    on_id: Callable[[dict[str, Any]], None] | None = None
    done: asyncio.Future[None] | None = field(default=None, repr=False)


class AlertJournal:
    """The ordered, retried queue of alert-event writes (see the module docs).

    Parameters
    ----------
    store
        Where events are recorded.
    spill_path
        The spill file (JSON lines) for what cannot be recorded at shutdown.
    """

    def __init__(self, store: TickStore, spill_path: str | Path) -> None:
        self.store, self.spill_path = store, Path(spill_path)
        self._q: deque[_Entry] = deque()
        self._ids: deque[int] = deque()  # reserved in the store, not given to an event yet
        self._waiting: deque[_Entry] = deque()  # events waiting for an id, in firing order
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.grace = CLOSE_GRACE_S
        self.failing = False
        self.counts = {"recorded": 0, "updated": 0, "store_errors": 0, "spilled": 0,
                       "waited_for_id": 0}  # fmt: skip

    @property
    def pending(self) -> int:
        """Operations waiting for the store."""
        return len(self._q)

    @property
    def reserved(self) -> int:
        """Store ids at hand for the next triggers (the pool is refilled at start and at half)."""
        return len(self._ids)

    def start(self) -> None:
        """Start the writing task (on the running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="alert-journal")

    def record(self, event: dict[str, Any], on_id: Callable[[dict[str, Any]], None]) -> None:
        """Give ``event`` its id and queue it for the store.

        ``on_id(event with its id)`` (publish, deliver) runs now when a reserved id is at hand
        and no earlier event waits for one; otherwise once the store has reserved more, in the
        order the events were recorded. The store write follows either way.
        """
        entry = _Entry("add", event, on_id)
        if self._ids and not self._waiting:
            event["id"] = self._ids.popleft()
            self._handed(entry)
        else:
            self.counts["waited_for_id"] += 1
            self._waiting.append(entry)
        if len(self._ids) < ID_POOL // 2:
            self._wake.set()  # the task refills the pool
        self._push(entry)

    def _handed(self, entry: _Entry) -> None:
        if entry.on_id is None:
            return
        try:
            entry.on_id(entry.event)
        except Exception:  # publishing or delivery must not stop the journal
            log.exception("handling alert event %s failed", entry.event.get("id"))

    def _give_ids(self) -> None:
        """Hand reserved ids to the waiting events, oldest first."""
        while self._waiting and self._ids:
            entry = self._waiting.popleft()
            entry.event["id"] = self._ids.popleft()
            self._handed(entry)

    def update(self, event_id: int, changes: dict[str, Any]) -> None:
        """Queue a merge of ``changes`` into the recorded event ``event_id``."""
        self._push(_Entry("update", {"id": event_id, "changes": changes}))

    def _push(self, entry: _Entry) -> None:
        self._q.append(entry)
        self._wake.set()

    async def flush(self) -> None:
        """Wait until everything queued so far is in the store."""
        if not self._q:
            return
        marker = asyncio.get_running_loop().create_future()
        self._q[-1].done = self._q[-1].done or marker
        await asyncio.shield(self._q[-1].done)

    async def _run(self) -> None:
        attempt = 0
        while True:
            # events wait for ids, or the pool runs low while running: reserve more first
            low = bool(self._waiting) or (len(self._ids) < ID_POOL // 2 and not self._closing)
            if not self._q and not low:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            what = "alert event ids not reserved yet" if low else "alert event not recorded yet"
            try:
                await (self._refill() if low else self._write_head())
            except StatarbError as exc:
                attempt += 1
                self.failing = True
                self.counts["store_errors"] += 1
                log.error("%s (attempt %d, retried): %s", what, attempt, exc)
                if self._closing:
                    return
                await asyncio.sleep(min(0.05 * 2**attempt, _MAX_PAUSE_S))
                continue
            attempt, self.failing = 0, False

    async def _refill(self) -> None:
        n = min(ID_POOL - len(self._ids) + len(self._waiting), 100_000)
        self._ids.extend(await asyncio.to_thread(self.store.reserve_alert_event_ids, n))
        self._give_ids()

    async def _write_head(self) -> None:
        # what is queued goes in one transaction; every event here has its id (those waiting
        # for one make `low` true, and the pool is refilled first)
        batch = list(itertools.islice(self._q, WRITE_BATCH))
        await asyncio.to_thread(self._write, batch)
        for entry in batch:
            self._q.popleft()
            self.counts["recorded" if entry.op == "add" else "updated"] += 1
            if entry.done is not None and not entry.done.done():
                entry.done.set_result(None)

    def _write(self, batch: list[_Entry]) -> None:
        if len(batch) == 1:  # a lone write is its own transaction
            self._write_one(batch[0])
            return
        with self.store.transaction():  # one commit for all
            for entry in batch:
                self._write_one(entry)

    def _write_one(self, entry: _Entry) -> None:
        if entry.op == "add":
            self.store.add_alert_event(entry.event)  # under the id it was published with
        else:
            self.store.update_alert_event(entry.event["id"], entry.event["changes"])

    async def close(self, grace: float | None = None) -> None:
        """Write what is queued within ``grace`` seconds (default :attr:`grace`); spill the rest."""
        grace = self.grace if grace is None else grace
        self._closing = True
        self._wake.set()
        if self._task is not None:
            try:
                async with asyncio.timeout(grace):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task
            self._task = None
        if self._q:
            left = list(self._q)
            await asyncio.to_thread(self._spill, left)
            self._q.clear()
            for e in left:  # kept in the file: whoever waits for them may go on
                if e.done is not None and not e.done.done():
                    e.done.set_result(None)

    def _spill(self, entries: list[_Entry]) -> None:
        self.spill_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.spill_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as fh:
            for e in entries:
                fh.write(orjson.dumps({"op": e.op, "event": e.event}) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.counts["spilled"] += len(entries)
        log.error("the store refused %d alert event writes at shutdown: kept in %s and "
                  "recorded at the next start", len(entries), self.spill_path)  # fmt: skip

    def spill_rows(self, ticks: list[Any], quotes: list[Any]) -> None:
        """Append ticks and quotes the store refused at shutdown to the spill file (any thread)."""
        from dataclasses import asdict

        opt = orjson.OPT_SERIALIZE_NUMPY
        pairs = [("ticks", b) for b in ticks] + [("quotes", b) for b in quotes]
        lines = [orjson.dumps({"op": op, "batch": asdict(b)}, option=opt) for op, b in pairs]
        self.spill_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.spill_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as fh:
            fh.write(b"".join(line + b"\n" for line in lines))
            fh.flush()
            os.fsync(fh.fileno())
        rows = sum(len(b.ts) for b in (*ticks, *quotes))
        self.counts["spilled"] += rows
        log.error("the store refused %d rows at shutdown: kept in %s and stored at the next start",
                  rows, self.spill_path)  # fmt: skip

    def replay_spill(self) -> int:
        """Record what a previous run spilled (call in a thread before starting); return count.

        The file is removed once every line is in the store; a line the store refuses stops the
        replay and leaves the file for the next start (raises the store's error).
        """
        if not self.spill_path.is_file():
            return 0
        lines = self.spill_path.read_bytes().splitlines()
        pending = [orjson.loads(line) for line in lines if line.strip()]
        ids: dict[int, int] = {}
        for item in pending:
            if item["op"] in ("ticks", "quotes"):
                self._replay_rows(item["op"], item["batch"])
                continue
            event = item["event"]
            if item["op"] == "add":
                old = event.get("id")
                delivery = str(event.get("delivery"))
                # never sent (held or pending; a later update line says if it went)
                if delivery == "pending" or delivery.startswith("held"):
                    event["delivery"] = "not sent (recorded after a restart)"
                new = self.store.add_alert_event(event)  # a published event keeps its id
                if isinstance(old, int):
                    ids[old] = new
            else:
                eid = event["id"]
                self.store.update_alert_event(ids.get(eid, eid), event["changes"])
        self.spill_path.unlink()
        log.warning("stored %d writes kept in %s", len(pending), self.spill_path)
        return len(pending)

    def _replay_rows(self, op: str, batch: dict[str, Any]) -> None:
        import numpy as np

        from statarb.model import QuoteBatch, TickBatch

        cols: dict[str, Any] = {k: np.asarray(v) if isinstance(v, list) else v
                                for k, v in batch.items()}  # fmt: skip
        if op == "ticks":
            self.store.write_ticks(TickBatch(**cols))
        else:
            self.store.write_quotes(QuoteBatch(**cols))


def spill_path_for(store_url: str, configured: str | None) -> Path:
    """The spill file: the configured one, else beside the SQLite file, else ``data/``."""
    if configured:
        return Path(configured)
    if store_url.startswith("sqlite:///"):
        db = Path(store_url.removeprefix("sqlite:///").split("?", 1)[0])
        if str(db) not in ("", ":memory:"):
            return db.with_name(db.name + ".spill")
    return Path("data") / "statarb.spill"


__all__ = ["CLOSE_GRACE_S", "AlertJournal", "spill_path_for"]
