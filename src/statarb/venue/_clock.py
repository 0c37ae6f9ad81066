"""The venue's clock: recording time (unrolled over loop passes) <-> the time the venue presents.

Inside, every event has an *unrolled* recording time ``u = t + pass * duration`` (µs). The venue
presents it either shifted to the wall clock (``"now"``, the default: the first event of the
recording is stamped with the wall time at which playback starts, and presented time advances at
wall-clock pace whatever the replay speed) or as recorded (``"original"``). ``serverTime`` and the
REST time windows use the same clock, so a window built from server time finds the data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

ClockMode = Literal["now", "original"]


def wall_us() -> int:
    """Wall-clock time in epoch µs."""
    return time.time_ns() // 1000


@dataclass
class Clock:
    """Map unrolled recording time to presented time and back.

    Parameters
    ----------
    mode
        ``"now"`` (shifted to the wall clock) or ``"original"`` (the recording's own times).
    rec0
        First event time of the recording (µs).
    speed
        Replay speed factor; ``None`` (as fast as possible) presents recording spacing (1x).
    """

    mode: ClockMode
    rec0: int
    speed: float | None = 1.0
    anchor: int = field(default_factory=wall_us)
    _mono0: float | None = None

    def start(self) -> None:
        """Playback starts now: recording time ``rec0`` is presented as this instant."""
        self.anchor = wall_us()
        self._mono0 = time.monotonic()

    @property
    def _k(self) -> float:
        return 1.0 if self.speed is None else 1.0 / self.speed

    def present_us(self, u: int) -> int:
        """Presented time (µs) of unrolled recording time ``u``."""
        if self.mode == "original":
            return u
        return self.anchor + int((u - self.rec0) * self._k)

    def unrolled_us(self, presented: int) -> int:
        """Unrolled recording time (µs) of presented time ``presented`` (inverse of the above)."""
        if self.mode == "original":
            return presented
        return self.rec0 + int((presented - self.anchor) / self._k)

    def server_ms(self) -> int:
        """``serverTime``: the wall clock (``"now"``) or the recording's clock as it plays."""
        if self.mode == "now":
            return wall_us() // 1000
        if self._mono0 is None:
            return self.rec0 // 1000
        played = (time.monotonic() - self._mono0) * 1e6 / self._k
        return (self.rec0 + int(played)) // 1000


__all__ = ["Clock", "ClockMode", "wall_us"]
