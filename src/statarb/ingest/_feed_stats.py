"""Counters of the live feed as a frozen snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


def percentile_ms(sorted_us: Sequence[int], q: float) -> float | None:
    """The ``q`` quantile (nearest rank) of sorted µs values, in ms; ``None`` when empty."""
    if not sorted_us:
        return None
    idx = min(len(sorted_us) - 1, max(0, round(q * (len(sorted_us) - 1))))
    return sorted_us[idx] / 1000.0


@dataclass(frozen=True, slots=True)
class FeedStats:
    """A snapshot of :class:`~statarb.ingest.binance.BinanceFeed` counters.

    Attributes
    ----------
    messages
        Frames received (data and replies).
    ticks, quotes, marks
        Events emitted (after dedupe), trades including backfilled ones.
    gaps
        Id gaps found on the live stream.
    backfilled
        Trades fetched over REST and emitted.
    duplicates
        Trades dropped because their id was already emitted (reconnect/rotation overlap).
    lost
        Trades that REST could not provide (beyond its history window or after errors).
    reconnects, rotations, watchdog_trips
        Connection events summed over connections.
    malformed
        Frames refused and logged: invalid JSON, fields of the wrong type, a price that is not
        positive and finite (never emitted; a refused trade is backfilled over REST).
    queue_full
        Times the output queue was full and the feed had to wait (backpressure).
    last_message_ts
        Receipt time (epoch µs) of the newest frame.
    latency_p50_ms, latency_p99_ms
        Exchange-time-to-receipt latency over the last 4096 events.
    connected
        Every connection is open.
    last_ids
        Highest emitted trade id per symbol.
    """

    messages: int
    ticks: int
    quotes: int
    marks: int
    gaps: int
    backfilled: int
    duplicates: int
    lost: int
    reconnects: int
    rotations: int
    watchdog_trips: int
    malformed: int
    queue_full: int
    last_message_ts: int | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    connected: bool
    last_ids: dict[str, int | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)

    def summary(self) -> str:
        """One line for a status display."""
        lat = "-" if self.latency_p50_ms is None else f"{self.latency_p50_ms:.0f}ms"
        return (
            f"{'up' if self.connected else 'DOWN'} msgs={self.messages} ticks={self.ticks} "
            f"quotes={self.quotes} gaps={self.gaps} backfilled={self.backfilled} "
            f"dups={self.duplicates} reconnects={self.reconnects} lag={lat}"
        )


__all__ = ["FeedStats", "percentile_ms"]
