"""What the file readers yield (:class:`FileChunk`, :class:`RowError`) and the chunk builder."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from statarb.model import BarBatch, QuoteBatch, TickBatch

#: how many characters of a rejected row an error keeps
EXCERPT_CHARS = 160


@dataclass(frozen=True, slots=True)
class RowError:
    """One rejected row.

    Attributes
    ----------
    source
        The file name.
    line
        1-based line number in the (decompressed) file.
    reason
        What is wrong with the row and what was expected.
    text
        An excerpt of the row as read.
    """

    source: str
    line: int
    reason: str
    text: str = ""

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {"source": self.source, "line": self.line, "reason": self.reason, "text": self.text}


@dataclass(frozen=True)
class FileChunk:
    """One piece of a file, parsed.

    Attributes
    ----------
    ticks
        Trades per symbol, in file order.
    quotes
        Best bid/ask updates per symbol, in file order.
    bars
        Bars per (symbol, timeframe).
    errors
        Rows of this chunk that were rejected.
    skipped
        Rows of other kinds counted and not parsed, by kind (e.g. ``{"depthUpdate": 6551}``).
    bytes_read
        Bytes of the file on disk (compressed size for .gz/.zip) consumed by this chunk.
    """

    ticks: dict[str, TickBatch] = field(default_factory=dict)
    quotes: dict[str, QuoteBatch] = field(default_factory=dict)
    bars: dict[tuple[str, str], BarBatch] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0

    @property
    def rows(self) -> int:
        """Rows parsed into ticks, quotes or bars plus rows rejected (skipped kinds not counted)."""
        return (
            sum(len(b) for b in self.ticks.values())
            + sum(len(b) for b in self.quotes.values())
            + sum(len(b) for b in self.bars.values())
            + len(self.errors)
        )


#: latest accepted timestamp (year 3000), epoch µs: later values are unit mix-ups or garbage
MAX_TS_US = 32_503_680_000_000_000
_FACTOR_TO_US = {"s": 1e6, "ms": 1e3, "us": 1.0, "ns": 1e-3}


def valid_ts(ts: int) -> bool:
    """A usable timestamp: after 1970 and before the year 3000 (epoch µs)."""
    return 0 < ts <= MAX_TS_US


def epoch_us_checked(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Epoch numbers (unit told by magnitude of the first usable value) to µs, and a validity mask.

    Values that are not finite, not positive or beyond :data:`MAX_TS_US` in the chosen unit are
    marked invalid (their µs value is meaningless) instead of overflowing.
    """
    from statarb.timeutil import epoch_array_to_us, epoch_unit

    f = raw.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.isfinite(f) & (f > 0) & (f < 1e20)
    if not ok.any():
        return np.zeros(len(raw), dtype=np.int64), ok
    first = raw[int(np.argmax(ok))]
    factor = _FACTOR_TO_US[epoch_unit(float(first))]
    ok &= f * factor <= MAX_TS_US
    safe = np.where(ok, raw, first)
    ts = epoch_array_to_us(np.concatenate([raw[:0], [first], safe]))[1:]
    ok &= ts > 0
    return ts, ok


_SYMBOL_RE = re.compile(r"[A-Z0-9][A-Z0-9_.\-]{0,39}")


def valid_symbol(symbol: str) -> bool:
    """A usable symbol: 1-40 upper-case ASCII letters, digits and ``_.-``, e.g. ``BTCUSDT``."""
    return _SYMBOL_RE.fullmatch(symbol) is not None


def valid_price(p: float) -> bool:
    """A usable price: finite and positive."""
    return p > 0.0 and math.isfinite(p)


def valid_size(q: float) -> bool:
    """A usable size: finite and not negative."""
    return q >= 0.0 and math.isfinite(q)


class ChunkBuilder:
    """Collects parsed rows column-wise until a chunk is flushed (the slow, row-by-row paths)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tick_source = f"file:{source}"
        self.rows = 0
        self._ticks: dict[str, tuple[list[Any], ...]] = {}
        self._quotes: dict[str, tuple[list[Any], ...]] = {}
        self._bars: dict[tuple[str, str], tuple[list[Any], ...]] = {}
        self.errors: list[RowError] = []
        self.skipped: dict[str, int] = {}

    def tick(
        self, symbol: str, ts: int, price: float, size: float, side: int, tid: int, recv: int
    ) -> None:
        """Add one trade."""
        cols = self._ticks.get(symbol)
        if cols is None:
            cols = self._ticks[symbol] = ([], [], [], [], [], [])
        cols[0].append(ts)
        cols[1].append(price)
        cols[2].append(size)
        cols[3].append(side)
        cols[4].append(tid)
        cols[5].append(recv)
        self.rows += 1

    def quote(self, symbol: str, row: tuple[int, float, float, float, float, int]) -> None:
        """Add one quote ``(ts, bid, bid_size, ask, ask_size, update_id)``."""
        cols = self._quotes.get(symbol)
        if cols is None:
            cols = self._quotes[symbol] = ([], [], [], [], [], [])
        ts, bid, bid_size, ask, ask_size, uid = row
        cols[0].append(ts)
        cols[1].append(bid)
        cols[2].append(bid_size)
        cols[3].append(ask)
        cols[4].append(ask_size)
        cols[5].append(uid)
        self.rows += 1

    def bar(self, key: tuple[str, str], row: tuple[Any, ...]) -> None:
        """Add one bar ``(open_time, o, h, l, c, volume, notional, trades, taker_buy_volume)``."""
        cols = self._bars.get(key)
        if cols is None:
            cols = self._bars[key] = tuple([] for _ in range(9))
        for c, v in zip(cols, row, strict=True):
            c.append(v)
        self.rows += 1

    def error(self, line: int, reason: str, text: str | bytes) -> None:
        """Reject one row."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.errors.append(RowError(self.source, line, reason, text.strip()[:EXCERPT_CHARS]))
        self.rows += 1

    def skip(self, kind: str) -> None:
        """Count one row of a kind that is not imported."""
        self.skipped[kind] = self.skipped.get(kind, 0) + 1

    def flush(self, bytes_read: int) -> FileChunk:
        """Return what was collected as a :class:`FileChunk` and start afresh."""
        ticks = {
            s: TickBatch(
                s,
                np.array(c[0], np.int64),
                np.array(c[1], np.float64),
                np.array(c[2], np.float64),
                np.array(c[3], np.int8),
                np.array(c[4], np.int64),
                np.array(c[5], np.int64),
                source=self.tick_source,
            )
            for s, c in self._ticks.items()
        }
        quotes = {
            s: QuoteBatch(
                s,
                np.array(c[0], np.int64),
                np.array(c[1], np.float64),
                np.array(c[2], np.float64),
                np.array(c[3], np.float64),
                np.array(c[4], np.float64),
                np.array(c[5], np.int64),
                source=self.tick_source,
            )
            for s, c in self._quotes.items()
        }
        bars = {k: BarBatch(k[0], k[1], *(np.array(x) for x in c)) for k, c in self._bars.items()}
        chunk = FileChunk(ticks, quotes, bars, self.errors, self.skipped, bytes_read)
        self.__init__(self.source)  # type: ignore[misc]
        return chunk
