"""Copy a whole store into another (SQLite to PostgreSQL, back, or any URL to any other).

Everything a store keeps is copied: every symbol's ticks, quotes and stored bars, the alert rules
and the alert trigger history. Reads and writes go in chunks, so memory stays bounded whatever the
store's size. The stores' writes are idempotent (ticks by trade id or content, quotes by update id
or content, bars by open time), so a copy that was interrupted or is run again adds only what the
target lacks. Alert rules and events keep their ids: a row the target holds under the same id is
the same rule (same creation time) or event (same rule and time) copied before and is updated
from the source; a different row under that id stops the copy before anything of that table is
written, as merging two stores' alert histories would mix up their ids.
Each chunk is one transaction of the target.

At the end the rows of every copied table are counted on both sides, with their first and last
times; :attr:`CopyReport.ok` tells whether they agree.
"""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from statarb.errors import InputError
from statarb.model import BarBatch, QuoteBatch, Timeframe
from statarb.store import _census
from statarb.store import _common as c
from statarb.store._census import Extent
from statarb.store.base import TickStore

#: ``progress(task, rows_done, rows_total)``; ``task`` names a table, e.g. ``"ticks BTCUSDT"``
Progress = Callable[[str, int, int], None]
Table = Literal["ticks", "quotes", "bars", "alert rules", "alert events"]
#: rows read per chunk by default (a tick chunk takes about 50 bytes a row in numpy)
DEFAULT_CHUNK = 500_000
_ALERT_CHUNK = 5_000
_ROWS_PER_INSERT = 250
_B = TypeVar("_B", QuoteBatch, BarBatch)


@dataclass(frozen=True, slots=True)
class Copied:
    """What was copied of one table: rows read from the source, of them ``new`` to the target."""

    table: Table
    symbol: str
    timeframe: str | None
    rows: int
    new: int
    seconds: float

    @property
    def label(self) -> str:
        """E.g. ``"ticks BTCUSDT"``, ``"bars BTCUSDT 1m"``, ``"alert rules"``."""
        return " ".join(p for p in (self.table, self.symbol, self.timeframe) if p)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {"table": self.table, "symbol": self.symbol or None,
                "timeframe": self.timeframe, "rows": self.rows, "new": self.new,
                "seconds": round(self.seconds, 3)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Check:
    """Rows (and first/last time) of one table on both sides after the copy."""

    table: Table
    symbol: str
    timeframe: str | None
    source: Extent
    target: Extent

    @property
    def ok(self) -> bool:
        """Whether the target holds as many rows as the source, over the same time span."""
        return self.source == self.target

    @property
    def label(self) -> str:
        """E.g. ``"ticks BTCUSDT"``."""
        return " ".join(p for p in (self.table, self.symbol, self.timeframe) if p)

    def describe(self) -> str:
        """One line: the counts and, when they differ, how."""
        a, b = self.source, self.target
        line = f"{self.label}: source {a.rows:,}, target {b.rows:,}"
        if self.ok:
            return f"{line}: ok"
        if b.rows < a.rows:
            return f"{line}: MISSING {a.rows - b.rows:,} rows"
        if b.rows > a.rows:
            return f"{line}: target has {b.rows - a.rows:,} rows more (it held data before?)"
        return f"{line}: same count but different time span"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {"table": self.table, "symbol": self.symbol or None,
                "timeframe": self.timeframe, "source": self.source.to_dict(),
                "target": self.target.to_dict(), "ok": self.ok}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CopyReport:
    """The outcome of :func:`copy_store`: what was copied and the verification counts."""

    source: str
    target: str
    copied: tuple[Copied, ...]
    checks: tuple[Check, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """Whether every verified table agrees (``True`` when nothing was verified)."""
        return all(k.ok for k in self.checks)

    @property
    def rows(self) -> int:
        """Rows read from the source, over all tables."""
        return sum(t.rows for t in self.copied)

    @property
    def new(self) -> int:
        """Rows the target did not hold before."""
        return sum(t.new for t in self.copied)

    def summary(self) -> str:
        """A human-readable report: copied tables, then the checks."""
        lines = [f"copied {self.source} -> {self.target} in {self.seconds:.1f} s: "
                 f"{self.rows:,} rows read, {self.new:,} new"]  # fmt: skip
        for t in self.copied:
            rate = t.rows / t.seconds if t.seconds > 0 else 0.0
            lines.append(f"  {t.label}: {t.rows:,} rows, {t.new:,} new ({rate:,.0f} rows/s)")
        if self.checks:
            bad = [k for k in self.checks if not k.ok]
            lines.append(
                f"verified {len(self.checks)} tables: "
                + ("all counts agree" if not bad else f"{len(bad)} DISAGREE")
            )
            lines += [f"  {k.describe()}" for k in self.checks]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {"source": self.source, "target": self.target, "ok": self.ok, "rows": self.rows,
                "new": self.new, "seconds": round(self.seconds, 3),
                "copied": [t.to_dict() for t in self.copied],
                "checks": [k.to_dict() for k in self.checks]}  # fmt: skip


def copy_store(
    src: TickStore,
    dst: TickStore,
    *,
    symbols: Collection[str] | None = None,
    start: int | None = None,
    end: int | None = None,
    alerts: bool = True,
    verify: bool = True,
    chunk: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy the contents of ``src`` into ``dst`` and verify the result.

    Parameters
    ----------
    src, dst
        Open stores (from :func:`statarb.store.open_store`); ``src`` may be read-only. They must
        be different stores.
    symbols
        Copy only these symbols (names as stored; case does not matter). Default: all.
    start, end
        Copy only ticks, quotes, bars and alert events with time in ``[start, end)`` (epoch µs;
        bars by open time). Alert rules are copied whole.
    alerts
        Also copy the alert rules and alert events.
    verify
        Count every copied table on both sides at the end (see :attr:`CopyReport.checks`).
    chunk
        Rows read and written at a time (memory use grows with it).
    progress
        Called as ``progress(task, rows_done, rows_total)`` once with 0 rows as each table
        starts and after every chunk.

    Returns
    -------
    CopyReport

    Raises
    ------
    InputError
        The stores are the same, a symbol is not in the source, or an option is invalid.
    StoreError
        Reading or writing failed; the chunks written so far stay, and a re-run completes them.

    Examples
    --------
    >>> from statarb.store import open_store
    >>> src, dst = open_store("sqlite:///:memory:"), open_store("sqlite:///:memory:")
    >>> copy_store(src, dst).ok
    True
    """
    t0 = time.perf_counter()
    _check_options(start, end, chunk)
    if _census.identity(src) == _census.identity(dst):
        raise InputError(f"source and target are the same store ({_redact(src.url)})")
    names = _select(src, symbols)
    copied: list[Copied] = []
    for name in names:
        copied += _copy_symbol(src, dst, name, start, end, chunk, progress)
    if alerts:
        copied += _copy_alerts(src, dst, start, end, progress)
    checks = (
        verify_copy(src, dst, symbols=names, start=start, end=end, alerts=alerts) if verify else ()
    )
    return CopyReport(
        _redact(src.url), _redact(dst.url), tuple(copied), checks, time.perf_counter() - t0
    )


def verify_copy(
    src: TickStore,
    dst: TickStore,
    *,
    symbols: Collection[str],
    start: int | None = None,
    end: int | None = None,
    alerts: bool = True,
) -> tuple[Check, ...]:
    """Count the rows (and first/last times) of each table of ``symbols`` on both sides.

    Ticks and quotes are compared where either side has some, bars per timeframe of either side,
    and (``alerts``) the alert rules and the alert events in ``[start, end)``.
    """
    checks: list[Check] = []
    for name in symbols:
        for table in ("ticks", "quotes"):
            a, b = (_census.table_extent(s, table, name, start, end) for s in (src, dst))
            if a.rows or b.rows or table == "ticks":
                checks.append(Check(table, name, None, a, b))
        bars_a, bars_b = (_census.bar_extents(s, name, start, end) for s in (src, dst))
        for tf in sorted({*bars_a, *bars_b}, key=lambda t: Timeframe.parse(t).us):
            checks.append(
                Check("bars", name, tf, bars_a.get(tf, Extent()), bars_b.get(tf, Extent()))
            )
    if alerts:
        (rules_a, events_a), (rules_b, events_b) = (
            _census.alert_extents(s, start, end) for s in (src, dst)
        )
        checks += [
            Check("alert rules", "", None, rules_a, rules_b),
            Check("alert events", "", None, events_a, events_b),
        ]
    return tuple(checks)


# -- market data ------------------------------------------------------------------------------
def _copy_symbol(
    src: TickStore,
    dst: TickStore,
    name: str,
    start: int | None,
    end: int | None,
    chunk: int,
    progress: Progress | None,
) -> list[Copied]:
    out: list[Copied] = []
    ticks = _census.table_extent(src, "ticks", name, start, end)
    if ticks.rows:
        batches = src.iter_ticks(name, start, end, chunk=chunk)
        out.append(_run("ticks", name, None, ticks, batches, dst.write_ticks, progress))
    quotes = _census.table_extent(src, "quotes", name, start, end)
    if quotes.rows:

        def read_quotes(lo: int, hi: int) -> QuoteBatch:
            return src.read_quotes(name, lo, hi)

        batches_q = _windows(read_quotes, quotes, chunk, None)
        out.append(_run("quotes", name, None, quotes, batches_q, dst.write_quotes, progress))
    held = _census.bar_extents(dst, name, start, end)  # bars are replaced, not skipped: count
    for tf, bars in _census.bar_extents(src, name, start, end).items():

        def read_bars(lo: int, hi: int, tf: str = tf) -> BarBatch:
            return src.read_bars(name, tf, lo, hi)

        # a window of chunk bar intervals cannot hold more than chunk bars
        widest = chunk * Timeframe.parse(tf).us
        batches_b = _windows(read_bars, bars, chunk, widest)
        done = _run("bars", name, tf, bars, batches_b, dst.write_bars, progress)
        now = _census.bar_extents(dst, name, start, end).get(tf, Extent()).rows
        new = now - held.get(tf, Extent()).rows
        out.append(dataclasses.replace(done, new=new))
    return out


def _run(
    table: Table,
    name: str,
    tf: str | None,
    extent: Extent,
    batches: Iterator[Any],
    write: Callable[[Any], int],
    progress: Progress | None,
) -> Copied:
    """Write every batch, reporting progress; what was copied."""
    t0 = time.perf_counter()
    label = " ".join(p for p in (table, name, tf) if p)
    rows = new = 0
    if progress is not None:
        progress(label, 0, extent.rows)
    for batch in batches:
        if not len(batch):
            continue
        new += write(batch)
        rows += len(batch)
        if progress is not None:
            progress(label, rows, extent.rows)
    return Copied(table, name, tf, rows, new, time.perf_counter() - t0)


def _windows(
    read: Callable[[int, int], _B], extent: Extent, chunk: int, widest: int | None
) -> Iterator[_B]:
    """Batches read over time windows ``[lo, hi)`` of about ``chunk`` rows each.

    The first width assumes evenly spread rows; each window's count then narrows or widens the
    next, so bursts and gaps keep the batches near ``chunk`` rows.
    """
    if extent.first is None or extent.last is None:
        return
    lo, hi = extent.first, extent.last + 1
    width = max(1, (hi - lo) * chunk // max(extent.rows, 1))
    while lo < hi:
        if widest is not None:
            width = min(width, widest)
        top = min(lo + width, hi)
        batch = read(lo, top)
        yield batch
        if len(batch) > chunk:
            width = max(1, width * chunk // len(batch))
        elif len(batch) < chunk // 2:
            width *= 2
        lo = top


# -- alerts -----------------------------------------------------------------------------------
_RULE_COLS = ("id", "body", "created_us", "updated_us")
_EVENT_COLS = ("id", "rule_id", "ts", "payload")
#: the columns (by position in the row) that make a row under some id the same rule or event
_SAME = {"alert_rules": (2,), "alert_events": (1, 2)}


def _copy_alerts(
    src: TickStore, dst: TickStore, start: int | None, end: int | None, progress: Progress | None
) -> list[Copied]:
    """Copy the rules (all) and the events (in ``[start, end)``), keeping their ids."""
    rules, events = _census.alert_extents(src, start, end)
    where, params = c.range_clause(start, end, "ts", "?")
    out = []
    for table, extent, cols, clause, args in (
        ("alert rules", rules, _RULE_COLS, "", ()),
        ("alert events", events, _EVENT_COLS, where, params),
    ):
        name = table.replace(" ", "_")
        pages = _pages(src, name, cols, clause, args)

        def write(
            rows: list[tuple[Any, ...]], name: str = name, cols: tuple[str, ...] = cols
        ) -> int:
            return _upsert(dst, name, cols, rows)

        out.append(_run(table, "", None, extent, pages, write, progress))  # type: ignore[arg-type]
    return out


def _pages(
    store: TickStore, table: str, cols: tuple[str, ...], where: str, params: tuple[int, ...]
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``table`` in id order, ``_ALERT_CHUNK`` at a time."""
    run = _census.executor(store)
    last = 0
    while True:
        rows, _ = run(
            f"SELECT {', '.join(cols)} FROM {table} WHERE id > ?{where} ORDER BY id LIMIT ?",
            (last, *params, _ALERT_CHUNK),
        )
        if not rows:
            return
        yield rows
        last = int(rows[-1][0])


def _upsert(
    store: TickStore, table: str, cols: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> int:
    """Insert ``rows`` by id, updating copies made before; how many ids were new.

    Raises :class:`InputError` when the target holds a different row under one of the ids.
    """
    run = _census.executor(store)
    ids = [int(r[0]) for r in rows]
    same = _SAME[table]
    one = "(" + ", ".join("?" * len(cols)) + ")"
    sets = ", ".join(f"{col} = excluded.{col}" for col in cols[1:])
    with store.transaction():
        held, _ = run(
            f"SELECT {', '.join(cols)} FROM {table} WHERE id >= ? AND id <= ?", (min(ids), max(ids))
        )
        mine = {int(r[0]): r for r in rows}
        for row in held:
            ours = mine.get(int(row[0]))
            if ours is not None and any(ours[i] != row[i] for i in same):
                what = table.replace("_", " ")[:-1]
                raise InputError(
                    f"the target already holds a different {what} with id {row[0]}: copy the "
                    "alerts into a store without any (or leave them out with --no-alerts)"
                )
        for i in range(0, len(rows), _ROWS_PER_INSERT):
            part = rows[i : i + _ROWS_PER_INSERT]
            run(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                f"{', '.join([one] * len(part))} ON CONFLICT (id) DO UPDATE SET {sets}",
                tuple(v for r in part for v in r),
            )
        store._sync_ids(table)  # type: ignore[attr-defined]
    return len(rows) - sum(1 for r in held if int(r[0]) in mine)


# -- checks -----------------------------------------------------------------------------------
def _check_options(start: int | None, end: int | None, chunk: int) -> None:
    c.check_range(start, end)
    if start is not None and end is not None and start >= end:
        raise InputError(f"start ({start}) must be before end ({end})")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise InputError(f"chunk must be a positive row count, got {chunk!r}")


def _select(src: TickStore, symbols: Collection[str] | None) -> list[str]:
    """The stored names of the wanted symbols (all by default), in order."""
    stored = [s.symbol for s in src.symbols()]
    if symbols is None:
        return stored
    if isinstance(symbols, str):
        raise TypeError("symbols must be a collection of names, not one str")
    by_upper = {s.upper(): s for s in stored}
    out: list[str] = []
    for want in symbols:
        name = by_upper.get(str(want).upper())
        if name is None:
            near = difflib.get_close_matches(str(want).upper(), list(by_upper), n=3)
            hint = f"did you mean {', '.join(near)}?" if near else f"it holds {len(stored)}"
            raise InputError(f"symbol {want!r} is not in the source store; {hint}")
        if name not in out:
            out.append(name)
    return out


def _redact(url: str) -> str:
    from statarb.store.postgres import redact

    return redact(url)


__all__ = [
    "DEFAULT_CHUNK",
    "Check",
    "Copied",
    "CopyReport",
    "Progress",
    "copy_store",
    "verify_copy",
]
