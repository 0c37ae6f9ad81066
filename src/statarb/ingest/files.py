"""File import: NDJSON, CSV, Binance data dumps and recorded Binance WebSocket frames.

Formats are told from the content (not the file name), plain, gzip or zip (one member).
:func:`read_file` streams a file in chunks in constant memory; :func:`import_files` stores files
into a :class:`~statarb.store.base.TickStore`, one transaction per file, and reports what it did.

Examples
--------
>>> from statarb.ingest.files import read_file  # doctest: +SKIP
>>> for chunk in read_file("BTCUSDT-aggTrades-2024-01-01.zip"):  # doctest: +SKIP
...     print({s: len(b) for s, b in chunk.ticks.items()})
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statarb.errors import FormatError, InputError
from statarb.ingest._chunk import FileChunk, RowError
from statarb.ingest._formats import (
    FormatInfo,
    detect_format,
    open_raw,
    symbol_from_name,
    timeframe_from_name,
)
from statarb.ingest._import_bars import ImportBars
from statarb.ingest._lines import read_lines
from statarb.ingest.report import MAX_ERRORS, FileReport, ImportReport

if TYPE_CHECKING:
    from statarb.store.base import TickStore

Progress = Callable[[int, int], None]


def _default_symbol(path: Path, info: FormatInfo, symbol: str | None) -> str | None:
    if symbol:
        sym = symbol.strip().upper()
        if not sym.isalnum():
            raise InputError(
                f"symbol {symbol!r} is not valid; use letters and digits, e.g. BTCUSDT"
            )
        return sym
    return symbol_from_name(path.name) or (symbol_from_name(info.member) if info.member else None)


def read_file(
    path: str | Path, *, symbol: str | None = None, chunk_rows: int = 500_000
) -> Iterator[FileChunk]:
    """Stream a file as parsed chunks, in constant memory.

    Parameters
    ----------
    path
        A file in any supported format (see :func:`detect_format`).
    symbol
        The symbol of rows that carry none (default: taken from the file name, e.g.
        ``BTCUSDT-aggTrades-2024-01-01.csv`` or ``btcusdt_20240808.gz``).
    chunk_rows
        Upper bound of rows per chunk.

    Yields
    ------
    FileChunk
        Ticks and quotes per symbol in file order, bars per (symbol, timeframe), rejected rows
        and counts of skipped kinds (depth updates, klines, ... in WebSocket recordings).

    Raises
    ------
    FormatError
        When the file is missing or its format is unknown.
    """
    if chunk_rows <= 0:
        raise InputError(f"chunk_rows must be positive, got {chunk_rows}")
    p = Path(path)
    info = detect_format(p)
    sym = _default_symbol(p, info, symbol)
    if info.is_csv:
        from statarb.ingest._csv import CsvReader

        tf = timeframe_from_name(p.name) or (
            timeframe_from_name(info.member) if info.member else None
        )
        yield from CsvReader(
            p, info, source=p.name, symbol=sym, timeframe=tf, chunk_rows=chunk_rows
        )
        return
    with open_raw(p) as (stream, raw, _comp, _member):
        yield from read_lines(
            stream, raw, source=p.name, symbol=sym, chunk_rows=chunk_rows, size=p.stat().st_size
        )


def _bar_count(store: TickStore, symbol: str, timeframe: str) -> int:
    """Stored bars of ``symbol`` and ``timeframe`` (from the store's per-symbol counts)."""
    for info in store.symbols():
        if info.symbol == symbol:
            return int(info.bars.get(timeframe, 0))
    return 0


class _FileTally:
    """Running counts of one file's import."""

    def __init__(self, path: Path, info: FormatInfo) -> None:
        self.path, self.info = path, info
        self.rows = self.ticks = self.quotes = self.bars = self.parsed = self.rejected = 0
        self.errors: list[RowError] = []
        self.skipped: dict[str, int] = {}
        self.symbols: set[str] = set()

    def add(self, chunk: FileChunk, store: TickStore, bars: ImportBars) -> None:
        for batch in chunk.ticks.values():
            new = store.write_ticks(batch)
            bars.add(batch, new)
            self.ticks += new
            self.parsed += len(batch)
            self.symbols.add(batch.symbol)
        for qb in chunk.quotes.values():
            self.quotes += store.write_quotes(qb)
            self.parsed += len(qb)
            self.symbols.add(qb.symbol)
        for bb in chunk.bars.values():
            # write_bars inserts or replaces: only bars the store did not hold are new, the
            # rest are duplicates of a previous import (the stored counts tell them apart)
            before = _bar_count(store, bb.symbol, bb.timeframe)
            store.write_bars(bb)
            self.bars += _bar_count(store, bb.symbol, bb.timeframe) - before
            self.parsed += len(bb)
            self.symbols.add(bb.symbol)
        self.rows += chunk.rows
        self.rejected += len(chunk.errors)
        room = MAX_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(chunk.errors[:room])
        for k, v in chunk.skipped.items():
            self.skipped[k] = self.skipped.get(k, 0) + v

    def report(self) -> FileReport:
        return FileReport(
            path=str(self.path),
            format=self.info.name,
            rows=self.rows,
            ticks=self.ticks,
            quotes=self.quotes,
            bars=self.bars,
            duplicates=max(0, self.parsed - self.ticks - self.quotes - self.bars),
            rejected=self.rejected,
            errors=self.errors,
            skipped=self.skipped,
            symbols=sorted(self.symbols),
        )


def _prefetch(chunks: Iterator[FileChunk], depth: int = 2) -> Iterator[FileChunk]:
    """Parse the next chunks in a thread while the caller stores the current one.

    pyarrow parses without the GIL and SQLite steps release it, so on two cores parsing
    hides partly behind writing. Reader errors are re-raised in the caller; when the caller
    stops (an error, Ctrl-C) the reader thread stops after its current block.
    """
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for c in chunks:
                if not put(("chunk", c)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed over to the caller, which raises it
            put(("error", exc))

    thread = threading.Thread(target=work, name="statarb-import-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def import_files(
    paths: Sequence[str | Path],
    store: TickStore,
    *,
    symbol: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    bar_timeframes: Sequence[str] = (),
) -> ImportReport:
    """Import files into a store, one transaction per file.

    Parameters
    ----------
    paths
        Files in any supported format; all are checked (exist, known format) before any is
        imported.
    store
        Where to write; rows already stored are skipped (idempotent re-import).
    symbol
        Symbol for rows that carry none (default: from each file name).
    strict
        Raise on the first bad row; nothing of that file is stored (files before it stay).
        Otherwise bad rows are skipped, counted and reported, good rows stored.
    progress
        Called as ``progress(bytes_done, bytes_total)`` over all files (sizes on disk).
    bar_timeframes
        Timeframes whose closed bars are stored beside the imported ticks (in the same
        transaction), so that history reads them instead of resampling the ticks; e.g. the
        live timeframes of the settings (``statarb import`` passes those).

    Returns
    -------
    ImportReport

    Raises
    ------
    FormatError
        A file is missing or of unknown format, or (``strict``) a row is bad; the message names
        the file and line.
    """
    files = [Path(p) for p in paths]
    infos = [detect_format(p) for p in files]
    for p, info in zip(files, infos, strict=True):
        if info.is_csv:
            from statarb.ingest._csv import check_symbol

            check_symbol(info, _default_symbol(p, info, symbol), p.name)
    total = sum(p.stat().st_size for p in files)
    done = 0
    reports: list[FileReport] = []
    t0 = time.perf_counter()
    for path, info in zip(files, infos, strict=True):
        tally = _FileTally(path, info)
        with store.transaction():
            bars = ImportBars(store, bar_timeframes)
            for chunk in _prefetch(read_file(path, symbol=symbol)):
                if strict and chunk.errors:
                    e = chunk.errors[0]
                    raise FormatError(f"{e.reason} (row: {e.text!r})", source=e.source, line=e.line)
                tally.add(chunk, store, bars)
                done += chunk.bytes_read
                if progress is not None:
                    progress(min(done, total), total)
            bars.finish()
        reports.append(tally.report())
    return ImportReport(reports, time.perf_counter() - t0)


__all__ = [
    "FileChunk",
    "FileReport",
    "FormatError",
    "FormatInfo",
    "ImportReport",
    "RowError",
    "detect_format",
    "import_files",
    "read_file",
]
