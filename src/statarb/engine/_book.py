"""The book of watched pairs: a component of the engine with its own state.

Each pair of the book has a :class:`~statarb.analytics.tracker.PairTracker` updated in O(1) when
both legs have closed a bar of the pair's timeframe. The rolling Engle-Granger test, the one
heavier step, runs in a worker thread when due. Every update is published on the hub (topic
``book``), its metrics go to the engine's alert evaluation, and the bar-close-to-published latency
is recorded.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from statarb.alerts.rules import metric_key
from statarb.analytics.tracker import PairSnapshot, PairTracker, TrackerSettings, eg_pvalue
from statarb.errors import InputError, StatarbError
from statarb.model import BarBatch, Timeframe

if TYPE_CHECKING:
    from statarb.engine._events import Hub
    from statarb.store.base import TickStore

log = logging.getLogger(__name__)

#: settings a user may give a pair of the book (the rest keep their defaults)
BOOK_SETTINGS: tuple[str, ...] = (
    "method", "window", "z_window", "entry", "exit", "stop", "time_stop", "fee_bps", "slippage_bps",
    "drift_bars", "coint_window", "coint_every", "memory",
)  # fmt: skip
MAX_BOOK_PAIRS = 500
#: closes of one leg kept while waiting for the other leg's bar of the same open time
MAX_PENDING = 4096
SPARK = 60
#: health as a number for alert rules (holding 0, weakening 1, broken 2)
HEALTH_VALUE = {"warming": math.nan, "holding": 0.0, "weakening": 1.0, "broken": 2.0}
#: tracker field -> alert metric of the pair (per bar of the pair's timeframe)
BOOK_METRICS: dict[str, str] = {
    "coint_pvalue": "eg_pvalue_rolling",
    "cusum": "cusum",
    "reversion": "reversion_cusum",
    "excursion": "excursion",
    "drift": "beta_drift",
    "half_life_ratio": "half_life_ratio",
    "correlation": "return_correlation",
}

#: metrics only the book publishes (a rule on them needs the pair in the book, not watched)
#: metrics of the paper trader of a book pair (see statarb.engine._paper)
PAPER_METRICS: tuple[str, ...] = ("paper_pnl", "paper_unrealised", "paper_fill")
BOOK_ONLY_METRICS: frozenset[str] = frozenset({*BOOK_METRICS.values(), "health", *PAPER_METRICS})


def tracker_settings(data: dict[str, Any]) -> TrackerSettings:
    """Validated tracker settings from a JSON object (unknown keys are refused by name)."""
    if not isinstance(data, dict):
        raise InputError(f"book pair settings must be an object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(BOOK_SETTINGS))
    if unknown:
        raise InputError(f"unknown book pair settings {unknown}; known: {list(BOOK_SETTINGS)}")
    kinds = {f.name: f.type for f in fields(TrackerSettings)}
    for k, v in data.items():
        if k == "method":
            continue
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise InputError(f"book pair setting {k} must be a number, got {v!r} ({kinds[k]})")
    return TrackerSettings(**data)


@dataclass(frozen=True)
class BookEntry:
    """One pair of the book: ``a`` is the dependent leg (y), ``b`` the regressor (x)."""

    id: int
    a: str
    b: str
    timeframe: str
    settings: TrackerSettings

    @property
    def target(self) -> str:
        """The pair as alert rules name it (``"A/B"``)."""
        return f"{self.a}/{self.b}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields; settings with their defaults filled in."""
        return {"id": self.id, "a": self.a, "b": self.b, "timeframe": self.timeframe,
                "settings": {k: getattr(self.settings, k) for k in BOOK_SETTINGS}}  # fmt: skip


class _Live:
    """A tracker with the closes of each leg it has not consumed yet (by open time)."""

    def __init__(self, entry: BookEntry) -> None:
        self.entry = entry
        self.head = entry.to_dict()
        self.tracker = PairTracker(entry.settings)
        self.pending: dict[str, dict[int, float]] = {entry.a: {}, entry.b: {}}
        self.last_time = -1
        self.spark: deque[float | None] = deque(maxlen=SPARK)
        self.coint_task: asyncio.Future[float] | None = None


class PairBook:
    """Analyse every pair of the book on each bar close (see the module docstring).

    Parameters
    ----------
    store
        Where the book is persisted.
    hub
        Returns where rows are published now (topic ``book``; the engine's hub may change).
    timeframes
        Timeframes whose bars the engine builds: a pair must use one of them.
    on_metrics
        Called with the metric values of an update, its bar end and the bar's receipt time.
    on_latency
        Called with the bar-close-to-published time of each update (µs).
    clock
        Wall clock in epoch µs.
    on_update
        Called after each update with the pair, its snapshot, the bar's closes (y, x), the bar's
        end and its receipt time (the paper trader decides there).
    """

    def __init__(
        self,
        store: TickStore,
        hub: Callable[[], Hub],
        *,
        timeframes: list[str],
        on_metrics: Callable[[dict[str, float], int, int], None],
        on_latency: Callable[[int], None],
        clock: Callable[[], int],
        on_update: Callable[[BookEntry, PairSnapshot, float, float, int, int], None] | None = None,
    ) -> None:
        self.store, self._hub, self.timeframes = store, hub, timeframes
        self._on_update = on_update
        self._on_metrics, self._on_latency, self.clock = on_metrics, on_latency, clock
        self._live: dict[int, _Live] = {}
        self._by_leg: dict[tuple[str, str], list[_Live]] = {}
        self.counts = {"updates": 0, "coint_tests": 0, "coint_skipped": 0}

    # -- the set of pairs ---------------------------------------------------------------------
    @property
    def entries(self) -> list[BookEntry]:
        """The pairs of the book, by id."""
        return [lv.entry for _, lv in sorted(self._live.items())]

    def _entry(self, row: dict[str, Any]) -> BookEntry:
        return BookEntry(int(row["id"]), row["a"], row["b"], row["timeframe"],
                         tracker_settings(row.get("settings") or {}))  # fmt: skip

    def _install(self, entry: BookEntry, warm: tuple[PairTracker, list[float | None]]) -> None:
        self.remove_local(entry.id)
        lv = _Live(entry)
        lv.tracker, zs = warm
        lv.last_time = lv.tracker.last.time if lv.tracker.last is not None else -1
        lv.spark.extend(zs)
        self._live[entry.id] = lv
        for leg in (entry.a, entry.b):
            self._by_leg.setdefault((leg, entry.timeframe), []).append(lv)

    def remove_local(self, pair_id: int) -> bool:
        """Forget a pair here (not in the store)."""
        lv = self._live.pop(pair_id, None)
        if lv is None:
            return False
        for leg in (lv.entry.a, lv.entry.b):
            group = self._by_leg.get((leg, lv.entry.timeframe), [])
            if lv in group:
                group.remove(lv)
        return True

    async def load(self) -> None:
        """Install the stored pairs, each warmed up from stored history (in worker threads).

        A leg's stored history is read once for all the pairs that share it.
        """
        legs: dict[tuple[str, str], BarBatch] = {}
        for row in await asyncio.to_thread(self.store.list_book_pairs):
            try:
                entry = self._entry(row)
            except (StatarbError, TypeError, ValueError) as exc:
                log.error("book pair %s is invalid and ignored: %s", row.get("id"), exc)
                continue
            self._install(entry, await asyncio.to_thread(self._warm, entry, legs))

    async def add(self, a: str, b: str, timeframe: str, settings: dict[str, Any]) -> BookEntry:
        """Add (or re-configure) a pair: validated, persisted, warmed up from history."""
        a, b = a.strip().upper(), b.strip().upper()
        if not a or not b or a == b:
            raise InputError(f"a pair needs two different symbols, got {a!r}/{b!r}")
        tf = Timeframe.parse(timeframe).name
        if tf not in self.timeframes:
            raise InputError(f"timeframe {tf} is not built by this engine; use one of "
                             f"{self.timeframes} (setting STATARB_TIMEFRAMES)")  # fmt: skip
        ts = tracker_settings(settings)
        known = {(e.a, e.b, e.timeframe) for e in self.entries}
        if (a, b, tf) not in known and len(self._live) >= MAX_BOOK_PAIRS:
            raise InputError(f"the book holds at most {MAX_BOOK_PAIRS} pairs")
        stored = {k: v for k, v in ts.to_dict().items() if k in BOOK_SETTINGS}
        pid = await asyncio.to_thread(self.store.save_book_pair, a, b, tf, stored)
        entry = BookEntry(pid, a, b, tf, ts)
        self._install(entry, await asyncio.to_thread(self._warm, entry))
        return entry

    async def remove(self, pair_id: int) -> bool:
        """Remove a pair from the book and the store; return whether it was there."""
        gone = await asyncio.to_thread(self.store.delete_book_pair, pair_id)
        return self.remove_local(pair_id) or gone

    def _warm(
        self, entry: BookEntry, legs: dict[tuple[str, str], BarBatch] | None = None
    ) -> tuple[PairTracker, list[float | None]]:
        """A tracker run over the stored bars of the pair, and its last z-scores (a thread).

        Only bars where both legs closed are used (no carried-forward prices). ``legs`` keeps
        the whole stored history of each leg read for a pair whose history ended before now,
        for the next pairs of the same leg.
        """
        from statarb.bars import align
        from statarb.history import load_aligned, load_bars

        s = entry.settings
        step = Timeframe.parse(entry.timeframe).us
        need = max(s.warmup, s.coint_window) + s.coint_every
        now = self.clock()
        end = now - now % step
        tracker = PairTracker(s)
        zs: deque[float | None] = deque(maxlen=SPARK)
        try:
            frame = load_aligned(self.store, [entry.a, entry.b], entry.timeframe,
                                 end - need * step, end, max_staleness_bars=0)  # fmt: skip
            if len(frame) < need and self._stored_bars(entry):
                # bar-only history that ends before now (e.g. imported klines): its last bars
                cache = {} if legs is None else legs
                tf = entry.timeframe
                for leg in (entry.a, entry.b):
                    if (leg, tf) not in cache:
                        cache[(leg, tf)] = load_bars(self.store, leg, tf, None, end)
                pair = {leg: cache[(leg, tf)] for leg in (entry.a, entry.b)}
                frame = align(pair, field="close", max_staleness=0).iloc[-need:]
        except (StatarbError, ValueError) as exc:
            log.debug("no history for book pair %s %s: %s", entry.target, entry.timeframe, exc)
            return tracker, []
        times = frame.index.as_unit("us").asi8.tolist()
        ya, xb = frame[entry.a].tolist(), frame[entry.b].tolist()
        for t, y, x in zip(times, ya, xb, strict=True):
            try:
                zs.append(_z(tracker.update(t, y, x)))
            except StatarbError:
                continue
            win = tracker.coint_window()
            if win is not None:
                tracker.set_coint_pvalue(eg_pvalue(*win), t)
        return tracker, list(zs)

    def _stored_bars(self, entry: BookEntry) -> bool:
        """Whether both legs have stored bars of the pair's timeframe, or of a finer one that
        divides it (resampled; cheap to read whole)."""
        infos = {i.symbol: i for i in self.store.symbols()}
        step = Timeframe.parse(entry.timeframe).us

        def has(sym: str) -> bool:
            stored = getattr(infos.get(sym), "bars", {})
            return any(step % Timeframe.parse(tf).us == 0 for tf in stored)

        return has(entry.a) and has(entry.b)

    # -- live ---------------------------------------------------------------------------------
    def on_bars(self, sym: str, tf: str, closed: BarBatch, recv_ts: int) -> None:
        """Closed bars of one symbol: update every pair that now has both legs of a bar."""
        group = self._by_leg.get((sym, tf))
        if not group or len(closed) == 0:
            return
        step = Timeframe.parse(tf).us
        for ot, close in zip(closed.open_time.tolist(), closed.close.tolist(), strict=True):
            for lv in list(group):
                if ot <= lv.last_time:
                    continue
                mine = lv.pending[sym]
                other = lv.pending[lv.entry.b if sym == lv.entry.a else lv.entry.a]
                if ot not in other:
                    mine[ot] = close
                    if len(mine) > MAX_PENDING:  # the other leg is silent: keep the newest
                        del mine[next(iter(mine))]
                    continue
                theirs = other.pop(ot)
                for old in [t for t in other if t < ot]:  # bars the other leg never matched
                    del other[old]
                ya, xb = (close, theirs) if sym == lv.entry.a else (theirs, close)
                self._update(lv, ot, ya, xb, step, recv_ts)

    def _update(self, lv: _Live, ot: int, ya: float, xb: float, step: int, recv_ts: int) -> None:
        try:
            snap = lv.tracker.update(ot, ya, xb)
        except StatarbError as exc:
            log.warning("book pair %s not updated: %s", lv.entry.target, exc)
            return
        lv.last_time = ot
        lv.spark.append(_z(snap))
        self.counts["updates"] += 1
        self._schedule_coint(lv)
        hub = self._hub()
        if hub.wants("book"):
            hub.publish("book", "row", self.row(lv))
        self._on_metrics(self._metrics(lv.entry, snap), ot + step, recv_ts)
        if recv_ts:
            self._on_latency(max(0, self.clock() - recv_ts))
        if self._on_update is not None:
            self._on_update(lv.entry, snap, ya, xb, ot + step, recv_ts)

    def _schedule_coint(self, lv: _Live) -> None:
        if lv.coint_task is not None and not lv.coint_task.done():
            return
        win = lv.tracker.coint_window()
        if win is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): run it here
            lv.tracker.set_coint_pvalue(eg_pvalue(*win), lv.last_time)
            return
        end = lv.last_time
        task = loop.run_in_executor(None, eg_pvalue, *win)
        lv.coint_task = task
        self.counts["coint_tests"] += 1

        def _done(fut: asyncio.Future[float], lv: _Live = lv, end: int = end) -> None:
            if not fut.cancelled() and fut.exception() is None and lv.entry.id in self._live:
                lv.tracker.set_coint_pvalue(fut.result(), end)

        task.add_done_callback(_done)

    def _metrics(self, entry: BookEntry, snap: PairSnapshot) -> dict[str, float]:
        out: dict[str, float] = {}
        for src, name in BOOK_METRICS.items():
            v = getattr(snap, src)
            if isinstance(v, float) and math.isfinite(v):
                out[metric_key(name, entry.target, entry.timeframe)] = v
        h = HEALTH_VALUE[snap.health]
        if math.isfinite(h):
            out[metric_key("health", entry.target, entry.timeframe)] = h
        return out

    def row(self, lv: _Live) -> dict[str, Any]:
        """A pair's row of the book: its entry, latest analytics and recent z-scores."""
        snap = lv.tracker.last
        return {**lv.head, "analytics": None if snap is None else snap.to_dict(),
                "zscores": list(lv.spark)}  # fmt: skip

    def rows(self) -> list[dict[str, Any]]:
        """Every row of the book, by id."""
        return [self.row(lv) for _, lv in sorted(self._live.items())]


def _z(snap: PairSnapshot) -> float | None:
    return snap.zscore if math.isfinite(snap.zscore) else None


__all__ = [
    "BOOK_METRICS",
    "BOOK_ONLY_METRICS",
    "BOOK_SETTINGS",
    "PAPER_METRICS",
    "BookEntry",
    "PairBook",
    "tracker_settings",
]
